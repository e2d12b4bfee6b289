// The run of one scenario on one Machine.
#include "scenarios/runner.h"

#include <exception>
#include <map>

#include "boot/world.h"
#include "scenarios/result_format.h"

namespace vfsim::scenarios {

namespace {

class RunState;

// What an op handler sees; one per lwp, living on that lwp's stack.
class LwpContext final : public OpContext {
 public:
  LwpContext(RunState& run, std::string_view name, const ProcessSpec* process, bool controller)
      : run_(run), info_{name, process, controller} {}

  sim::Machine& machine() const override;
  boot::World& world() const override;
  const Config& config() const override;
  const LwpInfo& lwp() const override { return info_; }
  ModuleState& own_state() const override;
  void set_module(std::size_t index) { module_ = index; }

 private:
  RunState& run_;
  LwpInfo info_;
  std::size_t module_ = 0;
};

// Everything one run changes. Created before the first lwp runs and destroyed
// after Machine::run returned (so after every lwp is gone) but before the
// Machine, because module states hold sim primitives of that machine.
class RunState {
 public:
  RunState(sim::Machine& m, const Scenario& s) : machine(m), scenario(s) {}

  void controller();
  void lwp_body(const LwpPlan& plan);

  sim::Machine& machine;
  const Scenario& scenario;
  // The machine's kernel, built by the controller before any module state;
  // the module states go first at teardown (declared after it).
  std::unique_ptr<boot::World> world;
  std::vector<std::unique_ptr<ModuleState>> states;  // by Catalog module index

 private:
  enum class List { setup, lwp, checks };
  void run_ops(const std::vector<OpCall>& ops, LwpContext& cx, std::string_view name, List list);
  void run_op(const OpCall& call, LwpContext& cx, const std::string& place, List list);
  Args resolve(const OpCall& call, const std::string& place);
  void check(const OpCall& call, const OpResult& result, const std::string& place);
  void check_setup(const OpCall& call, const OpResult& result, const std::string& place);
  void lwp_hooks(LwpContext& cx, bool start);

  // Results saved by `save`, by name. Lwps share them: fibers never run at
  // once, and a register is only read or written between scheduling points.
  std::map<std::string, OpResult, std::less<>> registers_;
};

sim::Machine& LwpContext::machine() const { return run_.machine; }
const Config& LwpContext::config() const { return run_.scenario.config; }
boot::World& LwpContext::world() const { return *run_.world; }
ModuleState& LwpContext::own_state() const { return *run_.states.at(module_); }

// Boots the World, starts the module states, runs setup, the lwps and the
// checks, then stops the module states in reverse and shuts the World down.
void RunState::controller() {
  const auto& processes = scenario.config.processes();
  // Setup and checks run as the first declared process, if there is one.
  LwpContext cx(*this, "controller", processes.empty() ? nullptr : &processes.front(), true);
  world = std::make_unique<boot::World>(machine, *scenario.boot);
  const vn::Status root = world->mount_root();
  if (!root.ok()) {
    machine.panic("boot: mounting " + scenario.boot->root_type + " at / failed with errno " +
                  std::to_string(root.err()));
  }
  for (const auto& module : scenario.catalog->modules()) {
    states.push_back(module->start(machine, scenario.config, *world));
    VFSIM_KASSERT(machine, states.back() != nullptr, "Module::start returned null");
  }
  lwp_hooks(cx, true);
  run_ops(scenario.setup, cx, "setup", List::setup);
  std::vector<sim::LwpId> ids;
  for (const auto& plan : scenario.lwps) {
    ids.push_back(machine.spawn(plan.name, [this, &plan] { lwp_body(plan); }));
  }
  for (const auto id : ids) machine.join(id);
  run_ops(scenario.checks, cx, "checks", List::checks);
  lwp_hooks(cx, false);
  for (auto it = states.rbegin(); it != states.rend(); ++it) (*it)->stop(machine);
  world->shutdown();
}

void RunState::lwp_body(const LwpPlan& plan) {
  const auto& processes = scenario.config.processes();
  LwpContext cx(*this, plan.name, plan.process ? &processes[*plan.process] : nullptr, false);
  lwp_hooks(cx, true);
  run_ops(plan.ops, cx, "lwp " + plan.name, List::lwp);
  lwp_hooks(cx, false);
}

void RunState::lwp_hooks(LwpContext& cx, bool start) {
  for (auto& st : states) {
    if (start) st->lwp_start(machine, cx.lwp());
    else st->lwp_end(machine, cx.lwp());
  }
}

void RunState::run_ops(const std::vector<OpCall>& ops, LwpContext& cx, std::string_view name,
                       List list) {
  for (const auto& call : ops) {
    std::string place =
        std::string(name) + " op " + std::to_string(call.index) + " (" + call.spec->name + ")";
    for (std::uint32_t i = 0; i < call.repeat; ++i) {
      run_op(call, cx, call.repeat > 1 ? place + " #" + std::to_string(i) : place, list);
    }
  }
}

void RunState::run_op(const OpCall& call, LwpContext& cx, const std::string& place, List list) {
  // The op is in flight from before its arguments are read until its result
  // is checked, so a failure anywhere in between names it as its site.
  if (machine.trace().keeping()) machine.note("op_begin", place);  // a span (sim/trace_kinds.h)
  const auto token = machine.op_begin(place, call.budget);
  Args args = resolve(call, place);
  cx.set_module(call.module_index);
  OpResult result;
  try {
    result = call.spec->run(cx, args);
  } catch (const std::exception& e) {
    // A module bug, not bad input: the simulated kernel panicked. (The
    // machine's own unwinding exceptions are not std::exceptions.)
    machine.panic(place + " threw: " + e.what());
  }
  machine.event("op", format_call(place, args, result, scenario.catalog->registry()));
  if (call.save) registers_[*call.save] = result;
  if (list == List::setup) check_setup(call, result, place);
  if (call.expect) check(call, result, place);
  machine.op_end(token);
}

// A setup op builds what the lwps run on. An errno it was not told to expect
// means nothing after it runs as written (a mount that failed leaves every
// later op on the root file system), so the run ends as Outcome::setup,
// which no scenario may expect: never a pass, never "as expected". Without
// `expect` a setup op must succeed; with one, the expectation decides, and
// a miss with an errno is a setup failure (a miss with a value stays an
// expectation failure: the op ran and the system answered wrongly).
void RunState::check_setup(const OpCall& call, const OpResult& result, const std::string& place) {
  if (result.err == 0) return;
  const OpRegistry& registry = scenario.catalog->registry();
  if (!call.expect) {
    machine.fail(sim::Outcome::setup, place + ": failed with " + registry.errno_name(result.err) +
                                          "; the scenario did not run as written");
  }
  if (expectation_holds(*call.expect, result)) return;
  machine.fail(sim::Outcome::setup, place + ": expected " + call.expect->text + ", got " +
                                        describe_result(result, *call.expect, registry) +
                                        "; the scenario did not run as written");
}

Args RunState::resolve(const OpCall& call, const std::string& place) {
  Args args;
  for (const auto& a : call.args) {
    if (!a.reg) {
      args.set(a.spec->name, a.value);
      continue;
    }
    auto it = registers_.find(*a.reg);
    if (it == registers_.end()) {
      machine.fail(sim::Outcome::expectation, place + ": register $" + *a.reg + " is not set yet");
    }
    args.set(a.spec->name, it->second.value);
  }
  return args;
}

void RunState::check(const OpCall& call, const OpResult& result, const std::string& place) {
  if (expectation_holds(*call.expect, result)) return;
  machine.fail(sim::Outcome::expectation,
               place + ": expected " + call.expect->text + ", got " +
                   describe_result(result, *call.expect, scenario.catalog->registry()));
}

}  // namespace

sim::MachineOptions machine_options(const Scenario& scenario, bool keep_trace) {
  sim::MachineOptions o;
  o.seed = scenario.explore.seed;
  o.step_budget = scenario.explore.step_budget;
  o.op_budget = scenario.explore.op_budget_ms * sim::kMillisecond;
  o.keep_trace = keep_trace;
  o.images = scenario.images.get();
  return o;
}

sim::RunResult run_scenario(const Scenario& scenario, const sim::MachineOptions& options,
                            sim::Strategy& strategy) {
  sim::Machine machine(options, strategy);
  RunState run(machine, scenario);  // destroyed before the machine
  machine.spawn("controller", [&run] { run.controller(); });
  return machine.run();
}

sim::RunFn make_run_fn(std::shared_ptr<const Scenario> scenario) {
  return [s = std::move(scenario)](const sim::MachineOptions& options, sim::Strategy& strategy) {
    return run_scenario(*s, options, strategy);
  };
}

}  // namespace vfsim::scenarios
