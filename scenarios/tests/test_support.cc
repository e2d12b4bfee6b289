// Test helpers and the probe module.
#include "test_support.h"

#include "scenarios/modules.h"

namespace vfsim::scenarios::testing {

namespace {

const NameTable kOpenFlags = {{"O_RDONLY", 0},   {"O_WRONLY", 1},  {"O_RDWR", 2},
                              {"O_CREAT", 0x40}, {"O_EXCL", 0x80}, {"O_TRUNC", 0x200}};
const NameTable kWhence = {{"SEEK_SET", 0}, {"SEEK_CUR", 1}, {"SEEK_END", 2}};

class ProbeState final : public ModuleState {};

// Ops that echo their arguments back, so tests can see how the loader and
// runner resolved them.
class ProbeModule final : public Module {
 public:
  std::string_view name() const override { return "probe"; }
  std::vector<KnobSpec> knobs() const override {
    return {KnobSpec::enumeration("probe.personality", "netbsd", {"netbsd", "linux"}, "test"),
            KnobSpec::integer("probe.size", 4096, "test"),
            KnobSpec::json("probe.mounts", nlohmann::json::array(), "test")};
  }
  std::optional<ConfigIssue> validate(const Config& c) const override {
    if (!c.get("probe.mounts").is_array()) return ConfigIssue{"probe.mounts", "expected a list"};
    return std::nullopt;
  }
  void register_ops(OpRegistry& r) const override {
    r.add({.name = "probe.open",
           .doc = "returns flags + 1000 * whence, or ENOENT for path \"missing\"",
           .args = {ArgSpec::string("path", "path"), ArgSpec::flags("flags", "flags", kOpenFlags),
                    ArgSpec::enumeration("whence", "whence", kWhence).optional("SEEK_SET"),
                    ArgSpec::boolean("verbose", "unused").optional(false)},
           .run = [](OpContext&, const Args& a) {
             if (a.string("path") == "missing") return OpResult::error(ENOENT);
             return OpResult::ok(a.integer("flags") + 1000 * a.integer("whence"));
           }});
    r.add({.name = "probe.echo",
           .doc = "returns fd, and data as data",
           .args = {ArgSpec::fd("fd", "descriptor"), ArgSpec::bytes("data", "bytes").optional("")},
           .run = [](OpContext&, const Args& a) {
             return OpResult::with_data(a.integer("fd"), a.string("data"));
           }});
    r.add({.name = "probe.stat",
           .doc = "a record",
           .args = {ArgSpec::json("extra", "merged into the record").optional()},
           .run = [](OpContext& c, const Args& a) {
             nlohmann::json rec = {{"size", c.config().get_int("probe.size")},
                                   {"lwp", std::string(c.lwp().name)}};
             if (a.has("extra")) rec["extra"] = a.json("extra");
             return OpResult::with_record(0, rec);
           }});
  }
  std::unique_ptr<ModuleState> start(sim::Machine&, const Config&, boot::World&) const override {
    return std::make_unique<ProbeState>();
  }
};

std::vector<Override> to_overrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const auto& s : sets) out.push_back(parse_set(s));
  return out;
}

}  // namespace

const Catalog& test_catalog() {
  static const Catalog catalog = [] {
    ModuleList modules = all_modules();
    modules.push_back(std::make_shared<ProbeModule>());
    return Catalog(std::move(modules));
  }();
  return catalog;
}

std::string scenario_path(const std::string& name) {
  return std::string(VFSIM_SCENARIO_DIR) + "/" + name + ".json";
}

std::shared_ptr<const Scenario> load_file(const std::string& name,
                                          const std::vector<std::string>& sets) {
  return std::make_shared<const Scenario>(
      load_scenario(scenario_path(name), test_catalog(), to_overrides(sets)));
}

std::shared_ptr<const Scenario> load_text(const std::string& text,
                                          const std::vector<std::string>& sets) {
  return std::make_shared<const Scenario>(
      load_scenario_text(text, "test.json", test_catalog(), to_overrides(sets)));
}

std::string load_error(const std::string& text, const std::vector<std::string>& sets) {
  try {
    (void)load_scenario_text(text, "test.json", test_catalog(), to_overrides(sets));
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

sim::ExploreOptions explore_options(const Scenario& s) {
  sim::ExploreOptions o;
  o.strategy = s.explore.strategy;
  o.schedules = s.explore.schedules;
  o.seed = s.explore.seed;
  o.depth = s.explore.depth;
  o.preemption_bound = s.explore.preemption_bound;
  o.machine = machine_options(s, false);
  return o;
}

sim::RunResult run_one(const Scenario& s, const std::string& strategy, std::uint64_t seed) {
  sim::StrategyParams p;
  p.seed = seed;
  auto st = sim::make_strategy(strategy, p);
  (void)st->begin_run(0, seed);
  auto o = machine_options(s, true);
  o.seed = seed;
  return run_scenario(s, o, *st);
}

}  // namespace vfsim::scenarios::testing
