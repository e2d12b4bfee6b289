// A kept trace as a file that Perfetto (ui.perfetto.dev) and chrome://tracing
// open as they are: the Chrome trace-event JSON format.
//
//   processes  "user processes" (the lwps a scenario runs), "kernel" (the
//              kernel's daemons and a "machine" track for the scheduler and
//              the clock), and one per userspace server (Lwp::group).
//   threads    one track per lwp, named after it.
//   slices     every span of sim/trace_kinds.h (scenario ops, VOPs, server
//              ops) as B/E events, nested as they ran; a span the run ended
//              inside closes where its lwp exited (or at the end).
//   flows      every message that was received as an arrow (s/f events,
//              bound to 1 ns "send:"/"recv:" slices) from its send to its
//              receive; one lost or never received is an instant.
//   instants   waits (the resource named), wakes, preemptions, the failure
//              (global), and every other event but scheduling points and
//              decisions, which the text trace (--trace) has.
//
// Time: `ts` is in microseconds; it is the event's virtual time plus 2 ns
// per event before it in the trace (trace_tick_ns), so that what happened at
// one virtual instant keeps its order. Every event's args hold its machine
// step and exact virtual time. No pointer value or host time appears.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/machine.h"

namespace vfsim::sim {

// `r` must have been run with MachineOptions::keep_trace. `metadata` goes
// to the file's otherData object (scenario, seed, outcome...).
[[nodiscard]] std::string chrome_trace_json(
    const RunResult& r, const std::vector<std::pair<std::string, std::string>>& metadata);

// `text` as a JSON string literal, quotes included. Bytes that are not
// UTF-8 become \u00XX escapes, so the output is always valid JSON.
[[nodiscard]] std::string json_quote(std::string_view text);

}  // namespace vfsim::sim
