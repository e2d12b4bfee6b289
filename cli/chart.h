// The sequence chart of a run (`vfsim chart`), in the style of figure 5 of
// the PERFUSE paper: the lwps as columns (user processes left, the kernel's
// daemons, then each userspace server), time going down, the ops and server
// ops as boxes, messages as arrows from send to receive, the preemptions the
// schedule made, and the failure in red.
//
// By default the chart shows what the failure depends on: the events that
// happened before it (program order, messages, wakes and spawns; see
// sim::TraceModel::happened_before) after the scenario's setup, and only the
// lwps that take part. --all shows every lwp and message from the start;
// VOP boxes are left out unless asked for. The output is a standalone SVG
// (no script, no external resource); every element carries a <title> with
// the trace lines it stands for, and data- attributes naming its lwps and
// message, so tools and tests can read the chart back. The HTML form embeds
// the SVG and shows an element's trace lines beside it on hover.
#pragma once

#include <string>

#include "sim/machine.h"

namespace vfsim::cli {

struct ChartOptions {
  bool all = false;   // every lwp and message from the first event
  bool vops = false;  // VOP spans as nested boxes
  std::string title;  // first heading line
  std::string subtitle;
};

[[nodiscard]] std::string chart_svg(const sim::RunResult& r, const ChartOptions& o);
[[nodiscard]] std::string chart_html(const sim::RunResult& r, const ChartOptions& o);

}  // namespace vfsim::cli
