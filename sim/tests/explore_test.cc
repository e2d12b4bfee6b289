// Tests of the explorer: --jobs N gives the same summary as --jobs 1, the
// determinism self-check passes on a deterministic workload and catches a
// nondeterministic one, and shrinking keeps the failure with fewer decisions.
#include <gtest/gtest.h>

#include "workloads.h"

namespace vfsim::sim {
namespace {

using namespace vfsim::sim::testing;

// Two workers report the same first failure and counts as one worker.
TEST(Explore, JobsGiveSameResult) {
  for (bool keep_going : {false, true}) {
    ExploreOptions o;
    o.strategy = "random";
    o.schedules = 300;
    o.seed = 11;
    o.keep_going = keep_going;
    o.jobs = 1;
    auto one = explore(as_run_fn(lost_update), o);
    o.jobs = 2;
    auto two = explore(as_run_fn(lost_update), o);
    ASSERT_TRUE(one.first_failure_index);
    EXPECT_EQ(one.first_failure_index, two.first_failure_index);
    EXPECT_EQ(one.failures, two.failures);
    EXPECT_EQ(one.schedules_explored, two.schedules_explored);
    EXPECT_EQ(one.first_failure->trace_hash, two.first_failure->trace_hash);
  }
}

// The self-check finds nothing wrong with a deterministic workload.
TEST(Explore, DeterminismCheckPasses) {
  ExploreOptions o;
  o.strategy = "pct";
  o.schedules = 200;
  o.keep_going = true;
  o.check_determinism = true;
  auto s = explore(as_run_fn(lost_update), o);
  EXPECT_TRUE(s.determinism_errors.empty()) << s.determinism_errors.front();
  EXPECT_GT(s.failures, 0u);
}

// A workload that leaks state between runs (here: a counter outside the
// machine) is reported as a vfsim bug naming where the runs diverge.
TEST(Explore, DeterminismCheckCatchesLeakyWorkload) {
  auto runs = std::make_shared<int>(0);
  RunFn leaky = [runs](const MachineOptions& o, Strategy& s) {
    Machine m(o, s);
    const int n = ++*runs;
    m.spawn("t", [&m, n] { m.event("run", std::to_string(n)); });
    return m.run();
  };
  MachineOptions mo;
  auto msg = check_determinism(leaky, mo, {});
  EXPECT_NE(msg.find("diverge at event"), std::string::npos) << msg;
}

// Shrinking a failing random schedule keeps the outcome and does not grow.
TEST(Explore, ShrinkKeepsFailureAndReduces) {
  ExploreOptions o;
  o.strategy = "random";
  o.schedules = 1000;
  o.seed = 3;
  auto s = explore(as_run_fn(lost_update), o);
  ASSERT_TRUE(s.first_failure);
  auto sr = shrink(as_run_fn(lost_update), o.machine, *s.first_failure);
  EXPECT_EQ(sr.result.outcome, Outcome::expectation);
  EXPECT_LE(sr.decisions, sr.original_decisions);
  EXPECT_LE(sr.preemptions, sr.original_preemptions);
  EXPECT_GE(sr.preemptions, 1u);  // the bug needs at least one preemption
  MachineOptions m;
  m.seed = sr.result.seed;
  auto again = replay(as_run_fn(lost_update), m, sr.result.schedule);
  EXPECT_EQ(again.outcome, Outcome::expectation);
  std::printf("shrunk %zu decisions / %u preemptions to %zu / %u\n", sr.original_decisions,
              sr.original_preemptions, sr.decisions, sr.preemptions);
}

// A message's shape hides numbers of any base or unit, keeps names with
// digits in them, and the failure site compares outcome, lwp, op (without
// the repetition number) and shape.
TEST(Shrink, MessageShapeAndFailureSite) {
  EXPECT_EQ(message_shape("lwp t1 op 3 (read): expected 5, got 4"),
            "lwp t1 op # (read): expected #, got #");
  EXPECT_EQ(message_shape("KASSERT failed: x (vnode 0x7f3a, 250ms) at ext2_data.cc:123"),
            "KASSERT failed: x (vnode #, #) at ext2_data.cc:#");
  RunResult a;
  a.outcome = Outcome::expectation;
  a.failure_lwp = "t1";
  a.failure_op = "lwp t1 op 3 (read) #2";
  a.message = "lwp t1 op 3 (read) #2: expected 5, got 4";
  RunResult b = a;
  b.failure_op = "lwp t1 op 3 (read) #0";
  b.message = "lwp t1 op 3 (read) #0: expected 5, got 3";
  EXPECT_TRUE(same_failure_site(a, b));
  b.failure_op = "lwp t1 op 4 (read)";
  EXPECT_FALSE(same_failure_site(a, b));
  b = a;
  b.failure_lwp = "t2";
  EXPECT_FALSE(same_failure_site(a, b));
  b = a;
  b.message = "lwp t1 op 3 (read) #2: expected 5, got EIO";
  EXPECT_FALSE(same_failure_site(a, b));
  b = a;
  b.outcome = Outcome::panic;
  EXPECT_FALSE(same_failure_site(a, b));
}

}  // namespace
}  // namespace vfsim::sim
