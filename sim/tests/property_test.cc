// Property tests: for any seed, strategy and small workload shape, the
// machine ends in a typed outcome without crashing, replays identically, and
// a deadlock report always names a cycle.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "workloads.h"

namespace vfsim::sim {
namespace {

using namespace vfsim::sim::testing;

// Random lwps doing random lock/unlock/sleep/sched_point sequences over a few
// mutexes: every run ends in pass, deadlock, or hang, and replays identically.
RC_GTEST_PROP(SimProperty, RandomWorkloadsEndInTypedOutcome,
              (std::uint64_t seed, std::uint8_t strategy_pick)) {
  const std::string strategy = strategy_pick % 2 == 0 ? "random" : "pct";
  const auto nlwps = *rc::gen::inRange(1, 4);
  const auto nlocks = *rc::gen::inRange(1, 3);
  std::vector<std::vector<int>> programs;
  for (int i = 0; i < nlwps; ++i)
    programs.push_back(
        *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 8), rc::gen::inRange(0, 8)));
  auto setup = [&](Machine& m) {
    auto locks = std::make_shared<std::vector<std::unique_ptr<Mutex>>>();
    for (int k = 0; k < nlocks; ++k)
      locks->push_back(std::make_unique<Mutex>(m, "L" + std::to_string(k)));
    for (int i = 0; i < nlwps; ++i) {
      m.spawn("t" + std::to_string(i), [&m, locks, prog = programs[static_cast<std::size_t>(i)]] {
        std::vector<bool> held(locks->size(), false);
        for (int op : prog) {
          const std::size_t k = static_cast<std::size_t>(op) % locks->size();
          if (op < 4) {
            if (!held[k]) {
              (*locks)[k]->lock();
              held[k] = true;
            }
          } else if (op < 6) {
            if (held[k]) {
              (*locks)[k]->unlock();
              held[k] = false;
            }
          } else if (op == 6) {
            m.sleep_for(kMillisecond);
          } else {
            m.sched_point("p");
          }
        }
        for (std::size_t k = 0; k < held.size(); ++k)
          if (held[k]) (*locks)[k]->unlock();
      });
    }
  };
  auto r = run_once(setup, strategy, seed);
  RC_ASSERT(r.outcome == Outcome::pass || r.outcome == Outcome::deadlock);
  if (r.outcome == Outcome::deadlock)
    RC_ASSERT(r.message.find("waits for mutex") != std::string::npos);
  MachineOptions mo;
  mo.seed = seed;
  auto again = replay(as_run_fn(setup), mo, r.schedule);
  RC_ASSERT(again.trace_hash == r.trace_hash);
}

// The built-in buggy workloads always end in one of their known outcomes.
RC_GTEST_PROP(SimProperty, KnownWorkloadsTypedOutcome, (std::uint64_t seed)) {
  auto a = run_once(lost_update, "random", seed);
  RC_ASSERT(a.outcome == Outcome::pass || a.outcome == Outcome::expectation);
  auto b = run_once(lock_order, "pct", seed);
  RC_ASSERT(b.outcome == Outcome::pass || b.outcome == Outcome::deadlock);
  auto c = run_once(locked_counter, "random", seed);
  RC_ASSERT(c.outcome == Outcome::pass);
}

}  // namespace
}  // namespace vfsim::sim
