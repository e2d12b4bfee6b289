// `vfsim check FILE...` with several files, --sides or --junit: every side of
// every file, for CI. A file's sides are the configurations it states an
// outcome for: the file as it is (with --set), and each `when` of its
// expect_outcome with that condition's knobs set (the first value of each);
// sides that come out the same configuration are checked once. Every file
// and side is loaded before anything runs, so bad input is one line and
// exit 2 with nothing run or written.
//
// Output: a line per side (as expected / NOT as expected), the failure of
// each unexpected one as `vfsim check FILE` prints it (its report goes to
// --report-dir), a total, and with --junit FILE a JUnit XML file (a
// testsuite per file, a testcase per side). With GITHUB_ACTIONS=true, each
// unexpected side also prints a GitHub workflow command
// `::error file=F,line=L,col=C,title=T::MESSAGE` pointing at the scenario
// op that failed (or the expect_outcome a pass contradicts).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/explore_run.h"
#include "cli/junit.h"
#include "scenarios/json_locations.h"
#include "scenarios/runner.h"

namespace vfsim::cli {

namespace {

namespace fs = std::filesystem;

struct Side {
  std::string file;
  std::string label;  // "default", or the `when` knobs: "puffs.size_lock=false"
  std::vector<scenarios::Override> overrides;
  std::shared_ptr<const scenarios::Scenario> scenario;
  std::string outcome_pointer;  // JSON pointer of the expect_outcome that decides
};

struct File {
  std::string path;
  std::string text;
  std::vector<Side> sides;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw scenarios::ScenarioError(path + ": cannot open the scenario file");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A `when` value as --set would give it: the first of several alternatives.
std::string set_value(const nlohmann::json& v) {
  const nlohmann::json& first = v.is_array() && !v.empty() ? v.front() : v;
  return first.is_string() ? first.get<std::string>() : first.dump();
}

std::string config_key(const scenarios::Scenario& s) {
  return s.config.to_json().dump() + s.explore.to_json().dump();
}

// The JSON pointer of the expect_outcome entry that decides a side's
// expected outcome, as the loader picks it: the first whose `when` holds.
std::string deciding_entry(const nlohmann::json& root, const scenarios::Config& config) {
  const auto it = root.find("expect_outcome");
  if (it == root.end() || !it->is_array()) return "/expect_outcome";
  for (std::size_t k = 0; k < it->size(); ++k) {
    const auto& entry = (*it)[k];
    bool holds = true;
    if (entry.contains("when")) {
      for (const auto& [key, value] : entry["when"].items()) {
        const auto have = config.get(key);
        const bool any = value.is_array()
                             ? std::find(value.begin(), value.end(), have) != value.end()
                             : value == have;
        holds = holds && (any || value == have);
      }
    }
    if (holds) return "/expect_outcome/" + std::to_string(k);
  }
  return "/expect_outcome";
}

File load_sides(const std::string& path, const std::vector<scenarios::Override>& given) {
  File f;
  f.path = path;
  Side def{path, "default", given, load(path, given), "/expect_outcome"};
  f.text = read_file(path);  // the loader read it fine just now
  std::set<std::string> seen{config_key(*def.scenario)};
  const auto root = nlohmann::json::parse(f.text, nullptr, false);
  def.outcome_pointer = deciding_entry(root, def.scenario->config);
  f.sides.push_back(std::move(def));
  const auto it = root.find("expect_outcome");
  if (it == root.end() || !it->is_array()) return f;
  for (std::size_t k = 0; k < it->size(); ++k) {
    const auto& entry = (*it)[k];
    if (!entry.contains("when")) continue;
    Side side{path, "", {}, nullptr, "/expect_outcome/" + std::to_string(k)};
    for (const auto& [key, value] : entry["when"].items()) {
      const std::string v = set_value(value);
      side.label += (side.label.empty() ? "" : ",") + key + "=" + v;
      side.overrides.push_back(
          {key, v, path + ": /expect_outcome/" + std::to_string(k) + "/when/" + key});
    }
    // The user's --set comes last, so it wins over a side's knob.
    side.overrides.insert(side.overrides.end(), given.begin(), given.end());
    side.scenario = load(path, side.overrides);
    if (!seen.insert(config_key(*side.scenario)).second) continue;
    side.outcome_pointer = deciding_entry(root, side.scenario->config);
    f.sides.push_back(std::move(side));
  }
  return f;
}

// The JSON pointer of the op a failure happened in ("lwp make op 0 (fstat)
// #2" is /lwps/<make's index>/ops/0), or "" when it names none.
std::string op_pointer(const scenarios::Scenario& s, std::string_view place) {
  if (const auto hash = place.rfind(" #"); hash != std::string_view::npos) {
    place = place.substr(0, hash);
  }
  auto match = [&](const std::vector<scenarios::OpCall>& ops,
                   const std::string& list) -> std::optional<std::string> {
    for (const auto& op : ops) {
      if (place == list + " op " + std::to_string(op.index) + " (" + op.spec->name + ")") {
        return op.pointer;
      }
    }
    return std::nullopt;
  };
  if (auto p = match(s.setup, "setup")) return *p;
  for (const auto& lwp : s.lwps) {
    if (auto p = match(lwp.ops, "lwp " + lwp.name)) return *p;
  }
  if (auto p = match(s.checks, "checks")) return *p;
  return "";
}

// GitHub workflow command escaping: data (%, CR, LF) and properties (also
// ':' and ',').
std::string gh_escape(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%') out += "%25";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else if (property && c == ':') out += "%3A";
    else if (property && c == ',') out += "%2C";
    else out += c;
  }
  return out;
}

std::string safe_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '=';
    out += ok ? c : '_';
  }
  return out;
}

struct Verdict {
  bool as_expected = false;
  std::string line;     // "as expected: ..." / "NOT as expected: ..."
  std::string details;  // the failure as printed (message, seed, replay, rerun)
  std::string pointer;  // where in the file to point an annotation
  std::string title;
  std::string message;
  double seconds = 0;
  std::vector<std::string> determinism_errors;
  sim::Outcome outcome = sim::Outcome::pass;
};

Verdict check_side(const Side& side, const ParsedArgs& args, const std::string& report_dir) {
  const scenarios::Scenario& s = *side.scenario;
  sim::ExploreOptions options = explore_options_for(s, args);
  const sim::ExploreSummary sum = sim::explore(scenarios::make_run_fn(side.scenario), options);
  verify_images(s);
  const sim::Outcome expected = s.expected_outcome.value_or(sim::Outcome::pass);
  Verdict v;
  v.outcome = sum.outcome;
  v.seconds = sum.seconds;
  v.as_expected = sum.outcome == expected && sum.outcome != sim::Outcome::setup &&
                  sum.determinism_errors.empty();
  v.determinism_errors = sum.determinism_errors;
  v.title = s.name + " [" + side.label + "]";
  v.line = std::string(v.as_expected ? "as expected: " : "NOT as expected: ") + v.title +
           " expects " + std::string(sim::outcome_name(expected)) + ", exploring gave " +
           std::string(sim::outcome_name(sum.outcome)) + " (" +
           std::to_string(sum.schedules_explored) + " schedules, " + options.strategy + ", seed " +
           std::to_string(options.seed) + ")";
  if (v.as_expected) return v;
  // The check of this side alone, as a command (rerun_command's quoting).
  const std::string rerun_check =
      "vfsim check" + rerun_command(side.file, side.overrides, std::nullopt).substr(9);
  if (!sum.first_failure) {
    v.pointer = side.outcome_pointer;
    v.message = "expected " + std::string(sim::outcome_name(expected)) + ", but " +
                std::to_string(sum.schedules_explored) + " explored schedules passed";
    v.details = v.message + "\n  rerun:  " + rerun_check + "\n";
  } else {
    const sim::RunResult& r = *sum.first_failure;
    fs::create_directories(report_dir);
    const std::string report =
        (fs::path(report_dir) / (safe_name(s.name + "." + side.label) + ".json")).string();
    std::ostringstream out;
    (void)report_failure(out,
                         scenarios::make_report(s, r, options.strategy, sum.first_failure_index),
                         report, rerun_command(side.file, side.overrides, sum.first_failure_index));
    v.details = out.str();
    v.pointer = op_pointer(s, r.failure_op);
    if (v.pointer.empty()) v.pointer = r.outcome == sim::Outcome::deadlock ? "/lwps" : "";
    v.message = std::string(sim::outcome_name(r.outcome)) + ": " + r.message + " (expected " +
                std::string(sim::outcome_name(expected)) + ")";
  }
  for (const auto& e : sum.determinism_errors) v.details += e + "\n";
  return v;
}

std::string annotation(const File& f, const Verdict& v) {
  const auto loc = scenarios::JsonLocations::index(f.text).find(v.pointer);
  const scenarios::TextPos pos = loc.value_or(scenarios::TextPos{});
  return "::error file=" + gh_escape(f.path, true) + ",line=" + std::to_string(pos.line) +
         ",col=" + std::to_string(pos.column) + ",title=" + gh_escape(v.title, true) +
         "::" + gh_escape(v.message + "\n" + v.details, false);
}

}  // namespace

int check_sides(const ParsedArgs& args) {
  if (args.positional.empty()) throw UsageError("expected one or more scenario FILEs");
  if (args.value("report")) throw UsageError("--report: with several sides, use --report-dir");
  for (const char* only_one : {"trace", "trace-out"}) {
    if (args.value(only_one)) {
      throw UsageError("--" + std::string(only_one) +
                       ": with several sides, replay a side's report with it instead");
    }
  }
  const auto given = explore_overrides(args);
  std::vector<File> files;
  for (const auto& path : args.positional) files.push_back(load_sides(path, given));
  const std::string report_dir = args.value("report-dir").value_or("vfsim-reports");
  const bool github = [] {
    const char* e = std::getenv("GITHUB_ACTIONS");
    return e != nullptr && std::string_view(e) == "true";
  }();
  const bool json = args.flag("json");
  std::ostream& human = json ? std::cerr : std::cout;

  std::vector<JunitSuite> suites;
  nlohmann::json sides_json = nlohmann::json::array();
  std::size_t total = 0, bad = 0;
  for (const File& f : files) {
    JunitSuite suite;
    suite.name = f.sides.front().scenario->name;
    suite.file = f.path;
    suite.properties = {{"scenario_sha256", f.sides.front().scenario->sha256}};
    for (const Side& side : f.sides) {
      const Verdict v = check_side(side, args, report_dir);
      ++total;
      human << v.line << "\n";
      if (!v.as_expected) {
        ++bad;
        human << "  " << v.details;
        if (github) std::cout << annotation(f, v) << "\n";
      }
      JunitCase c;
      c.name = v.title;
      c.classname = suite.name;
      c.seconds = v.seconds;
      c.out = v.line + "\n";
      if (!v.as_expected && v.determinism_errors.empty()) {
        c.failure = JunitProblem{std::string(sim::outcome_name(v.outcome)), v.message, v.details};
      }
      if (!v.determinism_errors.empty()) {
        c.error = JunitProblem{"determinism", v.determinism_errors.front(), v.details};
      }
      suite.cases.push_back(std::move(c));
      sides_json.push_back({{"file", f.path},
                            {"scenario", suite.name},
                            {"side", side.label},
                            {"as_expected", v.as_expected},
                            {"outcome", std::string(sim::outcome_name(v.outcome))},
                            {"message", v.message}});
    }
    suites.push_back(std::move(suite));
  }
  human << "check: " << total << " sides of " << files.size() << " files, " << total - bad
        << " as expected, " << bad << " NOT as expected\n";
  if (const auto junit = args.value("junit")) {
    std::ofstream out(*junit, std::ios::binary | std::ios::trunc);
    out << junit_xml("vfsim check", suites);
    out.close();
    if (!out) throw UsageError("--junit " + *junit + ": cannot write the file");
    human << "junit: " << *junit << "\n";
  }
  if (json) {
    std::cout << nlohmann::json{{"sides", sides_json},
                                {"as_expected", total - bad},
                                {"not_as_expected", bad}}
                     .dump()
              << "\n";
  }
  return bad == 0 ? kExitPass : kExitFailure;
}

}  // namespace vfsim::cli
