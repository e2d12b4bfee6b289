// Property: any seed under any strategy, on any built-in scenario and either
// side of its knob, ends in exactly one typed outcome, never crashes, and
// the outcome is one the scenario can legitimately produce.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "test_support.h"

namespace vfsim::scenarios {
namespace {

const char* const kScenarios[] = {"lost_update", "counter_locked", "lock_order_deadlock",
                                  "timeout_hang"};
const char* const kStrategies[] = {"random", "pct", "dfs"};

bool allowed(const std::string& name, sim::Outcome o) {
  using sim::Outcome;
  if (name == "lost_update") return o == Outcome::pass || o == Outcome::expectation;
  if (name == "counter_locked") return o == Outcome::pass || o == Outcome::expectation;
  if (name == "lock_order_deadlock") return o == Outcome::pass || o == Outcome::deadlock;
  return o == Outcome::hang;
}

RC_GTEST_PROP(ScenarioProperty, RandomSchedulesEndInATypedOutcome, ()) {
  const std::string name =
      *rc::gen::elementOf(std::vector<std::string>(std::begin(kScenarios), std::end(kScenarios)));
  const std::string strategy =
      *rc::gen::elementOf(std::vector<std::string>(std::begin(kStrategies), std::end(kStrategies)));
  const bool locking = *rc::gen::arbitrary<bool>();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto s = testing::load_file(name, {std::string("sched.locking=") + (locking ? "true" : "false")});
  auto o = testing::explore_options(*s);
  o.strategy = strategy;
  o.seed = seed;
  o.schedules = 20;
  o.keep_going = true;
  const auto sum = sim::explore(make_run_fn(s), o);
  RC_ASSERT(sum.schedules_explored >= 1u);
  RC_ASSERT(allowed(name, sum.outcome));
  RC_ASSERT(sim::outcome_from_name(sim::outcome_name(sum.outcome)) == sum.outcome);
  if (sum.first_failure) {
    RC_ASSERT(!sum.first_failure->message.empty());
    RC_ASSERT(sum.determinism_errors.empty());
  }
}

}  // namespace
}  // namespace vfsim::scenarios
