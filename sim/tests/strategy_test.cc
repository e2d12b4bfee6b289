// Tests of the strategies: random and pct find the lost update, pct with
// depth 2 in fewer schedules than random (median over 100 seeds), dfs finds it
// and reports exhaustion on a bug-free workload, replay reproduces a run, and
// a schedule with no preemption never fails.
#include <gtest/gtest.h>

#include <algorithm>

#include "workloads.h"

namespace vfsim::sim {
namespace {

using namespace vfsim::sim::testing;

std::uint64_t schedules_to_failure(const std::string& strategy, std::uint64_t seed,
                                   std::uint64_t limit) {
  ExploreOptions o;
  o.strategy = strategy;
  o.seed = seed;
  o.schedules = limit;
  o.depth = 2;
  auto s = explore(as_run_fn(lost_update), o);
  return s.first_failure_index ? *s.first_failure_index + 1 : limit + 1;
}

std::uint64_t median(std::vector<std::uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// pct (depth 2) needs fewer schedules than random to find the lost update,
// comparing medians over 100 seeds each.
TEST(Strategy, PctBeatsRandomOnLostUpdate) {
  std::vector<std::uint64_t> pct, rnd;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    pct.push_back(schedules_to_failure("pct", seed, 500));
    rnd.push_back(schedules_to_failure("random", seed, 500));
  }
  const auto mp = median(pct), mr = median(rnd);
  RecordProperty("pct_median", static_cast<int>(mp));
  RecordProperty("random_median", static_cast<int>(mr));
  std::printf("schedules to first failure, median of 100 seeds: pct %llu, random %llu\n",
              static_cast<unsigned long long>(mp), static_cast<unsigned long long>(mr));
  EXPECT_LE(mp, 500u);
  EXPECT_LE(mr, 500u);
  EXPECT_LT(mp, mr);
}

// The schedule without any preemption (replay of an empty list) passes.
TEST(Strategy, NoPreemptionNeverFails) {
  auto r = replay(as_run_fn(lost_update), MachineOptions{}, {});
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(r.preemptions, 0u);
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = 0;
  o.schedules = 100000;
  auto s = explore(as_run_fn(lost_update), o);
  EXPECT_EQ(s.outcome, Outcome::pass);
  EXPECT_TRUE(s.exhausted);
}

// dfs with a preemption bound of 2 finds the lost update.
TEST(Strategy, DfsFindsLostUpdate) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = 2;
  o.schedules = 100000;
  auto s = explore(as_run_fn(lost_update), o);
  EXPECT_EQ(s.outcome, Outcome::expectation);
  EXPECT_FALSE(s.exhausted);
}

// dfs explores every schedule of the locked counter, finds nothing, and says
// the space is exhausted.
TEST(Strategy, DfsReportsExhaustion) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = 3;
  o.schedules = 1000000;
  auto s = explore(as_run_fn(locked_counter), o);
  EXPECT_EQ(s.outcome, Outcome::pass);
  EXPECT_TRUE(s.exhausted);
  EXPECT_GT(s.schedules_explored, 10u);
  EXPECT_LT(s.schedules_explored, 1000000u);
}

// dfs visits distinct schedules: no two runs of the exhaustive search repeat.
TEST(Strategy, DfsSchedulesAreDistinct) {
  StrategyParams p;
  p.preemption_bound = 2;
  auto st = make_strategy("dfs", p);
  std::set<Schedule> seen;
  for (std::uint64_t i = 0; i < 100000 && st->begin_run(i, 1); ++i) {
    MachineOptions o;
    Machine m(o, *st);
    locked_counter(m);
    auto r = m.run();
    ASSERT_TRUE(seen.insert(r.schedule).second) << "schedule repeated at run " << i;
  }
  EXPECT_GT(seen.size(), 10u);
}

// Replaying a failing random run's schedule gives the same outcome and hash.
TEST(Strategy, ReplayReproduces) {
  ExploreOptions o;
  o.strategy = "random";
  o.schedules = 1000;
  auto s = explore(as_run_fn(lost_update), o);
  ASSERT_TRUE(s.first_failure);
  testing::expect_replays(as_run_fn(lost_update), MachineOptions{}, *s.first_failure,
                          s.first_failure->outcome);
}

// Unknown strategy names are refused.
TEST(Strategy, UnknownName) { EXPECT_EQ(make_strategy("bogus", {}), nullptr); }

}  // namespace
}  // namespace vfsim::sim
