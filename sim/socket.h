// Local sockets: the kernel IPC that carries puffs (and later FUSE) messages,
// with the three semantics the PERFUSE paper (section 3.3) ran into.
//
//   seqpacket  message boundaries kept, reliable and ordered; a sender blocks
//              while the peer's receive buffer has no room for its message.
//   dgram      message boundaries kept, but a datagram sent while the peer's
//              receive buffer is full is dropped silently (NetBSD's local
//              SOCK_DGRAM); the drop is recorded in the trace with its id.
//   stream     reliable ordered bytes; one write may arrive split and several
//              writes may arrive joined. The split points and joins come from
//              the machine's RNG, so a seed replays them exactly.
//
// A SocketPair is socketpair(2): two connected ends, each with its own
// receive buffer (bytes, and optionally a message count). Every send and recv
// is a scheduling point; blocking waits are on named sim WaitChannels, so a
// hang report says which socket an lwp was stuck on.
//
// Closing an end (a peer crash) follows POSIX as local sockets implement it:
// the peer first reads what was already delivered, then, if the closer left
// unread data behind, one ECONNRESET, then end-of-file (recv returns 0 bytes);
// the peer's sends fail with EPIPE (ECONNREFUSED on dgram, as connected local
// datagram sockets report); the closed end itself answers EBADF.
//
// Faults (drop, delay, duplicate, reorder) are not in here: they live in the
// FaultySocket wrapper (sim/socket_faults.h), which forwards to a real end.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sim/errno.h"
#include "sim/machine.h"
#include "sim/sync.h"

namespace vfsim::sim {

enum class SockType : std::uint8_t { seqpacket, dgram, stream };

std::string_view sock_type_name(SockType t);
std::optional<SockType> sock_type_from_name(std::string_view name);

// The outcome of one send or recv: a Status (kOk or an errno) and a byte
// count. A struct rather than a Result<T>, because an error can come with
// bytes: a stream send that fails with EPIPE or EBADF says how much of the
// write was queued before the peer went away. On recv, ok() with bytes == 0
// on a stream is end-of-file; on seqpacket and dgram an empty message is
// possible, so check eof instead.
struct [[nodiscard]] IoResult {
  Status status;
  std::size_t bytes = 0;
  bool eof = false;        // recv: the peer closed and everything was read
  bool truncated = false;  // recv: a message longer than `max` lost its tail
  bool ok() const { return status.ok(); }
  int err() const { return status.err(); }
};

struct SockBufOptions {
  std::size_t rcvbuf_bytes = std::size_t{64} * 1024;  // receive buffer capacity in bytes
  std::size_t rcvbuf_msgs = 0;                        // most queued messages; 0 = no limit
};

// How a stream cuts writes and joins reads, in chances per million.
struct StreamShaping {
  std::uint32_t split_per_million = 250'000;  // a write (or piece) is cut again
  std::uint32_t join_per_million = 250'000;   // a read runs into the next piece
};

struct SocketOptions {
  SockType type = SockType::seqpacket;
  std::string name = "sock";
  SockBufOptions buf[2];  // receive buffers of end 0 and end 1
  StreamShaping stream;
  // A message that arrives on seqpacket or dgram wakes one sleeping reader
  // (the strategy chooses which) instead of all of them, as Linux's readers
  // of /dev/fuse wait exclusively (one request, one daemon thread woken).
  // Off: every reader wakes and all but one sleep again. Streams always wake
  // every reader (a read may take part of a write).
  bool exclusive_wakeup = false;
};

// One end of a connected pair: the interface the layers above use, so a
// fault-injecting wrapper can stand in for the real end.
class Socket {
 public:
  virtual ~Socket() = default;
  // Sends one message (one write on a stream). `tag` names it in a kept
  // trace (e.g. "req 17 GETATTR"); it is not hashed, so callers may leave it
  // empty when the trace is not kept (Trace::keeping). Blocks on seqpacket
  // and stream while the peer's buffer is full. Errors: EBADF,
  // EPIPE/ECONNREFUSED, EMSGSIZE (a message larger than the peer's whole
  // buffer).
  virtual IoResult send(std::string_view bytes, std::string_view tag = {}) = 0;
  // Receives into *out (replacing it): one message on seqpacket and dgram,
  // some bytes on a stream. Blocks until something arrives; with a timeout
  // (virtual ns, 0 = none) answers EAGAIN when it expires.
  virtual IoResult recv(std::string* out, std::size_t max, VTime timeout = 0) = 0;
  // Closes this end; blocked peers wake and see EOF / EPIPE.
  virtual void close() = 0;
  virtual SockType type() const = 0;
  virtual const std::string& name() const = 0;
  virtual bool closed() const = 0;
};

class SocketPair {
 public:
  SocketPair(Machine& m, SocketOptions options);
  ~SocketPair();
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  Socket& end(int i);
  const SocketOptions& options() const { return options_; }
  // Bytes and messages queued for end `i` to read.
  std::size_t queued_bytes(int i) const;
  std::size_t queued_messages(int i) const;
  // Declares that lwp `id` reads and writes end `i`, so it can wake whoever
  // waits for data on the other end or for room in end `i`: waits on the
  // pair become wait-for edges for the deadlock oracle.
  void declare_user(int i, LwpId id);
  // Declares only that lwp `id` sends on end `i` (a server's worker that
  // answers on it): a wait for data on the other end waits for `id`. The
  // other direction gets no edge, so a reader idle for new work never looks
  // like part of a cycle.
  void declare_sender(int i, LwpId id);
  // Messages the pair dropped (dgram into a full buffer), for tests.
  std::uint64_t dropped() const { return dropped_; }

 private:
  friend class LocalSocket;
  struct Segment {
    std::string bytes;
    std::uint64_t seq = 0;  // message number in its direction, from 1
    bool last = true;       // a stream: the last piece of its write
  };
  // The receiving state of one end. Guarded by the single-runner rule of the
  // machine: nothing here changes between two scheduling points of others.
  struct Endpoint {
    Endpoint(Machine& m, const std::string& name);
    std::deque<Segment> rcv;  // what this end will read
    std::size_t used = 0;     // bytes in rcv
    bool closed = false;
    bool reset_pending = false;  // the peer closed with unread data
    std::uint64_t next_seq = 1;  // next message number this end sends
    WaitChannel readable;        // readers wait here for data
    WaitChannel writable;        // the peer's senders wait here for room
  };

  bool has_room(int dst_index, std::size_t n) const;
  void enqueue(int dst, std::string_view bytes, std::uint64_t seq);
  void enqueue_stream(int dst, std::string_view bytes, std::uint64_t seq, bool last);
  IoResult send_message(int src, std::string_view bytes, std::string_view tag);
  IoResult send_stream(int src, std::string_view bytes, std::string_view tag);
  IoResult recv(int me, std::string* out, std::size_t max, VTime timeout);
  void take(int me, std::string* out, std::size_t max, IoResult* r);
  void close(int me);
  void note(std::string_view kind, int src, std::uint64_t seq, std::string_view tag,
            std::size_t len);
  void note_received(int src, std::uint64_t seq);
  std::string message_key(int src, std::uint64_t seq) const;
  int peer_closed_errno() const;

  Machine& machine_;
  SocketOptions options_;
  std::unique_ptr<Endpoint> ep_[2];
  std::unique_ptr<Socket> ends_[2];
  std::uint64_t dropped_ = 0;
};

}  // namespace vfsim::sim
