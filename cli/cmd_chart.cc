// `vfsim chart REPORT.json -o chart.svg`: replays a failure report with its
// full trace and draws its sequence chart (cli/chart.h), as SVG or as HTML
// with the SVG embedded and the trace lines shown on hover.
#include <fstream>
#include <iostream>

#include "cli/chart.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace vfsim::cli {

std::span<const OptionSpec> chart_options() {
  static constexpr OptionSpec kOptions[] = {
      {"out", "FILE", "where the chart goes (default: REPORT with .svg or .html)", "o"},
      {"format", "svg|html", "SVG (default), or HTML with the SVG and the trace lines on hover"},
      {"all", "", "every lwp and message from the start, not only what the failure depends on"},
      {"vops", "", "draw the VOPs inside the ops as nested boxes"},
      kScenarioOption,
  };
  return kOptions;
}

namespace {

std::string default_chart_path(const std::string& report, std::string_view ext) {
  const bool json = report.size() > 5 && report.ends_with(".json");
  return (json ? report.substr(0, report.size() - 5) : report) + "." + std::string(ext);
}

}  // namespace

int chart_command(const ParsedArgs& args) {
  const std::string path = one_positional(args, "REPORT.json");
  const std::string format = args.value("format").value_or("svg");
  if (format != "svg" && format != "html") {
    throw UsageError("--format: expected svg or html, got '" + format + "'");
  }
  const std::string out_path = args.value("out").value_or(default_chart_path(path, format));
  const Loaded l = load_report(path, args.value("scenario"));
  bool diverged = false;
  const sim::RunResult r = sim::replay(l.run, l.machine, l.report.result.schedule, &diverged);
  verify_images(*l.scenario);
  if (!same_run(r, l.report.result)) return not_reproduced(std::cerr, l.report.result, r, diverged);

  ChartOptions o;
  o.all = args.flag("all");
  o.vops = args.flag("vops");
  o.title = l.scenario->name + ": " + std::string(sim::outcome_name(r.outcome));
  o.subtitle = "seed " + std::to_string(r.seed) + ", " + l.report.strategy + ", " +
               std::to_string(r.schedule.size()) + " decisions, " + std::to_string(r.preemptions) +
               " preemptions, trace " + scenarios::hash_hex(r.trace_hash) + " (" + path + ")";
  const std::string text = format == "html" ? chart_html(r, o) : chart_svg(r, o);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw UsageError("--out " + out_path + ": cannot write the file");
  std::cout << "chart: " << out_path << " (" << sim::outcome_name(r.outcome) << ", "
            << r.preemptions << " preemptions)\n";
  return kExitPass;
}

}  // namespace vfsim::cli
