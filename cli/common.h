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

// Virtual time as seconds with nanosecond digits: "0.250000000s".
[[nodiscard]] std::string format_vtime(sim::VTime t);

// The exploration a scenario's effective explore settings describe (one
// job, stopping at the first failure).
[[nodiscard]] sim::ExploreOptions exploration_options(const scenarios::Scenario& s);

// The `vfsim run` command that runs the same schedule again: the scenario
// file as given, every override as --set, and --schedule-index for a
// schedule of an exploration. Quoted for a POSIX shell.
[[nodiscard]] std::string rerun_command(const std::string& file,
                                        const std::vector<scenarios::Override>& overrides,
                                        std::optional<std::uint64_t> schedule_index);

// Writes the report and prints the failure: outcome, message, seed, schedule
// size, the report path and the two commands that reproduce it: replay of
// the report, and `rerun` (vfsim run with what it needs). Returns
// kExitFailure.
int report_failure(std::ostream& out, const scenarios::Report& report, const std::string& path,
                   const std::string& rerun);

}  // namespace vfsim::cli
