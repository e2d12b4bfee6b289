// A scenario module of one's own: it registers two ops, "example.add" (a
// read-modify-write of a counter with a scheduling point in the middle, so
// two lwps can lose an update) and "example.read", next to every built-in
// module. A scenario in which two lwps add 1 each and a check expects 2 is
// then explored: the explorer must find the lost update, in the module's own
// op; the same scenario with the built-in sched module's lock around the
// add must pass every schedule.
#include <cstdio>
#include <memory>
#include <string>

#include "scenarios/loader.h"
#include "scenarios/modules.h"
#include "scenarios/registry.h"
#include "scenarios/runner.h"
#include "sim/explore.h"

namespace sc = vfsim::scenarios;
namespace sim = vfsim::sim;
namespace boot = vfsim::boot;

namespace {

struct CounterState final : sc::ModuleState {
  std::int64_t value = 0;
};

class CounterModule final : public sc::Module {
 public:
  std::string_view name() const override { return "example"; }
  void register_ops(sc::OpRegistry& r) const override {
    r.add({.name = "example.add",
           .doc = "adds n to the counter: reads it, may be preempted, writes it",
           .args = {sc::ArgSpec::integer("n", "what to add")},
           .run = [](sc::OpContext& c, const sc::Args& a) {
             auto& st = c.state<CounterState>();
             const std::int64_t seen = st.value;
             c.machine().sched_point("example.add");  // another lwp may run here
             st.value = seen + a.integer("n");
             return sc::OpResult::ok(st.value);
           }});
    r.add({.name = "example.read",
           .doc = "the counter",
           .args = {},
           .run = [](sc::OpContext& c, const sc::Args&) {
             return sc::OpResult::ok(c.state<CounterState>().value);
           }});
  }
  std::unique_ptr<sc::ModuleState> start(sim::Machine&, const sc::Config&,
                                         boot::World&) const override {
    return std::make_unique<CounterState>();
  }
};

// Two lwps each add 1 (with the sched module's lock around it if `locked`).
std::string scenario(bool locked) {
  const std::string add = locked ? R"({"op": "lock.acquire", "args": {"lock": "l"}},
                                     {"op": "example.add", "args": {"n": 1}},
                                     {"op": "lock.release", "args": {"lock": "l"}})"
                                 : R"({"op": "example.add", "args": {"n": 1}})";
  return R"({"name": "example_counter",
             "lwps": [{"name": "a", "ops": [)" +
         add + R"(]}, {"name": "b", "ops": [)" + add + R"(]}],
             "checks": [{"op": "example.read", "expect": 2}],
             "explore": {"strategy": "random", "schedules": 300, "seed": 7}})";
}

sim::ExploreSummary explore(const sc::Catalog& catalog, bool locked) {
  const auto s = std::make_shared<const sc::Scenario>(
      sc::load_scenario_text(scenario(locked), "example_counter.json", catalog));
  sim::ExploreOptions o;
  o.strategy = s->explore.strategy;
  o.schedules = s->explore.schedules;
  o.seed = s->explore.seed;
  o.machine = sc::machine_options(*s, false);
  return sim::explore(sc::make_run_fn(s), o);
}

}  // namespace

int main() {
  sc::ModuleList modules = sc::all_modules();
  modules.push_back(std::make_shared<CounterModule>());
  const sc::Catalog catalog(std::move(modules));  // outlives the scenarios

  const sim::ExploreSummary racy = explore(catalog, false);
  const bool found = racy.first_failure.has_value() && racy.outcome == sim::Outcome::expectation &&
                     racy.first_failure->message.find("example.read") != std::string::npos;
  std::printf("unlocked: %s after %llu schedules: %s\n", sim::outcome_name(racy.outcome).data(),
              static_cast<unsigned long long>(racy.schedules_explored),
              racy.first_failure ? racy.first_failure->message.c_str() : "no failure");

  const sim::ExploreSummary locked = explore(catalog, true);
  std::printf("locked: %s, %llu schedules\n", sim::outcome_name(locked.outcome).data(),
              static_cast<unsigned long long>(locked.schedules_explored));
  const bool ok = found && locked.outcome == sim::Outcome::pass && locked.schedules_explored == 300;
  std::printf("%s\n", ok ? "pass" : "FAIL");
  return ok ? 0 : 1;
}
