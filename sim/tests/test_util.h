// Helpers shared by the sim/ tests (and the replay check by every layer's
// tests): run a workload once under a named strategy, wrap it as a RunFn for
// the explorer, check that a recorded run replays bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "sim/explore.h"
#include "sim/machine.h"
#include "sim/strategy.h"

namespace vfsim::sim::testing {

// Sets up lwps on a fresh machine; the RunFn runs it.
using Setup = std::function<void(Machine&)>;

inline RunFn as_run_fn(Setup setup) {
  return [setup](const MachineOptions& o, Strategy& s) {
    Machine m(o, s);
    setup(m);
    return m.run();
  };
}

// Sets up lwps on a fresh machine and returns what must outlive the run but
// go before the machine (a boot::World, say): it is released right after
// Machine::run returned.
using KeepingSetup = std::function<std::shared_ptr<void>(Machine&)>;

inline RunResult run_once_keeping(const KeepingSetup& setup, const std::string& strategy = "random",
                                  std::uint64_t seed = 1, bool keep_trace = false) {
  StrategyParams p;
  p.seed = seed;
  auto st = make_strategy(strategy, p);
  st->begin_run(0, seed);
  MachineOptions o;
  o.seed = seed;
  o.keep_trace = keep_trace;
  Machine m(o, *st);
  std::shared_ptr<void> kept = setup(m);
  RunResult r = m.run();
  kept.reset();
  return r;
}

inline RunResult run_once(const Setup& setup, const std::string& strategy = "random",
                          std::uint64_t seed = 1, bool keep_trace = false) {
  return run_once_keeping(
      [&setup](Machine& m) {
        setup(m);
        return std::shared_ptr<void>();
      },
      strategy, seed, keep_trace);
}

// Replays `first`'s decisions with its seed on machine options `mo` and
// expects the same run: no divergence, outcome `expected` (what `first`
// ended as) and the same trace hash. `what` labels the failures.
inline void expect_replays(const RunFn& fn, MachineOptions mo, const RunResult& first,
                           Outcome expected, const std::string& what = "") {
  mo.seed = first.seed;
  bool diverged = true;
  const RunResult again = replay(fn, mo, first.schedule, &diverged);
  EXPECT_FALSE(diverged) << what;
  EXPECT_EQ(first.outcome, expected) << what << ": " << first.message;
  EXPECT_EQ(again.outcome, expected) << what << ": " << again.message;
  EXPECT_EQ(again.trace_hash, first.trace_hash) << what;
}

}  // namespace vfsim::sim::testing
