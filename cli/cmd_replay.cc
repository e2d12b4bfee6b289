// `vfsim replay REPORT` and `vfsim shrink REPORT`: both re-run a report's
// schedule on the scenario it names, with the configuration it records.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "scenarios/runner.h"
#include "sim/sha256.h"

namespace vfsim::cli {

namespace fs = std::filesystem;

std::span<const OptionSpec> replay_options() {
  static constexpr OptionSpec kOptions[] = {
      kScenarioOption,
      kTraceOption,
      kTraceOutOption,
      kJsonOption,
      {"debug", "", "a recording (vfsim mount --record): one line per request replayed"}};
  return kOptions;
}

std::span<const OptionSpec> shrink_options() {
  static constexpr OptionSpec kOptions[] = {
      {"out", "FILE", "where the shrunk report goes (default REPORT.shrunk.json)"},
      {"attempts", "N", "most replays to try (default 2000)"},
      kScenarioOption,
      kTraceOption,
      kTraceOutOption,
      kJsonOption,
  };
  return kOptions;
}

namespace {

// Where the report's scenario may be, existing files only, best first: a
// version 2 report's path is relative to the report's directory, with the
// absolute path as the fallback (a report moved alone); a version 1
// report's was relative to where explore ran, or beside the report.
std::vector<std::string> scenario_candidates(const scenarios::Report& r,
                                             const std::string& report) {
  const fs::path dir = fs::path(report).parent_path();
  std::vector<fs::path> candidates;
  if (fs::path(r.scenario).is_absolute()) {
    candidates.push_back(r.scenario);
  } else if (r.version >= 2) {
    candidates.push_back(dir / r.scenario);
  } else {
    candidates.push_back(r.scenario);
    candidates.push_back(dir / r.scenario);
  }
  if (!r.scenario_abs.empty()) candidates.push_back(r.scenario_abs);
  std::vector<std::string> out;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) out.push_back(c.lexically_normal().string());
  }
  return out;
}

std::string read_text(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) throw scenarios::ScenarioError(file + ": cannot read the scenario file");
  return buf.str();
}

// The scenario file must be the one the report was made from: the same name
// and, when the report has the digest, the same bytes.
void check_same_scenario(const scenarios::Report& r, const std::string& report,
                         const std::string& file, const std::string& text) {
  const nlohmann::json root = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  const std::string name = root.is_object() && root.contains("name") && root["name"].is_string()
                               ? root["name"].get<std::string>()
                               : "";
  if (root.is_object() && name != r.scenario_name) {
    throw scenarios::ScenarioError(report + ": /scenario_name: the report is for scenario '" +
                                   r.scenario_name + "' but " + file + " is scenario '" + name +
                                   "'");
  }
  const std::string sha = sim::sha256_hex(text);
  if (!r.scenario_sha256.empty() && sha != r.scenario_sha256) {
    throw scenarios::ScenarioError(report + ": /scenario_sha256: " + file +
                                   " is not the file the report was made from (its " +
                                   "sha256 is " + sha.substr(0, 16) + "..., the report's " +
                                   r.scenario_sha256.substr(0, 16) + "...)");
  }
}

// Every host image the report's runs read must still be the same file.
void check_same_images(const scenarios::Report& r, const std::string& report,
                       const scenarios::Scenario& s) {
  for (std::size_t i = 0; i < r.images.size(); ++i) {
    const auto& image = r.images[i];
    const std::string place = report + ": /images/" + std::to_string(i) + ": ";
    std::string sha, why;
    if (!s.images->snapshot(image.path, &sha, &why)) throw scenarios::ScenarioError(place + why);
    if (sha != image.sha256) {
      throw scenarios::ScenarioError(place + image.path + " (" + s.images->resolve(image.path) +
                                     ") is not the image the report was made from (its sha256 "
                                     "is " +
                                     sha.substr(0, 16) + "..., the report's " +
                                     image.sha256.substr(0, 16) + "...)");
    }
  }
}

}  // namespace

Loaded load_report(const std::string& path, const std::optional<std::string>& scenario_file) {
  Loaded l;
  l.report = scenarios::read_report(path);
  std::string file;
  if (scenario_file) {
    file = *scenario_file;
  } else {
    // The first candidate with the report's bytes; else the first, to be
    // named in the mismatch error.
    const auto found = scenario_candidates(l.report, path);
    for (const auto& f : found) {
      if (sim::sha256_hex(read_text(f)) == l.report.scenario_sha256) {
        file = f;
        break;
      }
    }
    if (file.empty() && !found.empty()) file = found.front();
  }
  if (file.empty()) {
    throw scenarios::ScenarioError(
        path + ": /scenario: the report's scenario file '" + l.report.scenario +
        "' does not exist" +
        (l.report.scenario_abs.empty() ? "" : " (nor " + l.report.scenario_abs + ")") +
        "; give it with --scenario FILE");
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw scenarios::ScenarioError(file + ": --scenario: not a regular file");
  }
  check_same_scenario(l.report, path, file, read_text(file));
  l.scenario = load(file, scenarios::report_overrides(l.report, path));
  check_same_images(l.report, path, *l.scenario);
  l.report.scenario = file;  // as found: a report written from this one is placed from here
  l.run = scenarios::make_run_fn(l.scenario);
  l.machine = scenarios::machine_options(*l.scenario, true);
  l.machine.seed = l.report.result.seed;
  return l;
}

bool same_run(const sim::RunResult& a, const sim::RunResult& b) {
  return a.outcome == b.outcome && a.trace_hash == b.trace_hash;
}

namespace {

std::string outcome_and_hash(const sim::RunResult& r) {
  return std::string(sim::outcome_name(r.outcome)) + " (trace " +
         scenarios::hash_hex(r.trace_hash) + ")";
}

}  // namespace

int not_reproduced(std::ostream& out, const sim::RunResult& want, const sim::RunResult& got,
                   bool diverged) {
  out << "NOT reproduced: the report says " << outcome_and_hash(want) << ", the replay gave "
      << outcome_and_hash(got);
  if (diverged) out << "; the run left the recorded schedule";
  out << "\n";
  if (got.failed()) out << "  " << got.message << "\n";
  return kExitNotReproduced;
}

namespace {

std::string describe_site(const sim::RunResult& r) {
  std::string out = r.failure_lwp.empty() ? "no lwp" : "lwp '" + r.failure_lwp + "'";
  if (!r.failure_op.empty()) out += ", in " + r.failure_op;
  return out;
}

std::string default_shrunk_path(const std::string& report) {
  const std::string_view ext = ".json";
  const bool has_ext = report.size() > ext.size() && report.ends_with(ext);
  return (has_ext ? report.substr(0, report.size() - ext.size()) : report) + ".shrunk.json";
}

}  // namespace

int replay_command(const ParsedArgs& args) {
  const std::string path = one_positional(args, "REPORT.json");
  if (replay_is_recording(path)) return replay_recording(path, args);  // vfsim mount --record
  if (is_recording_report(path)) return replay_recording_report(path, args);
  const Loaded l = load_report(path, args.value("scenario"));
  bool diverged = false;
  const sim::RunResult r = sim::replay(l.run, l.machine, l.report.result.schedule, &diverged);
  verify_images(*l.scenario);
  const bool json = args.flag("json");
  std::ostream& human = json ? std::cerr : std::cout;
  if (args.flag("trace")) print_trace(human, r.events);
  write_trace_out(args, human, r, l.scenario->path, l.scenario->name);
  const bool reproduced = same_run(r, l.report.result);
  if (json) {
    std::cout << nlohmann::json{{"reproduced", reproduced},
                                {"outcome", std::string(sim::outcome_name(r.outcome))},
                                {"trace_hash", scenarios::hash_hex(r.trace_hash)},
                                {"report_outcome",
                                 std::string(sim::outcome_name(l.report.result.outcome))},
                                {"report_trace_hash",
                                 scenarios::hash_hex(l.report.result.trace_hash)},
                                {"diverged", diverged},
                                {"steps", r.steps},
                                {"message", r.message}}
                     .dump()
              << "\n";
  }
  if (!reproduced) return not_reproduced(human, l.report.result, r, diverged);
  human << "reproduced: " << outcome_and_hash(r) << ", " << r.steps << " steps\n  " << r.message
        << "\n";
  return r.failed() ? kExitFailure : kExitPass;
}

int shrink_command(const ParsedArgs& args) {
  const std::string path = one_positional(args, "REPORT.json");
  const std::string out_path = args.value("out").value_or(default_shrunk_path(path));
  const std::uint64_t attempts = args.number("attempts").value_or(2000);
  if (is_recording_report(path)) return shrink_recording_report(path, args);
  const Loaded l = load_report(path, args.value("scenario"));
  const bool json = args.flag("json");
  std::ostream& human = json ? std::cerr : std::cout;
  sim::MachineOptions quick = l.machine;
  quick.keep_trace = false;
  const sim::RunResult original = sim::replay(l.run, quick, l.report.result.schedule);
  if (!same_run(original, l.report.result) || !original.failed()) {
    return not_reproduced(human, l.report.result, original, false);
  }
  const sim::ShrinkResult sr = sim::shrink(l.run, quick, original, attempts);
  // Once more with the full trace, for the shrunk report.
  const sim::RunResult full = sim::replay(l.run, l.machine, sr.result.schedule);
  verify_images(*l.scenario);
  if (args.flag("trace")) print_trace(human, full.events);
  scenarios::Report shrunk = l.report;
  shrunk.result = full;
  shrunk.strategy = l.report.strategy + "+shrink";
  std::string why;
  if (!scenarios::write_report(shrunk, out_path, &why)) throw UsageError(why);
  human << "shrunk: " << sim::outcome_name(full.outcome) << ": " << sr.original_decisions
        << " decisions, " << sr.original_preemptions << " preemptions -> " << sr.decisions
        << " decisions, " << sr.preemptions << " preemptions (" << sr.attempts << " replays)\n"
        << "  " << full.message << "\n  site: " << describe_site(full)
        << " (the same as the report's)\n  report: " << out_path << "\n  replay: vfsim replay "
        << out_path << "\n";
  write_trace_out(args, human, full, l.scenario->path, l.scenario->name);
  if (json) {
    std::cout << nlohmann::json{{"outcome", std::string(sim::outcome_name(full.outcome))},
                                {"decisions_before", sr.original_decisions},
                                {"preemptions_before", sr.original_preemptions},
                                {"decisions_after", sr.decisions},
                                {"preemptions_after", sr.preemptions},
                                {"attempts", sr.attempts},
                                {"report", out_path}}
                     .dump()
              << "\n";
  }
  return kExitFailure;
}

}  // namespace vfsim::cli
