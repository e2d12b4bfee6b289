// The vfs scenario files run through the scenario engine with the `vfs`
// module: link_on_symlink passes under both personalities and a wrong
// expectation fails as `expectation`; rename_race_kern40948 explores its
// 10,000 schedules without a failure, deterministically; a fifo scenario
// passes every explored schedule; bad op arguments fail to load.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "scenarios/loader.h"
#include "scenarios/modules/vfs_module.h"
#include "scenarios/runner.h"
#include "scenarios/sched_module.h"
#include "sim/tests/test_util.h"

namespace vfsim::vfs {
namespace {

namespace sc = scenarios;

const sc::Catalog& catalog() {
  static const sc::Catalog c({sc::make_sched_module(), make_vfs_module()});
  return c;
}

std::string scenario_path(const char* name) {
  return std::string(VFSIM_SOURCE_DIR) + "/scenarios/" + name;
}

sim::RunResult run_once(const sc::Scenario& s) {
  sim::StrategyParams params;
  auto strategy = sim::make_strategy("random", params);
  strategy->begin_run(0, 1);
  return sc::run_scenario(s, sc::machine_options(s, false), *strategy);
}

// Shows: link_on_symlink.json passes under netbsd and under linux, each
// checking its own outcome of link(2) on a symlink.
TEST(VfsScenarios, LinkOnSymlinkBothPersonalities) {
  for (const char* pers : {"netbsd", "linux"}) {
    auto s = sc::load_scenario(scenario_path("link_on_symlink.json"), catalog(),
                               {{"personality", pers, "--set"}});
    auto r = run_once(s);
    EXPECT_EQ(r.outcome, sim::Outcome::pass) << pers << ": " << r.message;
  }
}

// Shows: the netbsd expectations applied to a linux run fail as
// `expectation` (the scenario really checks the outcome).
TEST(VfsScenarios, WrongPersonalityOutcomeIsAnExpectationFailure) {
  std::ifstream in(scenario_path("link_on_symlink.json"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Make every netbsd-only check apply to linux instead.
  for (std::size_t at; (at = text.find("{\"personality\": \"netbsd\"}")) != std::string::npos;) {
    text.replace(at, 25, "{\"personality\": \"linux\" }");
  }
  auto s =
      sc::load_scenario_text(text, "edited.json", catalog(), {{"personality", "linux", "--set"}});
  EXPECT_EQ(run_once(s).outcome, sim::Outcome::expectation);
}

// Shows: rename_race_kern40948.json explores its 10,000 schedules with no
// panic, deadlock, leak or failed expectation; prints schedules per second.
TEST(VfsScenarios, RenameRaceExplores10000Schedules) {
  auto s = std::make_shared<const sc::Scenario>(
      sc::load_scenario(scenario_path("rename_race_kern40948.json"), catalog()));
  sim::ExploreOptions eo;
  eo.strategy = s->explore.strategy;
  eo.schedules = s->explore.schedules;
  eo.seed = s->explore.seed;
  eo.machine = sc::machine_options(*s, false);
  eo.check_determinism = true;  // every 200th schedule replayed: same trace
  eo.determinism_sample = 200;
  auto summary = sim::explore(sc::make_run_fn(s), eo);
  ASSERT_EQ(summary.outcome, sim::Outcome::pass)
      << (summary.first_failure ? summary.first_failure->message : "");
  EXPECT_TRUE(summary.determinism_errors.empty()) << summary.determinism_errors.front();
  EXPECT_EQ(summary.schedules_explored, 10000u);
  std::printf("rename_race_kern40948: %.0f schedules/s\n", summary.schedules_per_second);
}

// Shows: with vfs.rename_lost_source_unlock=false (the historic error branch
// of PR kern/40948) exploring rename_race_kern40948.json ends in a panic on
// the source directory's lock, under random and pct alike, and replaying the
// failing schedule reproduces the same panic and trace hash.
TEST(VfsScenarios, RenameRaceHistoricBranchPanicsAndReplays) {
  for (const char* strategy : {"random", "pct"}) {
    auto s = std::make_shared<const sc::Scenario>(
        sc::load_scenario(scenario_path("rename_race_kern40948.json"), catalog(),
                          {{"vfs.rename_lost_source_unlock", "false", "--set"}}));
    EXPECT_EQ(s->expected_outcome, sim::Outcome::panic);
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 1000;
    eo.seed = s->explore.seed;
    eo.machine = sc::machine_options(*s, false);
    auto summary = sim::explore(sc::make_run_fn(s), eo);
    ASSERT_EQ(summary.outcome, sim::Outcome::panic) << strategy;
    ASSERT_TRUE(summary.first_failure.has_value());
    const auto& failure = *summary.first_failure;
    EXPECT_NE(failure.message.find("unlocking unheld"), std::string::npos) << failure.message;
    sim::testing::expect_replays(sc::make_run_fn(s), sc::machine_options(*s, false), failure,
                                 sim::Outcome::panic, strategy);
  }
}

// Shows: an unknown flag name and a wrong argument type are load errors
// naming the op's place.
TEST(VfsScenarios, BadArgumentsFailToLoad) {
  const std::string bad_flag = R"({"name": "x", "lwps": [{"name": "a", "ops": [
      {"op": "open", "args": {"path": "/f", "flags": "O_CREAT,O_BOGUS"}}]}]})";
  try {
    (void)sc::load_scenario_text(bad_flag, "bad.json", catalog());
    FAIL() << "loaded";
  } catch (const sc::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("O_BOGUS"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/lwps/0/ops/0"), std::string::npos) << e.what();
  }
  const std::string bad_mode = R"({"name": "x", "lwps": [{"name": "a", "ops": [
      {"op": "mkdir", "args": {"path": "/d", "mode": "0999"}}]}]})";
  EXPECT_THROW((void)sc::load_scenario_text(bad_mode, "bad.json", catalog()), sc::ScenarioError);
  const std::string bad_type = R"({"name": "x", "lwps": [{"name": "a", "ops": [
      {"op": "unlink", "args": {"path": 7}}]}]})";
  EXPECT_THROW((void)sc::load_scenario_text(bad_type, "bad.json", catalog()), sc::ScenarioError);
}

// Shows: fifo I/O from a scenario: a reader and a writer lwp open one fifo
// (each open waits for the other), "hello" arrives whole and then end of
// file, in 500 random and 500 PCT schedules; and the open op takes
// O_NONBLOCK (a non-blocking writer with no reader left is ENXIO).
TEST(VfsScenarios, FifoReaderAndWriter) {
  const std::string text = R"({"name": "fifo_pair",
    "setup": [{"op": "mkfifo", "args": {"path": "/p"}}],
    "lwps": [
      {"name": "reader", "ops": [
        {"op": "open", "args": {"path": "/p", "flags": "O_RDONLY"}, "save": "rfd"},
        {"op": "read", "args": {"fd": "$rfd", "len": 100}, "expect": {"data": "hello"}},
        {"op": "read", "args": {"fd": "$rfd", "len": 100}, "expect": {"data": ""}},
        {"op": "close", "args": {"fd": "$rfd"}, "expect": "ok"}]},
      {"name": "writer", "ops": [
        {"op": "open", "args": {"path": "/p", "flags": "O_WRONLY"}, "save": "wfd"},
        {"op": "write", "args": {"fd": "$wfd", "data": "hello"}, "expect": 5},
        {"op": "close", "args": {"fd": "$wfd"}, "expect": "ok"}]}],
    "checks": [{"op": "open", "args": {"path": "/p", "flags": "O_WRONLY,O_NONBLOCK"},
                "expect": "ENXIO"}]})";
  auto s = std::make_shared<const sc::Scenario>(
      sc::load_scenario_text(text, "fifo_pair.json", catalog()));
  for (const char* strategy : {"random", "pct"}) {
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 500;
    eo.seed = 7;
    eo.machine = sc::machine_options(*s, false);
    auto summary = sim::explore(sc::make_run_fn(s), eo);
    EXPECT_EQ(summary.outcome, sim::Outcome::pass)
        << strategy << ": " << (summary.first_failure ? summary.first_failure->message : "");
  }
}

// Shows: the bind and connect ops in a scenario, under both personalities:
// bind makes a socket node (stat's record says type sock), a second bind
// is EADDRINUSE, open is the personality's errno, connect ECONNREFUSED, and
// the node renames and unlinks; a scenario expecting the other
// personality's open errno fails as `expectation`.
TEST(VfsScenarios, BindAndConnectOps) {
  for (const char* pers : {"netbsd", "linux"}) {
    const std::string open_errno = std::string(pers) == "netbsd" ? "EOPNOTSUPP" : "ENXIO";
    const std::string text = R"({"name": "bind", "description": "socket nodes",
      "config": {"personality": ")" +
                             std::string(pers) + R"("},
      "lwps": [{"name": "a", "ops": [
        {"op": "bind", "args": {"path": "/s"}, "expect": "ok"},
        {"op": "lstat", "args": {"path": "/s"}, "expect": {"record": {"type": "sock"}}},
        {"op": "bind", "args": {"path": "/s"}, "expect": "EADDRINUSE"},
        {"op": "open", "args": {"path": "/s", "flags": "O_RDONLY"}, "expect": ")" +
                             open_errno + R"("},
        {"op": "connect", "args": {"path": "/s"}, "expect": "ECONNREFUSED"},
        {"op": "rename", "args": {"from": "/s", "to": "/t"}, "expect": "ok"},
        {"op": "unlink", "args": {"path": "/t"}, "expect": "ok"}]}]})";
    const sc::Scenario s = sc::load_scenario_text(text, "bind.json", catalog());
    const sim::RunResult r = run_once(s);
    EXPECT_EQ(r.outcome, sim::Outcome::pass) << pers << ": " << r.message;
    const sc::Scenario other = sc::load_scenario_text(
        text, "bind.json", catalog(),
        {{"personality", std::string(pers) == "netbsd" ? "linux" : "netbsd", "--set"}});
    EXPECT_EQ(run_once(other).outcome, sim::Outcome::expectation) << pers;
  }
}

}  // namespace
}  // namespace vfsim::vfs
