// scenarios/lookup_reclaim_race.json under the explorer: a LOOKUP reply that
// names a cookie whose RECLAIM is in flight on another lwp. With lookup
// counts (puffs.reclaim_nlookup, the default) no explored schedule fails;
// with the historic RECLAIM the explorer finds the stat(2) that fails with
// EIO on the cookie the server forgot, and replaying that schedule gives the
// same outcome and trace hash.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "scenarios/loader.h"
#include "scenarios/modules.h"
#include "scenarios/runner.h"
#include "sim/explore.h"
#include "sim/tests/test_util.h"

namespace vfsim::puffs {
namespace {

namespace sc = scenarios;

std::shared_ptr<const sc::Scenario> load(std::vector<sc::Override> sets = {}) {
  return std::make_shared<const sc::Scenario>(
      sc::load_scenario(std::string(VFSIM_SOURCE_DIR) + "/scenarios/lookup_reclaim_race.json",
                        sc::default_catalog(), std::move(sets)));
}

sim::ExploreOptions options(const sc::Scenario& s, const char* strategy) {
  sim::ExploreOptions eo;
  eo.strategy = strategy;
  eo.schedules = s.explore.schedules;
  eo.seed = s.explore.seed;
  eo.depth = s.explore.depth;
  eo.machine = sc::machine_options(s, false);
  return eo;
}

// Shows: with lookup counts every one of the file's 10,000 schedules passes,
// under pct (the file's strategy) and random alike, and sampled schedules
// replay to the same trace. (Before the vcache freed a reclaimed vnode ahead
// of the wakeup, these runs reached a use-after-free in Vcache::reclaim.)
TEST(PuffsLookupReclaimRace, LookupCountsNeverFail) {
  auto s = load();
  for (const char* strategy : {"pct", "random"}) {
    sim::ExploreOptions eo = options(*s, strategy);
    eo.check_determinism = true;
    eo.determinism_sample = 500;
    auto sum = sim::explore(sc::make_run_fn(s), eo);
    ASSERT_EQ(sum.outcome, sim::Outcome::pass)
        << strategy << ": " << (sum.first_failure ? sum.first_failure->message : "");
    EXPECT_EQ(sum.schedules_explored, eo.schedules) << strategy;
    EXPECT_TRUE(sum.determinism_errors.empty()) << sum.determinism_errors.front();
  }
}

// Shows: without lookup counts the explorer finds a stat(2) of an existing
// file failing with EIO, because the server answered a LOOKUP with a cookie
// it then forgot at the RECLAIM of the old vnode (the trace says
// puffs_unknown_cookie); replaying the schedule reproduces it exactly.
TEST(PuffsLookupReclaimRace, HistoricReclaimFoundAndReplays) {
  auto s = load({{"puffs.reclaim_nlookup", "false", "--set"}});
  EXPECT_EQ(s->expected_outcome, sim::Outcome::expectation);
  for (const char* strategy : {"pct", "random"}) {
    auto sum = sim::explore(sc::make_run_fn(s), options(*s, strategy));
    ASSERT_EQ(sum.outcome, sim::Outcome::expectation) << strategy;
    ASSERT_TRUE(sum.first_failure.has_value());
    const sim::RunResult& failure = *sum.first_failure;
    EXPECT_NE(failure.message.find("got EIO"), std::string::npos) << failure.message;
    bool unknown_cookie = false;
    for (const auto& e : failure.events) unknown_cookie |= e.kind == "puffs_unknown_cookie";
    EXPECT_TRUE(unknown_cookie) << strategy;
    std::printf("%s: found after %llu schedules\n", strategy,
                static_cast<unsigned long long>(*sum.first_failure_index + 1));
    sim::testing::expect_replays(sc::make_run_fn(s), sc::machine_options(*s, false), failure,
                                 sim::Outcome::expectation, strategy);
  }
}

}  // namespace
}  // namespace vfsim::puffs
