// Helpers shared by the sim/ tests: run a workload once under a named
// strategy, or wrap it as a RunFn for the explorer.
#pragma once

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

inline RunResult run_once(const Setup& setup, const std::string& strategy = "random",
                          std::uint64_t seed = 1, bool keep_trace = false) {
  StrategyParams p;
  p.seed = seed;
  auto st = make_strategy(strategy, p);
  st->begin_run(0, seed);
  MachineOptions o;
  o.seed = seed;
  o.keep_trace = keep_trace;
  Machine m(o, *st);
  setup(m);
  return m.run();
}

}  // namespace vfsim::sim::testing
