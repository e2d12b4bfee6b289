// What each kind of trace event means to the tools that draw a run (the
// Perfetto/chrome://tracing file of `--trace-out`, `vfsim chart`): one table.
//
// A trace event is a kind, a detail text and, for the kinds that pair up, a
// key (TraceEvent::key). The tools know nothing about puffs, sockets or FUSE:
// they read each event's role from this table. A layer that adds a message
// transport, or a kind of span, adds rows here and sets the key on its
// events; the trace writer and the chart then draw it with no change.
//
//   send / receive  a message leaving one lwp and arriving at another. Both
//                   events carry the same key, made of what pairs them on
//                   the wire (a socket's name, the direction and the message
//                   number; a request id); the tools draw an arrow from the
//                   send to the receive. A send with no receive (still
//                   queued when the run ended) is drawn without an arrow.
//   drop            a message lost on the way (key as its send): no arrow.
//   begin / end     a span of work on one lwp (a scenario op, a VOP, a server
//                   op). Spans nest: an end closes the innermost open span of
//                   its lwp. A span still open when its lwp exits (the run
//                   ended inside it) closes there.
//   block           the lwp waits; the detail names the resource.
//   wake            the lwp makes another ready; the key is the woken lwp's id.
//   joined          the lwp saw another one finished (join); the key is its id.
//   preempt         the strategy switched away from this lwp while it could
//                   still run; the detail names who ran instead.
//   failure         the run's failure.
//   exit            the lwp finished.
//   notice          something a reader of a chart should see where it
//                   happened (a stale size applied, a bad reply, a fault).
//   plain           anything else: a line of text on the lwp's track.
#pragma once

#include <cstdint>
#include <string_view>

namespace vfsim::sim {

enum class EventRole : std::uint8_t {
  plain,
  send,
  receive,
  drop,
  begin,
  end,
  block,
  wake,
  joined,
  preempt,
  failure,
  exit,
  notice,
};

struct EventKind {
  std::string_view kind;  // TraceEvent::kind
  EventRole role;
  std::string_view what;  // what the key (or the detail) holds, for readers of the table
};

// The table. One row per kind the tools draw as more than a line of text.
inline constexpr EventKind kEventKinds[] = {
    // sim/socket.cc: every socket pair (puffs, and FUSE's /dev/fuse) carries
    // its messages with these; the detail holds the sender's tag (e.g.
    // "req 10 GETATTR cookie 2").
    {"sock_send", EventRole::send, "key: socket name, direction, message number"},
    {"sock_recv", EventRole::receive, "key: as its sock_send"},
    {"sock_drop", EventRole::drop, "key: as the sock_send it would have been"},
    // scenarios/runner.cc: a scenario op (a syscall, or a module's op).
    {"op_begin", EventRole::begin, "detail: the op's place in the scenario"},
    {"op", EventRole::end, "detail: the call and its result"},
    // sim/trace_span.h: VOPs (vnode/vnode_if.h) and server ops.
    {"span_begin", EventRole::begin, "detail: what the span is"},
    {"span_end", EventRole::end, "detail: empty"},
    // sim/machine.cc
    {"block", EventRole::block, "detail: the resource waited for"},
    {"wake", EventRole::wake, "key: the woken lwp's id; detail: its name"},
    {"preempt", EventRole::preempt, "detail: who runs instead"},
    {"failure", EventRole::failure, "detail: the failure"},
    {"exit", EventRole::exit, "detail: the lwp's name"},
    {"joined", EventRole::joined, "key: the joined lwp's id"},
    // Notices (fsdrivers/puffs, sim/socket_faults.cc).
    {"puffs_size_shrink", EventRole::notice, "a GETATTR reply shrank the kernel's size"},
    {"puffs_bad_reply", EventRole::notice, "a reply that made no sense"},
    {"puffs_retry", EventRole::notice, "a request sent again after its timeout"},
    {"puffs_timeout", EventRole::notice, "a request given up"},
    {"puffs_server_gone", EventRole::notice, "the server died: forced unmount"},
    {"sock_fault_drop", EventRole::notice, "an injected loss"},
    {"sock_fault_delay", EventRole::notice, "an injected delay"},
    {"sock_fault_duplicate", EventRole::notice, "an injected duplicate"},
    {"sock_fault_reorder", EventRole::notice, "an injected reordering"},
};

// The role of an event kind: its row's, or plain.
[[nodiscard]] constexpr EventRole event_role(std::string_view kind) {
  for (const EventKind& k : kEventKinds) {
    if (k.kind == kind) return k.role;
  }
  return EventRole::plain;
}

}  // namespace vfsim::sim
