// A kept trace read as the tools that draw a run need it: the spans of work
// on each lwp, the messages between lwps (a send paired with its receive by
// key), and what happened before what. Built from the events alone, with the
// roles of sim/trace_kinds.h, so a transport or a span kind added there is
// drawn with no change here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/machine.h"
#include "sim/trace.h"
#include "sim/trace_kinds.h"

namespace vfsim::sim {

class TraceModel {
 public:
  struct Span {
    LwpId lwp = kNoLwp;
    std::size_t begin = 0;  // event index of its begin
    std::size_t end = 0;    // event index of its end, or where it was cut off
    bool ended = false;     // false: the lwp exited (or the run ended) inside it
    int depth = 0;          // 0 outermost on its lwp
    std::string kind;       // the begin event's kind ("op_begin", "span_begin")
    std::string name;       // the begin event's detail
    std::string result;     // the end event's detail ("" when cut off)
  };
  struct Message {
    std::size_t send = 0;                // event index
    std::optional<std::size_t> receive;  // none: never received (or dropped)
    bool dropped = false;
    std::string key;
    std::string label;  // message_label of the send
  };

  explicit TraceModel(const std::vector<TraceEvent>& events);

  const std::vector<TraceEvent>& events() const { return events_; }
  const std::vector<Span>& spans() const { return spans_; }           // in order of begin
  const std::vector<Message>& messages() const { return messages_; }  // in order of send
  EventRole role(std::size_t i) const { return roles_[i]; }

  // The index of the run's failure event, if there is one.
  std::optional<std::size_t> failure() const { return failure_; }

  // Happened-before, backwards from event `last`: for each lwp id, the
  // highest index of its events that happened before (or is) `last` along
  // program order, message receives (from their send), wakes (from the
  // wake to the woken lwp's next event), joins (from the joined lwp's exit)
  // and spawns (from the spawn to the child's first event). Memory shared
  // without a wait (a lock taken uncontended, a register) makes no edge. -1 for an lwp none of
  // whose events did. `lwp_count` is the number of lwps (RunResult::lwps).
  std::vector<long long> happened_before(std::size_t last, std::size_t lwp_count) const;

 private:
  const std::vector<TraceEvent>& events_;
  std::vector<EventRole> roles_;
  std::vector<Span> spans_;
  std::vector<Message> messages_;
  std::optional<std::size_t> failure_;
};

// A message's name on a drawing: the tag a sender gave it, which a send
// event's detail ends with in parentheses ("... (req 10 GETATTR cookie 2)"),
// else the whole detail.
[[nodiscard]] std::string message_label(std::string_view detail);

// Where an event is on a drawing's time axis, in nanoseconds: its virtual
// time plus two per event before it in the trace, so that events at one
// virtual instant keep their order and each has room for a 1 ns mark.
[[nodiscard]] inline std::uint64_t trace_tick_ns(const TraceEvent& e, std::size_t index) {
  return e.time + 2 * static_cast<std::uint64_t>(index);
}

}  // namespace vfsim::sim
