// Pieces shared by the vfsim subcommands: loading the scenario with its
// overrides, common options, writing the failure report and printing it.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "scenarios/loader.h"
#include "scenarios/report.h"
#include "scenarios/scenario.h"
#include "sim/explore.h"
#include "sim/machine.h"

namespace vfsim::cli {

inline constexpr OptionSpec kSetOption{"set", "KEY=VALUE",
                                       "override a config knob or explore.* setting (repeatable)"};
inline constexpr OptionSpec kReportOption{"report", "FILE",
                                          "where a failure report goes (vfsim-report.json)"};
inline constexpr OptionSpec kTraceOption{"trace", "", "print the trace of the run"};
inline constexpr OptionSpec kJsonOption{"json", "", "print a JSON summary on stdout"};
inline constexpr OptionSpec kTraceOutOption{
    "trace-out", "FILE",
    "write the run's trace for Perfetto / chrome://tracing (Chrome trace-event JSON)"};
inline constexpr OptionSpec kScenarioOption{
    "scenario", "FILE",
    "the scenario file to use (default: the report's, found beside the report or at its "
    "absolute path); its content must be the report's"};
inline constexpr std::string_view kDefaultReport = "vfsim-report.json";

// The single positional argument; UsageError when there is not exactly one.
[[nodiscard]] std::string one_positional(const ParsedArgs& args, std::string_view what);

// The --set options as overrides, in order.
[[nodiscard]] std::vector<scenarios::Override> set_overrides(const ParsedArgs& args);

[[nodiscard]] std::shared_ptr<const scenarios::Scenario> load(
    const std::string& path, const std::vector<scenarios::Override>& overrides);

[[nodiscard]] std::string report_path(const ParsedArgs& args);

// Throws a ScenarioError when a host image changed while the runs read it:
// their verdict is then about no one image (sim/host_images.h).
void verify_images(const scenarios::Scenario& s);

void print_trace(std::ostream& out, const std::vector<sim::TraceEvent>& events);

// With --trace-out FILE, writes `r` (run with a kept trace) there in the
// Chrome trace-event format (sim/trace_export.h), naming the scenario and
// the run in its metadata, and says so on `human`. UsageError when the file
// cannot be written.
void write_trace_out(const ParsedArgs& args, std::ostream& human, const sim::RunResult& r,
                     const std::string& scenario_path, const std::string& scenario_name);

// Virtual time as seconds with nanosecond digits: "0.250000000s".
[[nodiscard]] std::string format_vtime(sim::VTime t);

// The exploration a scenario's effective explore settings describe (one
// job, stopping at the first failure).
// A scenario whose ops run foreign code with process-wide state explores
// its jobs as worker processes (ExploreOptions::processes).
[[nodiscard]] sim::ExploreOptions exploration_options(const scenarios::Scenario& s);

// One "note: ..." line per caveat of the scenario (Scenario::caveats).
void print_caveats(std::ostream& out, const scenarios::Scenario& s);

// The `vfsim run` command that runs the same schedule again: the scenario
// file as given, every override as --set, and --schedule-index for a
// schedule of an exploration. Quoted for a POSIX shell.
[[nodiscard]] std::string rerun_command(const std::string& file,
                                        const std::vector<scenarios::Override>& overrides,
                                        std::optional<std::uint64_t> schedule_index);

// A failure report loaded to be run again: the scenario it names (found
// beside the report, at its absolute path or at `scenario_file`, and checked
// to be the report's bytes and images), the run function and the machine
// options of the report's run, with the full trace kept. ScenarioError when
// the report or its scenario is not usable.
struct Loaded {
  scenarios::Report report;
  std::shared_ptr<const scenarios::Scenario> scenario;
  sim::RunFn run;
  sim::MachineOptions machine;
};
[[nodiscard]] Loaded load_report(const std::string& path,
                                 const std::optional<std::string>& scenario_file);

// Whether a re-run is the report's run: the same outcome and trace hash.
[[nodiscard]] bool same_run(const sim::RunResult& a, const sim::RunResult& b);

// Prints that a re-run gave another outcome or trace than the report's;
// returns kExitNotReproduced.
int not_reproduced(std::ostream& out, const sim::RunResult& want, const sim::RunResult& got,
                   bool diverged);

// Writes the report and prints the failure: outcome, message, seed, schedule
// size, the report path and the two commands that reproduce it: replay of
// the report, and `rerun` (vfsim run with what it needs). Returns
// kExitFailure.
int report_failure(std::ostream& out, const scenarios::Report& report, const std::string& path,
                   const std::string& rerun);

}  // namespace vfsim::cli
