// `vfsim replay REPORT` and `vfsim shrink REPORT`: both re-run a report's
// schedule on the scenario it names, with the configuration it records.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "scenarios/runner.h"

namespace vfsim::cli {

namespace fs = std::filesystem;

std::span<const OptionSpec> replay_options() {
  static constexpr OptionSpec kOptions[] = {kTraceOption, kJsonOption};
  return kOptions;
}

std::span<const OptionSpec> shrink_options() {
  static constexpr OptionSpec kOptions[] = {
      {"out", "FILE", "where the shrunk report goes (default REPORT.shrunk.json)"},
      {"attempts", "N", "most replays to try (default 2000)"},
      kTraceOption,
      kJsonOption,
  };
  return kOptions;
}

namespace {

struct Loaded {
  scenarios::Report report;
  std::shared_ptr<const scenarios::Scenario> scenario;
  sim::RunFn run;
  sim::MachineOptions machine;
};

// A relative scenario path is tried from the current directory first, then
// from the report's directory (a report moved along with its scenario).
std::string resolve_scenario(const std::string& scenario, const std::string& report) {
  if (fs::path(scenario).is_absolute() || fs::exists(scenario)) return scenario;
  const fs::path beside = fs::path(report).parent_path() / scenario;
  return fs::exists(beside) ? beside.string() : scenario;
}

Loaded load_report(const std::string& path) {
  Loaded l;
  l.report = scenarios::read_report(path);
  const std::string file = resolve_scenario(l.report.scenario, path);
  if (!fs::exists(file)) {
    throw scenarios::ScenarioError(path + ": /scenario: the report's scenario file '" +
                                   l.report.scenario + "' does not exist");
  }
  l.scenario = load(file, scenarios::report_overrides(l.report, path));
  if (l.scenario->name != l.report.scenario_name) {
    throw scenarios::ScenarioError(path + ": /scenario_name: the report is for scenario '" +
                                   l.report.scenario_name + "' but " + file + " is scenario '" +
                                   l.scenario->name + "'");
  }
  l.run = scenarios::make_run_fn(l.scenario);
  l.machine = scenarios::machine_options(*l.scenario, true);
  l.machine.seed = l.report.result.seed;
  return l;
}

bool same_run(const sim::RunResult& a, const sim::RunResult& b) {
  return a.outcome == b.outcome && a.trace_hash == b.trace_hash;
}

std::string outcome_and_hash(const sim::RunResult& r) {
  return std::string(sim::outcome_name(r.outcome)) + " (trace " +
         scenarios::hash_hex(r.trace_hash) + ")";
}

int not_reproduced(std::ostream& out, const sim::RunResult& want, const sim::RunResult& got,
                   bool diverged) {
  out << "NOT reproduced: the report says " << outcome_and_hash(want) << ", the replay gave "
      << outcome_and_hash(got);
  if (diverged) out << "; the run left the recorded schedule";
  out << "\n";
  if (got.failed()) out << "  " << got.message << "\n";
  return kExitNotReproduced;
}

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
  const Loaded l = load_report(path);
  bool diverged = false;
  const sim::RunResult r = sim::replay(l.run, l.machine, l.report.result.schedule, &diverged);
  verify_images(*l.scenario);
  const bool json = args.flag("json");
  std::ostream& human = json ? std::cerr : std::cout;
  if (args.flag("trace")) print_trace(human, r.events);
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
  const Loaded l = load_report(path);
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
