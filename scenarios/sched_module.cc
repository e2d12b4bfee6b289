// The built-in `sched` module. Its ops touch only sim primitives:
//   var.read / var.write / var.add / var.atomic_add  shared integer variables
//   lock.acquire / lock.release                      sim::Mutex by name
//   sleep / wait / wakeup / yield                    virtual time and channels
// var.add is read, scheduling point, write: the window in which another lwp
// can slip in and lose an update. var.atomic_add has no such window.
//
// Knob `sched.locking` (default true) is the module's "historic bug" switch:
// with false, lock.acquire and lock.release only pass a scheduling point and
// lock nothing, so a scenario can state both outcomes of the same file.
#include "scenarios/sched_module.h"

#include <cerrno>
#include <map>

#include "sim/sync.h"

namespace vfsim::scenarios {

namespace {

// Per-run state. Primitives are created on first use, by name; the maps are
// ordered so that nothing depends on hash order.
class SchedState final : public ModuleState {
 public:
  SchedState(sim::Machine& m, bool locking) : machine_(m), locking_(locking) {}

  bool locking() const { return locking_; }
  std::int64_t& var(const std::string& name) { return vars_[name]; }

  sim::Mutex& lock(const std::string& name) {
    auto& slot = locks_[name];
    if (!slot) slot = std::make_unique<sim::Mutex>(machine_, name);
    return *slot;
  }

  sim::WaitChannel& channel(const std::string& name) {
    auto& slot = channels_[name];
    if (!slot) slot = std::make_unique<sim::WaitChannel>(machine_, name);
    return *slot;
  }

  // A lock still held when every lwp is gone was never released: a leak.
  std::vector<std::string> held_locks() const {
    std::vector<std::string> out;
    for (const auto& [name, mutex] : locks_) {
      if (!mutex->held()) continue;
      const sim::Lwp* owner = machine_.lwp(mutex->owner());
      out.push_back("lock " + name + " still held by " + (owner ? owner->name : "?"));
    }
    return out;
  }

 private:
  sim::Machine& machine_;
  bool locking_;
  std::map<std::string, std::int64_t, std::less<>> vars_;
  std::map<std::string, std::unique_ptr<sim::Mutex>, std::less<>> locks_;
  std::map<std::string, std::unique_ptr<sim::WaitChannel>, std::less<>> channels_;
};

SchedState& state(OpContext& c) { return c.state<SchedState>(); }

void register_vars(OpRegistry& r) {
  const auto var = [] { return ArgSpec::string("var", "variable name (starts at 0)"); };
  const auto delta = [] { return ArgSpec::integer("value", "amount to add").optional(1); };
  r.add({.name = "var.read",
         .doc = "returns the variable's value",
         .args = {var()},
         .run = [](OpContext& c, const Args& a) {
           return OpResult::ok(state(c).var(a.string("var")));
         }});
  r.add({.name = "var.write",
         .doc = "sets the variable; returns the value written",
         .args = {var(), ArgSpec::integer("value", "new value")},
         .run = [](OpContext& c, const Args& a) {
           state(c).var(a.string("var")) = a.integer("value");
           return OpResult::ok(a.integer("value"));
         }});
  r.add({.name = "var.add",
         .doc = "read, scheduling point, write: not atomic; returns the value written",
         .args = {var(), delta()},
         .run = [](OpContext& c, const Args& a) {
           const std::int64_t seen = state(c).var(a.string("var"));
           c.machine().sched_point("var.add");
           state(c).var(a.string("var")) = seen + a.integer("value");
           return OpResult::ok(seen + a.integer("value"));
         }});
  r.add({.name = "var.atomic_add",
         .doc = "adds without a window; returns the new value",
         .args = {var(), delta()},
         .run = [](OpContext& c, const Args& a) {
           c.machine().sched_point("var.atomic_add");
           return OpResult::ok(state(c).var(a.string("var")) += a.integer("value"));
         }});
}

void register_locks(OpRegistry& r) {
  const auto lock = [] { return ArgSpec::string("lock", "lock name"); };
  r.add({.name = "lock.acquire",
         .doc = "takes the named mutex; EDEADLK if already mine",
         .args = {lock()},
         .run = [](OpContext& c, const Args& a) {
           if (!state(c).locking()) {
             c.machine().sched_point("lock.acquire (sched.locking=false)");
             return OpResult::ok();
           }
           sim::Mutex& m = state(c).lock(a.string("lock"));
           if (m.held_by_me()) return OpResult::error(EDEADLK);
           m.lock();
           return OpResult::ok();
         }});
  r.add({.name = "lock.release",
         .doc = "releases the named mutex; EPERM if not mine",
         .args = {lock()},
         .run = [](OpContext& c, const Args& a) {
           if (!state(c).locking()) {
             c.machine().sched_point("lock.release (sched.locking=false)");
             return OpResult::ok();
           }
           sim::Mutex& m = state(c).lock(a.string("lock"));
           if (!m.held_by_me()) return OpResult::error(EPERM);
           m.unlock();
           return OpResult::ok();
         }});
}

void register_time(OpRegistry& r) {
  r.add({.name = "sleep",
         .doc = "sleeps for ms of virtual time",
         .args = {ArgSpec::integer("ms", "milliseconds").at_least(0)},
         .run = [](OpContext& c, const Args& a) {
           if (a.integer("ms") < 0) return OpResult::error(EINVAL);
           c.machine().sleep_for(static_cast<sim::VTime>(a.integer("ms")) * sim::kMillisecond);
           return OpResult::ok();
         }});
  r.add({.name = "wait",
         .doc = "sleeps on a named channel until a wakeup; ETIMEDOUT after timeout_ms (0: never)",
         .args = {ArgSpec::string("chan", "channel name"),
                  ArgSpec::integer("timeout_ms", "timeout, 0 for none").at_least(0).optional(0)},
         .run = [](OpContext& c, const Args& a) {
           if (a.integer("timeout_ms") < 0) return OpResult::error(EINVAL);
           const auto timeout =
               static_cast<sim::VTime>(a.integer("timeout_ms")) * sim::kMillisecond;
           const bool woken = state(c).channel(a.string("chan")).sleep("wait", timeout);
           return woken ? OpResult::ok() : OpResult::error(ETIMEDOUT);
         }});
  r.add({.name = "wakeup",
         .doc = "wakes every sleeper of a channel (or one, all=false)",
         .args = {ArgSpec::string("chan", "channel name"),
                  ArgSpec::boolean("all", "wake all sleepers").optional(true)},
         .run = [](OpContext& c, const Args& a) {
           auto& chan = state(c).channel(a.string("chan"));
           if (a.boolean("all")) chan.wakeup();
           else chan.wakeup_one();
           return OpResult::ok();
         }});
  r.add({.name = "yield",
         .doc = "a scheduling point and nothing else",
         .args = {},
         .run = [](OpContext& c, const Args&) {
           c.machine().sched_point("yield");
           return OpResult::ok();
         }});
}

class SchedModule final : public Module {
 public:
  std::string_view name() const override { return "sched"; }
  std::string_view doc() const override {
    return "shared variables, named locks, sleep, wait channels and yields";
  }
  std::vector<KnobSpec> knobs() const override {
    return {KnobSpec::boolean("sched.locking", true,
                              "lock.acquire/lock.release really lock; false makes them no-ops "
                              "(the 'forgot the lock' bug)")};
  }
  void register_ops(OpRegistry& r) const override {
    register_vars(r);
    register_locks(r);
    register_time(r);
  }
  std::unique_ptr<ModuleState> start(sim::Machine& m, const Config& config,
                                     boot::World&) const override {
    auto st = std::make_unique<SchedState>(m, config.get_bool("sched.locking"));
    m.add_leak_check("sched.locks", [s = st.get()] { return s->held_locks(); });
    return st;
  }
};

}  // namespace

std::shared_ptr<const Module> make_sched_module() { return std::make_shared<SchedModule>(); }

}  // namespace vfsim::scenarios
