// The cost of one scheduling decision, against its references, in one run:
//  - BM_RawContextSwitch: a Boost.Context fiber switch (one way);
//  - BM_FiberYield: a Boost.Fiber yield under the stock round-robin scheduler;
//  - BM_VfsimDecision/<strategy>: one vfsim scheduling point (sched_point)
//    under each strategy, two lwps, the strategy deciding at every point.
// Every benchmark reports items_per_second where an item is one switch, one
// yield or one scheduling point, so the ns per item compare directly.
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <boost/fiber/all.hpp>
#include <string>

#include "sim/machine.h"
#include "sim/strategy.h"

namespace {

constexpr int kPerRun = 1000;  // scheduling points per lwp per iteration

void BM_RawContextSwitch(benchmark::State& state) {
  namespace ctx = boost::context;
  bool stop = false;
  ctx::fiber other{[&stop](ctx::fiber&& caller) {
    while (!stop) caller = std::move(caller).resume();
    return std::move(caller);
  }};
  for (auto _ : state) {
    for (int i = 0; i < kPerRun; ++i) other = std::move(other).resume();
  }
  stop = true;
  other = std::move(other).resume();
  state.SetItemsProcessed(state.iterations() * kPerRun * 2);  // there and back
}
BENCHMARK(BM_RawContextSwitch);

void BM_FiberYield(benchmark::State& state) {
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
  for (auto _ : state) {
    boost::fibers::fiber a([] {
      for (int i = 0; i < kPerRun; ++i) boost::this_fiber::yield();
    });
    boost::fibers::fiber b([] {
      for (int i = 0; i < kPerRun; ++i) boost::this_fiber::yield();
    });
    a.join();
    b.join();
  }
  state.SetItemsProcessed(state.iterations() * kPerRun * 2);
}
BENCHMARK(BM_FiberYield);

void BM_VfsimDecision(benchmark::State& state, const char* strategy_name) {
  using namespace vfsim::sim;
  StackPool stacks(default_stack_bytes());
  StrategyParams params;
  params.expected_steps = 2 * kPerRun;
  if (std::string(strategy_name) == "replay-alternating") {
    // Worst case: a recorded schedule that switches lwps at every decision.
    strategy_name = "replay";
    for (int i = 0; i < 2 * kPerRun; ++i) params.schedule.push_back(static_cast<LwpId>(1 - i % 2));
  }
  auto strategy = make_strategy(strategy_name, params);
  std::uint64_t steps = 0, run = 0, preemptions = 0;
  for (auto _ : state) {
    if (!strategy->begin_run(run, run + 1)) {
      strategy = make_strategy(strategy_name, params);
      strategy->begin_run(0, run + 1);
    }
    ++run;
    MachineOptions o;
    o.seed = run;
    o.stacks = &stacks;
    Machine m(o, *strategy);
    for (int l = 0; l < 2; ++l) {
      m.spawn("t" + std::to_string(l), [&m] {
        for (int i = 0; i < kPerRun; ++i) m.sched_point("bench");
      });
    }
    auto r = m.run();
    steps += r.steps;
    preemptions += r.preemptions;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(steps));
  state.counters["switch_fraction"] =
      static_cast<double>(preemptions) / static_cast<double>(steps ? steps : 1);
}
BENCHMARK_CAPTURE(BM_VfsimDecision, random, "random");
BENCHMARK_CAPTURE(BM_VfsimDecision, pct, "pct");
BENCHMARK_CAPTURE(BM_VfsimDecision, dfs, "dfs");
BENCHMARK_CAPTURE(BM_VfsimDecision, replay, "replay");
BENCHMARK_CAPTURE(BM_VfsimDecision, replay_alternating, "replay-alternating");

}  // namespace

BENCHMARK_MAIN();
