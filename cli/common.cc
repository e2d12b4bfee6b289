// Shared CLI helpers.
#include "cli/common.h"

#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "scenarios/modules.h"
#include "scenarios/runner.h"
#include "sim/trace_export.h"

namespace vfsim::cli {

std::string one_positional(const ParsedArgs& args, std::string_view what) {
  if (args.positional.size() != 1) {
    throw UsageError("expected exactly one " + std::string(what) +
                     (args.positional.empty()
                          ? ""
                          : ", got " + std::to_string(args.positional.size()) + " arguments"));
  }
  return args.positional.front();
}

std::vector<scenarios::Override> set_overrides(const ParsedArgs& args) {
  std::vector<scenarios::Override> out;
  for (const auto& s : args.all("set")) out.push_back(scenarios::parse_set(s));
  return out;
}

std::shared_ptr<const scenarios::Scenario> load(const std::string& path,
                                                const std::vector<scenarios::Override>& overrides) {
  return std::make_shared<const scenarios::Scenario>(
      scenarios::load_scenario(path, scenarios::default_catalog(), overrides));
}

std::string report_path(const ParsedArgs& args) {
  return args.value("report").value_or(std::string(kDefaultReport));
}

void verify_images(const scenarios::Scenario& s) {
  if (!s.images) return;
  if (const std::string changed = s.images->verify(); !changed.empty()) {
    throw scenarios::ScenarioError(s.path + ": " + changed);
  }
}

std::string format_vtime(sim::VTime t) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu.%09llus", static_cast<unsigned long long>(t / sim::kSecond),
                static_cast<unsigned long long>(t % sim::kSecond));
  return buf;
}

void print_trace(std::ostream& out, const std::vector<sim::TraceEvent>& events) {
  for (const auto& e : events) {
    out << "  [" << e.step << " " << format_vtime(e.time) << "] ";
    if (e.lwp == sim::kNoLwp) out << "machine";
    else out << "lwp " << e.lwp;
    out << " " << e.kind << ": " << e.detail << "\n";
  }
}

void write_trace_out(const ParsedArgs& args, std::ostream& human, const sim::RunResult& r,
                     const std::string& scenario_path, const std::string& scenario_name) {
  const auto path = args.value("trace-out");
  if (!path) return;
  const std::string text = sim::chrome_trace_json(
      r, {{"scenario", scenario_path},
          {"scenario_name", scenario_name},
          {"seed", std::to_string(r.seed)},
          {"outcome", std::string(sim::outcome_name(r.outcome))},
          {"message", r.message},
          {"trace_hash", scenarios::hash_hex(r.trace_hash)},
          {"time", "ts is virtual time in us plus 2 ns per trace event before it"}});
  std::ofstream out(*path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw UsageError("--trace-out " + *path + ": cannot write the file");
  human << "  trace: " << *path << " (open it in ui.perfetto.dev or chrome://tracing)\n";
}

namespace {

// Indents every line after the first, so a multi-line message (a deadlock's
// wait-for graph) stays readable under its heading.
std::string indent(std::string text, std::string_view pad) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

// A word as a POSIX shell reads it back: as is when it is made of safe
// characters, else in single quotes.
std::string shell_quote(const std::string& word) {
  const bool safe = !word.empty() && word.find_first_not_of(
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789_./=:,+-@%") == std::string::npos;
  if (safe) return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

}  // namespace

sim::ExploreOptions exploration_options(const scenarios::Scenario& s) {
  const auto& ex = s.explore;
  sim::ExploreOptions o;
  o.strategy = ex.strategy;
  o.schedules = ex.schedules;
  o.seed = ex.seed;
  o.depth = ex.depth;
  o.preemption_bound = ex.preemption_bound;
  o.machine = scenarios::machine_options(s, false);
  o.processes = s.process_isolation;  // foreign code with process-wide state: worker processes
  return o;
}

void print_caveats(std::ostream& out, const scenarios::Scenario& s) {
  for (const auto& c : s.caveats) out << "note: " << c << "\n";
}

std::string rerun_command(const std::string& file,
                          const std::vector<scenarios::Override>& overrides,
                          std::optional<std::uint64_t> schedule_index) {
  std::string out = "vfsim run " + shell_quote(file);
  for (const auto& o : overrides) out += " --set " + shell_quote(o.key + "=" + o.value);
  if (schedule_index) out += " --schedule-index " + std::to_string(*schedule_index);
  return out;
}

int report_failure(std::ostream& out, const scenarios::Report& report, const std::string& path,
                   const std::string& rerun) {
  const sim::RunResult& r = report.result;
  out << "FAILED: " << sim::outcome_name(r.outcome) << "\n";
  out << "  " << indent(r.message, "  ") << "\n";
  out << "  scenario: " << report.scenario << " (" << report.scenario_name << ")\n";
  out << "  seed: " << r.seed;
  if (report.schedule_index) {
    out << " (schedule #" << *report.schedule_index << " of the exploration with seed "
        << report.explore.value("seed", std::uint64_t{0}) << ")";
  }
  out << "  strategy: " << report.strategy;
  out << "\n  schedule: " << r.schedule.size() << " decisions, " << r.preemptions
      << " preemptions, " << r.steps << " steps, trace " << scenarios::hash_hex(r.trace_hash)
      << "\n";
  std::string why;
  if (scenarios::write_report(report, path, &why)) {
    out << "  report: " << path << "\n";
    out << "  replay: vfsim replay " << shell_quote(path) << "\n";
  } else {
    out << "  report: NOT WRITTEN: " << why << "\n";
  }
  out << "  rerun:  " << rerun << "\n";
  for (const auto& c : report.caveats) out << "  note: " << c << "\n";
  return kExitFailure;
}

}  // namespace vfsim::cli
