// The contract between the scenario engine and the layers that give scenarios
// something to do. The engine knows no file-system semantics: a Module
// declares its configuration knobs, registers named ops with typed argument
// specs, creates its per-run state inside the run's controller lwp, and tears
// it down again. Scenario files then name those ops; the loader checks every
// op name, argument name, type and flag name against these specs before
// anything runs, so a typo is a load error (exit 2), never a failed run.
//
// Threading: Modules and the OpRegistry are immutable once built and shared
// by every worker thread of an exploration. Everything that changes during a
// run lives in the ModuleState that Module::start returns, one per Machine.
//
// Writing a module (the VFS does it like this):
//
//   class VfsModule final : public scenarios::Module {
//     std::string_view name() const override { return "vfs"; }
//     std::vector<KnobSpec> knobs() const override {
//       return {KnobSpec::enumeration("personality", "netbsd", {"netbsd", "linux"},
//                                     "whose link(2) semantics to follow")};
//     }
//     void register_ops(OpRegistry& r) const override {
//       r.add_errno("EFSCORRUPTED", 117);
//       r.add({.name = "open", .doc = "open(2)",
//              .args = {ArgSpec::string("path", "file to open"),
//                       ArgSpec::flags("flags", "O_* flags", kOpenFlags),
//                       ArgSpec::integer("mode", "creation mode").optional(0644)},
//              .run = [](OpContext& c, const Args& a) {
//                auto& vfs = c.state<VfsState>();
//                ...  return OpResult::ok(fd) or OpResult::error(ENOENT);
//              }});
//     }
//     std::unique_ptr<ModuleState> start(sim::Machine& m, const Config& c,
//                                        boot::World& w) const override;
//   };
//
// The machine a scenario runs on is a boot::World (boot/world.h), built by
// the runner for every run from the BootConfig the modules' configure()
// filled in at load time. Module states and op handlers reach the kernel,
// the pager and the mount types through it (OpContext::world()), never
// through another module's state.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "scenarios/config.h"
#include "sim/machine.h"

namespace vfsim::boot {
struct BootConfig;
class World;
}  // namespace vfsim::boot

namespace vfsim::scenarios {

// Name -> value table of a flag set (OR-ed) or an enumeration (exactly one).
using NameTable = std::vector<std::pair<std::string, std::int64_t>>;

enum class ArgType : std::uint8_t {
  integer,      // JSON integer, or "$reg": the value saved in a register
  fd,           // like integer; documents that it is a descriptor, usually "$fd"
  boolean,      // JSON true / false
  string,       // JSON string (a path, a name)
  bytes,        // data: "text", {"hex": "00ff"} or {"fill": "a", "size": 4096}
  flags,        // names from the table joined by ',' or '|', a JSON array of
                // names, or a plain integer; the values are OR-ed
  enumeration,  // exactly one name from the table (or a plain integer)
  json,         // any JSON value; the module checks it itself
  octal,        // a mode: an octal string ("0644") or a JSON integer, 0 to ArgSpec::max
};

std::string_view arg_type_name(ArgType t);

struct ArgSpec {
  std::string name = {};
  ArgType type = ArgType::integer;
  std::string doc = {};
  bool required = true;
  nlohmann::json default_value = {};  // used when not required and not given; null: absent
  NameTable names = {};               // flags / enumeration
  // Integer-like literals (integer, fd, octal) outside [min, max] are load
  // errors. A value read from a register is the handler's to check.
  std::int64_t min = INT64_MIN;
  std::int64_t max = INT64_MAX;

  [[nodiscard]] static ArgSpec integer(std::string name, std::string doc);
  [[nodiscard]] static ArgSpec fd(std::string name, std::string doc);
  [[nodiscard]] static ArgSpec boolean(std::string name, std::string doc);
  [[nodiscard]] static ArgSpec string(std::string name, std::string doc);
  [[nodiscard]] static ArgSpec bytes(std::string name, std::string doc);
  [[nodiscard]] static ArgSpec flags(std::string name, std::string doc, NameTable names);
  [[nodiscard]] static ArgSpec enumeration(std::string name, std::string doc, NameTable names);
  [[nodiscard]] static ArgSpec json(std::string name, std::string doc);
  // Permission bits written in octal, at most `max` (07777 for a mode).
  [[nodiscard]] static ArgSpec octal(std::string name, std::string doc, std::int64_t max);

  // Literals below `least` are load errors (a negative sleep, a negative size).
  [[nodiscard]] ArgSpec at_least(std::int64_t least) &&;

  // Makes the argument optional; `def` is its value when omitted (JSON null:
  // no default, Args::has() tells whether it was given).
  [[nodiscard]] ArgSpec optional(nlohmann::json def = nullptr) &&;
};

// What an op returns: a value or an errno, plus optional data (bytes read)
// and an optional record (a stat structure as JSON). Expectations in the
// scenario compare against these fields.
struct OpResult {
  std::int64_t value = 0;
  int err = 0;  // 0: success
  std::optional<std::string> data = {};
  std::optional<nlohmann::json> record = {};

  [[nodiscard]] static OpResult ok(std::int64_t value = 0) { return OpResult{value, 0, {}, {}}; }
  [[nodiscard]] static OpResult error(int err) { return OpResult{-1, err, {}, {}}; }
  [[nodiscard]] static OpResult with_data(std::int64_t value, std::string data) {
    return OpResult{value, 0, std::move(data), {}};
  }
  [[nodiscard]] static OpResult with_record(std::int64_t value, nlohmann::json record) {
    return OpResult{value, 0, {}, std::move(record)};
  }
};

// The arguments of one op call, resolved (registers read, flags OR-ed,
// defaults filled in) and already type-checked by the loader, so handlers
// need no validation of their own beyond semantic checks.
class Args {
 public:
  using Value = std::variant<std::monostate, std::int64_t, bool, std::string, nlohmann::json>;

  [[nodiscard]] bool has(std::string_view name) const;
  [[nodiscard]] std::int64_t integer(std::string_view name) const;  // integer, fd, flags, enum
  [[nodiscard]] bool boolean(std::string_view name) const;
  [[nodiscard]] const std::string& string(std::string_view name) const;  // string, bytes
  [[nodiscard]] const nlohmann::json& json(std::string_view name) const;

  // For the engine: appends a resolved value (monostate: absent).
  void set(std::string_view name, Value v) {
    values_.emplace_back(std::string(name), std::move(v));
  }
  [[nodiscard]] const std::vector<std::pair<std::string, Value>>& all() const { return values_; }

 private:
  [[nodiscard]] const Value& find(std::string_view name) const;
  std::vector<std::pair<std::string, Value>> values_;  // in spec order
};

// Per-lwp information handed to modules.
struct LwpInfo {
  std::string_view name;       // scenario lwp name; "controller" for setup and checks
  const ProcessSpec* process;  // the process it runs in, or null
  bool controller = false;
};

// The per-run state of one module, created by Module::start inside the
// controller lwp and destroyed after Machine::run returns (before the
// Machine itself). Holds the module's sim primitives, file systems, etc.
class ModuleState {
 public:
  virtual ~ModuleState() = default;
  // Called inside every scenario lwp (and the controller) before its first op,
  // e.g. to attach the lwp to its simulated process (an lwp slot).
  virtual void lwp_start(sim::Machine& m, const LwpInfo& lwp) {}
  // Called inside an lwp after its last op, when it was not unwound by a failure.
  virtual void lwp_end(sim::Machine& m, const LwpInfo& lwp) {}
  // Tears down inside the controller lwp after the checks (unmount, stop
  // daemons). Leak checks registered with Machine::add_leak_check in start()
  // then run after every lwp is gone.
  virtual void stop(sim::Machine& m) {}
};

// What a handler sees of the run: the machine, the World built on it, the
// configuration, the calling lwp and its own module's state. Implemented by
// the runner.
class OpContext {
 public:
  virtual ~OpContext() = default;
  [[nodiscard]] virtual sim::Machine& machine() const = 0;
  [[nodiscard]] virtual boot::World& world() const = 0;
  [[nodiscard]] virtual const Config& config() const = 0;
  [[nodiscard]] virtual const LwpInfo& lwp() const = 0;
  // The state of the module that registered the running op.
  [[nodiscard]] virtual ModuleState& own_state() const = 0;

  template <class T>
  [[nodiscard]] T& state() const {
    return dynamic_cast<T&>(own_state());
  }
};

using OpHandler = std::function<OpResult(OpContext&, const Args&)>;

// A problem a load-time check found in an op call's arguments: the
// argument to blame and why.
struct ArgIssue {
  std::string arg;
  std::string reason;
};

// Every member has an initializer so that designated initializers may omit
// any of them without -Wmissing-field-initializers.
struct OpSpec {
  std::string name = {};  // dotted by family: "var.add", or a syscall name: "open"
  std::string doc = {};
  std::vector<ArgSpec> args = {};
  OpHandler run = {};
  std::string module = {};  // filled in by the registry: who registered it
  // Load-time check of a call's literal arguments beyond their types (a
  // name that must exist); registers are absent (monostate). nullopt: fine.
  std::function<std::optional<ArgIssue>(const Args& literals)> check = {};
  // What every report of a scenario calling this op must say about it (a
  // daemon outside the simulator, whose own interleavings vfsim does not
  // control); "" when the call needs no such word.
  std::function<std::string(const Args& literals)> caveat = {};
  // The op runs foreign code that keeps process-wide state (a libfuse file
  // system's globals): one machine per process at a time may run it, so
  // explorations of a scenario that calls it run their jobs as processes.
  bool process_isolation = false;
  // The same, decided by a call's literal arguments (registers absent):
  // mount(2) of a type that runs foreign code. Unset: process_isolation.
  std::function<bool(const Args& literals)> isolates = {};
};

class Module;

// Every op and errno name the loaded modules provide. Built once, then
// read-only.
class OpRegistry {
 public:
  OpRegistry();  // knows the standard POSIX errno names already

  // Registers an op of the module being registered. Duplicate op names, or
  // duplicate argument names, are programming errors: std::logic_error.
  void add(OpSpec spec);
  // Adds an errno name a module uses beyond the standard ones (EFSCORRUPTED).
  void add_errno(std::string name, int value);

  [[nodiscard]] const OpSpec* find(std::string_view name) const;
  [[nodiscard]] const std::map<std::string, OpSpec, std::less<>>& ops() const { return ops_; }
  [[nodiscard]] std::optional<int> errno_value(std::string_view name) const;
  [[nodiscard]] std::string errno_name(int value) const;  // "E123" if unknown

  // For the catalog: ops added from now on belong to `module`.
  void set_current_module(std::string module) { current_module_ = std::move(module); }

 private:
  std::map<std::string, OpSpec, std::less<>> ops_;
  std::map<std::string, int, std::less<>> errno_by_name_;
  std::map<int, std::string> errno_by_value_;
  std::string current_module_;
};

// A cross-key problem a module found in the configuration.
struct ConfigIssue {
  std::string key;  // the key to blame (becomes /config/KEY in the message)
  std::string reason;
};

class Module {
 public:
  virtual ~Module() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual std::string_view doc() const { return {}; }
  [[nodiscard]] virtual std::vector<KnobSpec> knobs() const { return {}; }
  virtual void register_ops(OpRegistry& registry) const = 0;
  // Load-time check of the effective configuration (after --set), for
  // structure a knob type cannot express (e.g. the list of mounts).
  [[nodiscard]] virtual std::optional<ConfigIssue> validate(const Config& config) const {
    return std::nullopt;
  }
  // Load time, once per scenario: turns this module's knobs into its part of
  // the machine's boot configuration, which the loader then checks as a
  // whole (BootConfig::check) and keeps in the Scenario. An issue names the
  // knob to blame.
  [[nodiscard]] virtual std::optional<ConfigIssue> configure(const Config& config,
                                                             boot::BootConfig* boot) const {
    return std::nullopt;
  }
  // Creates the per-run state; runs inside the controller lwp once the
  // run's World is built and its root mounted, so it may spawn daemon lwps
  // and use sim primitives. Never returns null.
  [[nodiscard]] virtual std::unique_ptr<ModuleState> start(sim::Machine& machine,
                                                           const Config& config,
                                                           boot::World& world) const = 0;
};

using ModuleList = std::vector<std::shared_ptr<const Module>>;

// The modules of a program together with their ops and knobs: what a scenario
// file is checked against. Immutable once built; shared by loaded scenarios.
class Catalog {
 public:
  explicit Catalog(ModuleList modules);

  [[nodiscard]] const ModuleList& modules() const { return modules_; }
  [[nodiscard]] const OpRegistry& registry() const { return registry_; }
  [[nodiscard]] const KnobSpec* knob(std::string_view key) const;
  [[nodiscard]] const std::map<std::string, KnobSpec, std::less<>>& knobs() const { return knobs_; }
  [[nodiscard]] std::size_t module_index(std::string_view name) const;  // npos if unknown

 private:
  ModuleList modules_;
  OpRegistry registry_;
  std::map<std::string, KnobSpec, std::less<>> knobs_;
};

}  // namespace vfsim::scenarios
