#include "sim/socket.h"

#include <algorithm>
#include <cerrno>

namespace vfsim::sim {

std::string_view sock_type_name(SockType t) {
  switch (t) {
    case SockType::seqpacket: return "seqpacket";
    case SockType::dgram: return "dgram";
    case SockType::stream: return "stream";
  }
  return "?";
}

std::optional<SockType> sock_type_from_name(std::string_view name) {
  if (name == "seqpacket") return SockType::seqpacket;
  if (name == "dgram") return SockType::dgram;
  if (name == "stream") return SockType::stream;
  return std::nullopt;
}

// The real end of a pair: forwards to the pair's state with its index.
class LocalSocket final : public Socket {
 public:
  LocalSocket(SocketPair& pair, int index, std::string name)
      : pair_(pair), index_(index), name_(std::move(name)) {}
  IoResult send(std::string_view bytes, std::string_view tag) override {
    if (pair_.options_.type == SockType::stream) return pair_.send_stream(index_, bytes, tag);
    return pair_.send_message(index_, bytes, tag);
  }
  IoResult recv(std::string* out, std::size_t max, VTime timeout) override {
    return pair_.recv(index_, out, max, timeout);
  }
  void close() override { pair_.close(index_); }
  SockType type() const override { return pair_.options_.type; }
  const std::string& name() const override { return name_; }
  bool closed() const override { return pair_.ep_[index_]->closed; }

 private:
  SocketPair& pair_;
  int index_;
  std::string name_;
};

SocketPair::Endpoint::Endpoint(Machine& m, const std::string& name)
    : readable(m, "socket '" + name + "' data"), writable(m, "socket '" + name + "' room") {}

SocketPair::SocketPair(Machine& m, SocketOptions options)
    : machine_(m), options_(std::move(options)) {
  for (int i = 0; i < 2; ++i) {
    const std::string n = options_.name + "." + std::to_string(i);
    ep_[i] = std::make_unique<Endpoint>(m, n);
    ends_[i] = std::make_unique<LocalSocket>(*this, i, n);
  }
}

SocketPair::~SocketPair() = default;

Socket& SocketPair::end(int i) { return *ends_[i & 1]; }
std::size_t SocketPair::queued_bytes(int i) const { return ep_[i & 1]->used; }
std::size_t SocketPair::queued_messages(int i) const { return ep_[i & 1]->rcv.size(); }

void SocketPair::declare_user(int i, LwpId id) {
  ep_[i & 1]->writable.add_waker(id);
  ep_[1 - (i & 1)]->readable.add_waker(id);
}

void SocketPair::declare_sender(int i, LwpId id) { ep_[1 - (i & 1)]->readable.add_waker(id); }

int SocketPair::peer_closed_errno() const {
  return options_.type == SockType::dgram ? ECONNREFUSED : EPIPE;
}

// The hash takes the numbers only (cheap, and the same whether or not the
// text is kept); the text, with the caller's tag, goes to a kept trace.
void SocketPair::note(std::string_view kind, int src, std::uint64_t seq, std::string_view tag,
                      std::size_t len) {
  Trace& t = machine_.trace();
  t.mix(kind);
  t.mix((seq << 8) | static_cast<std::uint64_t>(src));
  t.mix(static_cast<std::uint64_t>(len));
  if (!t.keeping()) return;
  std::string d = options_.name + " " + std::to_string(src) + "->" + std::to_string(1 - src) +
                  " msg #" + std::to_string(seq) + " len " + std::to_string(len);
  if (!tag.empty()) d += " (" + std::string(tag) + ")";
  t.note(machine_.steps(), machine_.now(), machine_.in_lwp() ? machine_.current_id() : kNoLwp, kind,
         d, message_key(src, seq));
}

// What pairs a message's send with its receive in a kept trace
// (sim/trace_kinds.h): the pair, the direction and the message number.
std::string SocketPair::message_key(int src, std::uint64_t seq) const {
  return options_.name + " " + std::to_string(src) + "->" + std::to_string(1 - src) + " #" +
         std::to_string(seq);
}

// The receive of a whole message (on a stream: of its last byte), for a kept
// trace only: what was received is already decided by the hashed schedule.
void SocketPair::note_received(int src, std::uint64_t seq) {
  Trace& t = machine_.trace();
  if (!t.keeping()) return;
  t.note(machine_.steps(), machine_.now(), machine_.in_lwp() ? machine_.current_id() : kNoLwp,
         "sock_recv",
         options_.name + " " + std::to_string(src) + "->" + std::to_string(1 - src) + " msg #" +
             std::to_string(seq),
         message_key(src, seq));
}

bool SocketPair::has_room(int dst_index, std::size_t n) const {
  const Endpoint& dst = *ep_[dst_index];
  const SockBufOptions& b = options_.buf[dst_index];
  if (b.rcvbuf_msgs != 0 && dst.rcv.size() >= b.rcvbuf_msgs) return false;
  return dst.used + n <= b.rcvbuf_bytes;
}

void SocketPair::enqueue(int dst, std::string_view bytes, std::uint64_t seq) {
  Endpoint& e = *ep_[dst];
  e.rcv.push_back(Segment{std::string(bytes), seq, true});
  e.used += bytes.size();
  if (!e.readable.has_sleepers()) return;
  // One message, one reader: each woken reader takes a message or, if an
  // lwp that was not asleep took it first, sleeps again; a message queued
  // while nobody sleeps is found by the next reader before it sleeps.
  if (options_.exclusive_wakeup) e.readable.wakeup_one();
  else e.readable.wakeup();
}

// A stream write lands as one or more pieces; the cut points are drawn from
// the machine's RNG so the same seed cuts the same way.
void SocketPair::enqueue_stream(int dst, std::string_view bytes, std::uint64_t seq, bool last) {
  Endpoint& e = *ep_[dst];
  while (bytes.size() >= 2 && machine_.rng().chance(options_.stream.split_per_million, 1'000'000)) {
    const std::size_t cut = 1 + machine_.rng().below(bytes.size() - 1);
    e.rcv.push_back(Segment{std::string(bytes.substr(0, cut)), seq, false});
    e.used += cut;
    bytes.remove_prefix(cut);
  }
  e.rcv.push_back(Segment{std::string(bytes), seq, last});
  e.used += bytes.size();
  if (e.readable.has_sleepers()) e.readable.wakeup();
}

IoResult SocketPair::send_message(int src, std::string_view bytes, std::string_view tag) {
  machine_.sched_point("sock_send");
  Endpoint& me = *ep_[src];
  Endpoint& dst = *ep_[1 - src];
  if (me.closed) return {Status(EBADF)};
  const std::size_t cap = options_.buf[1 - src].rcvbuf_bytes;
  if (bytes.size() > cap) return {Status(EMSGSIZE)};
  const std::uint64_t seq = me.next_seq++;
  for (;;) {
    if (me.closed) return {Status(EBADF)};
    if (dst.closed) return {Status(peer_closed_errno())};
    if (has_room(1 - src, bytes.size())) break;
    if (options_.type == SockType::dgram) {
      ++dropped_;
      note("sock_drop", src, seq, tag, bytes.size());
      return {kOk, bytes.size()};  // dropped silently: the sender never knows
    }
    dst.writable.sleep("sndbuf full");
  }
  note("sock_send", src, seq, tag, bytes.size());
  enqueue(1 - src, bytes, seq);
  return {kOk, bytes.size()};
}

// A blocking stream write: as much as fits goes in, then it waits for room,
// until every byte is queued (or the peer goes away).
IoResult SocketPair::send_stream(int src, std::string_view bytes, std::string_view tag) {
  machine_.sched_point("sock_send");
  Endpoint& me = *ep_[src];
  Endpoint& dst = *ep_[1 - src];
  if (me.closed) return {Status(EBADF)};
  const std::uint64_t seq = me.next_seq++;
  note("sock_send", src, seq, tag, bytes.size());
  const std::size_t cap = options_.buf[1 - src].rcvbuf_bytes;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    if (me.closed) return {Status(EBADF), sent};
    if (dst.closed) return {Status(EPIPE), sent};
    // A stream counts bytes only; rcvbuf_msgs does not apply.
    const std::size_t room = dst.used < cap ? cap - dst.used : 0;
    if (room == 0) {
      dst.writable.sleep("sndbuf full");
      continue;
    }
    const std::size_t n = std::min(room, bytes.size() - sent);
    enqueue_stream(1 - src, bytes.substr(sent, n), seq, sent + n == bytes.size());
    sent += n;
  }
  return {kOk, sent};
}

IoResult SocketPair::recv(int me_index, std::string* out, std::size_t max, VTime timeout) {
  machine_.sched_point("sock_recv");
  Endpoint& me = *ep_[me_index];
  const Endpoint& peer = *ep_[1 - me_index];
  out->clear();
  for (;;) {
    if (me.closed) return {Status(EBADF)};
    if (!me.rcv.empty()) break;
    if (me.reset_pending) {
      me.reset_pending = false;
      return {Status(ECONNRESET)};
    }
    if (peer.closed) return {kOk, 0, true};
    if (!me.readable.sleep("recv", timeout)) return {Status(EAGAIN)};
  }
  IoResult r;
  take(me_index, out, max, &r);
  if (me.writable.has_sleepers()) me.writable.wakeup();
  return r;
}

// Takes one message (seqpacket, dgram) or some bytes (stream) from the front.
void SocketPair::take(int me_index, std::string* out, std::size_t max, IoResult* r) {
  Endpoint& me = *ep_[me_index];
  Segment& front = me.rcv.front();
  if (options_.type != SockType::stream) {
    r->truncated = front.bytes.size() > max;
    out->assign(front.bytes, 0, std::min(max, front.bytes.size()));
    me.used -= front.bytes.size();
    note_received(1 - me_index, front.seq);
    me.rcv.pop_front();
    r->bytes = out->size();
    return;
  }
  for (;;) {
    Segment& s = me.rcv.front();
    const std::size_t n = std::min(max - out->size(), s.bytes.size());
    out->append(s.bytes, 0, n);
    me.used -= n;
    if (n < s.bytes.size()) {
      s.bytes.erase(0, n);
      break;
    }
    if (s.last) note_received(1 - me_index, s.seq);
    me.rcv.pop_front();
    if (me.rcv.empty() || out->size() == max) break;
    if (!machine_.rng().chance(options_.stream.join_per_million, 1'000'000)) break;
  }
  r->bytes = out->size();
}

void SocketPair::close(int me_index) {
  Endpoint& me = *ep_[me_index];
  Endpoint& peer = *ep_[1 - me_index];
  if (me.closed) return;
  me.closed = true;
  if (!me.rcv.empty()) peer.reset_pending = options_.type != SockType::dgram;
  me.rcv.clear();
  me.used = 0;
  machine_.event("sock_close", options_.name + " end " + std::to_string(me_index));
  // Everyone blocked on either end must look again: readers of the peer see
  // EOF, senders into either end see EPIPE or EBADF.
  me.readable.wakeup_quiet();
  me.writable.wakeup_quiet();
  peer.readable.wakeup_quiet();
  peer.writable.wakeup_quiet();
  if (!machine_.killing() && machine_.in_lwp()) machine_.sched_point("sock_close");
}

}  // namespace vfsim::sim
