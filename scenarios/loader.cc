// Loading a scenario file: the top-level structure, configuration and
// overrides, processes, lwps, exploration settings, expected outcomes.
#include "scenarios/loader.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "boot/config.h"
#include "scenarios/load_context.h"
#include "sim/sha256.h"
#include "sim/strategy.h"

namespace vfsim::scenarios {

using detail::child;
using detail::Json;
using detail::LoadContext;

nlohmann::json ExploreSettings::to_json() const {
  return Json{{"strategy", strategy},
              {"schedules", schedules},
              {"depth", depth},
              {"preemption_bound", preemption_bound},
              {"seed", seed},
              {"step_budget", step_budget},
              {"op_budget_ms", op_budget_ms},
              {"long_schedules", long_schedules}};
}

Override parse_set(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw ScenarioError("--set " + std::string(text) + ": expected KEY=VALUE");
  }
  return Override{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)),
                  "--set " + std::string(text)};
}

namespace {

// --- configuration --------------------------------------------------------------

using ValueMap = std::map<std::string, Json, std::less<>>;

ValueMap load_config_values(const LoadContext& cx, const Json& root) {
  ValueMap values;
  for (const auto& [key, knob] : cx.catalog().knobs()) values[key] = knob.default_value;
  if (!root.contains("config")) return values;
  const Json& config = cx.require_object(root["config"], "/config");
  for (const auto& [key, v] : config.items()) {
    if (key == "comment") continue;
    const std::string p = child("/config", key);
    const KnobSpec* knob = cx.catalog().knob(key);
    if (knob == nullptr) cx.fail_at_key(p, "unknown config key '" + key + "'");
    if (auto bad = knob->check(v)) cx.fail(p, *bad);
    values[key] = v;
  }
  return values;
}

std::string known_keys(const Catalog& catalog) {
  std::string out;
  for (const auto& [key, knob] : catalog.knobs()) out += (out.empty() ? "" : ", ") + key;
  return out.empty() ? "none" : out;
}

// Config overrides from --set (or a report); explore.* keys are handled by
// apply_explore_override.
void apply_config_override(const LoadContext& cx, ValueMap& values, const Override& o) {
  const KnobSpec* knob = cx.catalog().knob(o.key);
  if (knob == nullptr) {
    throw ScenarioError(cx.path() + ": " + o.origin + ": unknown config key '" + o.key +
                        "' (known: " + known_keys(cx.catalog()) + ", explore.*)");
  }
  std::string why;
  auto v = knob->parse_text(o.value, &why);
  if (!v) throw ScenarioError(cx.path() + ": " + o.origin + ": " + why);
  values[o.key] = *v;
}

std::uint32_t id_field(const LoadContext& cx, const Json& obj, const std::string& p,
                       std::string_view key, std::uint32_t def) {
  if (!obj.contains(key)) return def;
  const auto v = cx.require_uint(obj[std::string(key)], child(p, key), 0);
  if (v > UINT32_MAX) cx.fail(child(p, key), "does not fit 32 bits");
  return static_cast<std::uint32_t>(v);
}

std::uint32_t umask_field(const LoadContext& cx, const Json& obj, const std::string& p) {
  if (!obj.contains("umask")) return 022;
  const Json& v = obj["umask"];
  // Octal is how everybody writes a umask, and JSON has no octal literals.
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    unsigned out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 8);
    if (ec != std::errc() || end != s.data() + s.size() || out > 0777) {
      cx.fail(child(p, "umask"), "expected an octal umask like \"022\", got " + v.dump());
    }
    return out;
  }
  const auto n = cx.require_uint(v, child(p, "umask"), 0);
  if (n > 0777) cx.fail(child(p, "umask"), "umask larger than 0777");
  return static_cast<std::uint32_t>(n);
}

std::vector<ProcessSpec> load_processes(const LoadContext& cx, const Json& root) {
  std::vector<ProcessSpec> out;
  if (!root.contains("processes")) return out;
  const Json& list = cx.require_array(root["processes"], "/processes");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = child("/processes", i);
    const Json& obj = cx.require_object(list[i], p);
    ProcessSpec ps;
    ps.name = cx.require_string(cx.require(obj, p, "name"), child(p, "name"));
    for (const auto& other : out) {
      if (other.name == ps.name) cx.fail(child(p, "name"), "duplicate process '" + ps.name + "'");
    }
    ps.uid = id_field(cx, obj, p, "uid", 0);
    ps.gid = id_field(cx, obj, p, "gid", 0);
    if (obj.contains("groups")) {
      const Json& g = cx.require_array(obj["groups"], child(p, "groups"));
      for (std::size_t j = 0; j < g.size(); ++j) {
        const auto id = cx.require_uint(g[j], child(child(p, "groups"), j), 0);
        if (id > UINT32_MAX) cx.fail(child(child(p, "groups"), j), "does not fit 32 bits");
        ps.groups.push_back(static_cast<std::uint32_t>(id));
      }
    }
    ps.umask = umask_field(cx, obj, p);
    ps.raw = obj;
    out.push_back(std::move(ps));
  }
  return out;
}

// A problem with a knob's value, blamed on where that value came from: its
// last --set (or the report that set it), else its place in the file, else
// the file's config as a whole (the knob kept its default).
[[noreturn]] void config_issue(const LoadContext& cx, const Json& root,
                               const std::vector<Override>& sets, const ConfigIssue& issue) {
  for (auto it = sets.rbegin(); it != sets.rend(); ++it) {
    if (it->key == issue.key)
      throw ScenarioError(cx.path() + ": " + it->origin + ": " + issue.reason);
  }
  if (root.contains("config") && root["config"].is_object() && root["config"].contains(issue.key)) {
    cx.fail(child("/config", issue.key), issue.reason);
  }
  cx.fail("/config", "'" + issue.key + "' (default value): " + issue.reason);
}

Config build_config(const LoadContext& cx, const Json& root, const std::vector<Override>& sets) {
  ValueMap values = load_config_values(cx, root);
  for (const auto& o : sets) {
    if (!o.key.starts_with("explore.")) apply_config_override(cx, values, o);
  }
  Config config(std::move(values), load_processes(cx, root));
  for (const auto& m : cx.catalog().modules()) {
    if (auto issue = m->validate(config)) config_issue(cx, root, sets, *issue);
  }
  return config;
}

// The machine the scenario boots: each module's knobs into their part of
// it, then the rules across parts. Built and checked here, once.
std::shared_ptr<const boot::BootConfig> build_boot(const LoadContext& cx, const Json& root,
                                                   const std::vector<Override>& sets,
                                                   const Config& config) {
  auto boot = std::make_shared<boot::BootConfig>();
  for (const auto& m : cx.catalog().modules()) {
    if (auto issue = m->configure(config, boot.get())) config_issue(cx, root, sets, *issue);
  }
  if (auto issue = boot->check()) config_issue(cx, root, sets, {issue->knob, issue->reason});
  return boot;
}

// --- exploration settings ---------------------------------------------------------

void set_explore_field(const LoadContext& cx, ExploreSettings& s, std::string_view key,
                       const Json& v, const std::string& p) {
  auto as_int = [&](std::int64_t min) { return static_cast<int>(cx.require_int(v, p, min)); };
  if (key == "strategy") {
    s.strategy = cx.require_string(v, p);
    if (s.strategy != "random" && s.strategy != "pct" && s.strategy != "dfs") {
      cx.fail(p, "unknown strategy '" + s.strategy + "' (expected random, pct or dfs)");
    }
  } else if (key == "schedules") {
    s.schedules = cx.require_uint(v, p, 1);
  } else if (key == "depth") {
    s.depth = as_int(1);
  } else if (key == "preemption_bound") {
    s.preemption_bound = as_int(0);
  } else if (key == "seed") {
    s.seed = cx.require_uint(v, p, 0);
  } else if (key == "step_budget") {
    s.step_budget = cx.require_uint(v, p, 1);
  } else if (key == "op_budget_ms") {
    s.op_budget_ms = cx.require_uint(v, p, 1);
  } else if (key == "long_schedules") {
    s.long_schedules = cx.require_uint(v, p, 0);
  } else {
    cx.fail(p, "unknown explore setting '" + std::string(key) +
                   "' (expected strategy, schedules, depth, preemption_bound, seed, "
                   "step_budget, op_budget_ms, long_schedules)");
  }
}

// A --set value for an explore setting: a number where one is expected,
// else the text itself (the strategy name).
Json explore_value_from_text(const std::string& text) {
  Json v = Json::parse(text, nullptr, false);
  return v.is_discarded() || v.is_string() ? Json(text) : v;
}

ExploreSettings load_explore(const LoadContext& cx, const Json& root,
                             const std::vector<Override>& sets) {
  ExploreSettings s;
  if (root.contains("explore")) {
    const Json& e = cx.require_object(root["explore"], "/explore");
    for (const auto& [key, v] : e.items()) {
      if (key != "comment") set_explore_field(cx, s, key, v, child("/explore", key));
    }
  }
  for (const auto& o : sets) {
    if (!o.key.starts_with("explore.")) continue;
    // The place is the override itself, not a spot in the file.
    const LoadContext here(cx.path() + ": " + o.origin, JsonLocations(), cx.catalog());
    set_explore_field(here, s, std::string_view(o.key).substr(8), explore_value_from_text(o.value),
                      "");
  }
  return s;
}

std::optional<sim::Outcome> outcome_named(const LoadContext& cx, const Json& v,
                                          const std::string& p) {
  const std::string name = cx.require_string(v, p);
  auto o = sim::outcome_from_name(name);
  if (!o) cx.fail(p, "unknown outcome '" + name + "'");
  if (*o == sim::Outcome::setup) {
    cx.fail(p,
            "'setup' is never an expected outcome: it means the scenario did not run as written");
  }
  return o;
}

std::optional<sim::Outcome> load_expected(const LoadContext& cx, const Json& root,
                                          const Config& config) {
  if (!root.contains("expect_outcome")) return std::nullopt;
  const Json& v = root["expect_outcome"];
  if (v.is_string()) return outcome_named(cx, v, "/expect_outcome");
  cx.require_array(v, "/expect_outcome");
  std::optional<sim::Outcome> found;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string p = child("/expect_outcome", i);
    cx.require_object(v[i], p);
    cx.check_keys(v[i], p, {"when", "outcome"});
    auto outcome = outcome_named(cx, cx.require(v[i], p, "outcome"), child(p, "outcome"));
    const bool match =
        !v[i].contains("when") || detail::when_matches(cx, v[i]["when"], child(p, "when"), config);
    if (match && !found) found = outcome;  // the first match wins; all are checked
  }
  return found;
}

// --- lwps and registers ---------------------------------------------------------

std::vector<LwpPlan> load_lwps(const LoadContext& cx, const Json& root, const Config& config) {
  const Json& list = cx.require_array(cx.require(root, "", "lwps"), "/lwps");
  if (list.empty()) cx.fail("/lwps", "a scenario needs at least one lwp");
  std::vector<LwpPlan> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = child("/lwps", i);
    const Json& obj = cx.require_object(list[i], p);
    cx.check_keys(obj, p, {"name", "process", "ops"});
    LwpPlan plan;
    plan.name = cx.require_string(cx.require(obj, p, "name"), child(p, "name"));
    if (plan.name.empty() || plan.name == "controller") {
      cx.fail(child(p, "name"), "lwp name '" + plan.name + "' is reserved or empty");
    }
    for (const auto& other : out) {
      if (other.name == plan.name) cx.fail(child(p, "name"), "duplicate lwp '" + plan.name + "'");
    }
    if (obj.contains("process")) {
      const std::string proc = cx.require_string(obj["process"], child(p, "process"));
      const auto& procs = config.processes();
      for (std::size_t k = 0; k < procs.size(); ++k) {
        if (procs[k].name == proc) plan.process = k;
      }
      if (!plan.process) cx.fail(child(p, "process"), "unknown process '" + proc + "'");
    }
    plan.ops = detail::load_ops(cx, cx.require(obj, p, "ops"), child(p, "ops"), config);
    out.push_back(std::move(plan));
  }
  return out;
}

// Every "$reg" must be saved by some op that runs; the order is the
// schedule's business (an unset register at run time is an expectation miss).
void check_registers(const LoadContext& cx, const Scenario& s) {
  std::set<std::string, std::less<>> saved;
  auto collect = [&](const std::vector<OpCall>& ops) {
    for (const auto& op : ops) {
      if (op.save) saved.insert(*op.save);
    }
  };
  auto verify = [&](const std::vector<OpCall>& ops) {
    for (const auto& op : ops) {
      for (const auto& a : op.args) {
        if (a.reg && saved.count(*a.reg) == 0) {
          cx.fail(child(child(op.pointer, "args"), a.spec->name),
                  "register '$" + *a.reg + "' is never saved by any op");
        }
      }
    }
  };
  collect(s.setup);
  collect(s.checks);
  for (const auto& l : s.lwps) collect(l.ops);
  verify(s.setup);
  verify(s.checks);
  for (const auto& l : s.lwps) verify(l.ops);
}

// What the ops a run will call need from every run and report: process
// isolation, caveats (OpSpec).
void note_op_needs(Scenario& s) {
  auto visit = [&](const std::vector<OpCall>& ops) {
    for (const auto& op : ops) {
      const bool isolates = op.spec->isolates ? op.spec->isolates(detail::literal_args(op))
                                              : op.spec->process_isolation;
      s.process_isolation = s.process_isolation || isolates;
      if (!op.spec->caveat) continue;
      std::string c = op.spec->caveat(detail::literal_args(op));
      if (!c.empty() && std::find(s.caveats.begin(), s.caveats.end(), c) == s.caveats.end()) {
        s.caveats.push_back(std::move(c));
      }
    }
  };
  visit(s.setup);
  for (const auto& l : s.lwps) visit(l.ops);
  visit(s.checks);
}

std::string place(const std::string& path, TextPos pos) {
  return path + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

Json parse_json(std::string_view text, const std::string& path) {
  // JSON has no NUL byte anywhere, and a parser reading a C string would stop
  // at one and ignore the rest: name it rather than let either happen.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw ScenarioError(place(path, text_pos(text, nul)) +
                        ": malformed JSON: a NUL byte (is this a JSON text file?)");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based: the position of the character that did not fit.
    const auto pos = text_pos(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    const auto colon = what.find(": ", what.find("column"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    throw ScenarioError(place(path, pos) + ": malformed JSON: " + what);
  }
}

void reject_duplicate_keys(const JsonLocations& locations, const std::string& path) {
  const auto& dup = locations.duplicate();
  if (!dup) return;
  throw ScenarioError(place(path, dup->pos) + ": " + dup->pointer + ": duplicate key (" +
                      "first at " + std::to_string(dup->first.line) + ":" +
                      std::to_string(dup->first.column) + ")");
}

}  // namespace

Scenario load_scenario_text(std::string_view text, const std::string& path, const Catalog& catalog,
                            const std::vector<Override>& overrides) {
  const Json root = parse_json(text, path);
  JsonLocations locations = JsonLocations::index(text);
  reject_duplicate_keys(locations, path);
  const LoadContext cx(path, std::move(locations), catalog);
  cx.require_object(root, "");
  cx.check_keys(root, "",
                {"$schema", "name", "description", "config", "processes", "setup", "lwps", "checks",
                 "explore", "expect_outcome"});
  Scenario s;
  s.path = path;
  s.sha256 = sim::sha256_hex(text);
  s.images = std::make_shared<sim::HostImages>(std::filesystem::path(path).parent_path().string());
  s.catalog = &catalog;
  s.name = cx.require_string(cx.require(root, "", "name"), "/name");
  if (root.contains("description"))
    s.description = cx.require_string(root["description"], "/description");
  s.config = build_config(cx, root, overrides);
  s.boot = build_boot(cx, root, overrides, s.config);
  if (root.contains("setup")) s.setup = detail::load_ops(cx, root["setup"], "/setup", s.config);
  s.lwps = load_lwps(cx, root, s.config);
  if (root.contains("checks")) s.checks = detail::load_ops(cx, root["checks"], "/checks", s.config);
  check_registers(cx, s);
  note_op_needs(s);
  s.explore = load_explore(cx, root, overrides);
  s.expected_outcome = load_expected(cx, root, s.config);
  return s;
}

Scenario load_scenario(const std::string& path, const Catalog& catalog,
                       const std::vector<Override>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ScenarioError(path + ": is a directory, not a scenario file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path + ": cannot open the scenario file");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw ScenarioError(path + ": cannot read the scenario file");
  return load_scenario_text(buf.str(), path, catalog, overrides);
}

}  // namespace vfsim::scenarios
