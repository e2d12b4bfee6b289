// The kernel side of one FUSE connection: what Linux's fs/fuse/dev.c is to
// a daemon, over the kernel end of the simulated /dev/fuse (a sim socket).
//
// A request's life (the caller sleeps on a channel named "fuse reply to req
// <unique> <OP>", so a lost request shows up by unique in a hang report):
//
//   sent ──reply matched──► answered        (the caller takes the body)
//     └──daemon gone / bad reply / timeout──► failed (ENXIO / EIO / EIO)
//
// Uniques are even and increase from 2, as Linux's (the odd unique u|1 is
// the INTERRUPT of request u). Replies are matched to requests in the
// daemon's writing lwp, as Linux's write(2) of /dev/fuse does
// (deliver_in_writer), or, on a stream or a faulty reply path, by a reply
// reader lwp of the kernel side. Replies are untrusted (fuse_abi.h): a message that does not
// decode, an error outside (-4096, 0], a reply for a unique nobody waits
// for, are logged ("fuse_bad_reply", "fuse_unknown_reply"); a bad reply
// whose unique is known fails that request with EIO, and with
// fatal_protocol_errors the run ends as Outcome::protocol naming it.
// Notifications (unique 0) go to the notify handler, or are logged and (a
// RETRIEVE) answered with no data: this kernel keeps no page cache of a
// FUSE file for a daemon to retrieve.
//
// No nodeid, fh or other daemon-chosen value is ever written to the trace
// by this class: those may be pointers (passthrough_ll's nodeids are), and
// only the bridge, which maps them to first-seen ordinals, may name them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fsdrivers/fuse/fuse_abi.h"
#include "sim/socket.h"
#include "sim/sync.h"
#include "vnode/vnode.h"

namespace vfsim::fuse {

struct Caller {
  std::uint32_t uid = 0, gid = 0, pid = 0;
};

struct ConnOptions {
  std::string name = "fuse";
  std::uint32_t max_readahead = 128 * 1024;
  // Capabilities offered at INIT (no READDIRPLUS, no splice, no writeback
  // cache: the bridge speaks plain READDIR and writes through).
  std::uint32_t init_flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_EXPORT_SUPPORT;
  sim::VTime timeout = 0;  // a request not answered in time fails with EIO; 0 = wait
  bool fatal_protocol_errors = true;
};

class FuseConn {
 public:
  // Returns 0 or an errno for the daemon's writev.
  using NotifyHandler = std::function<int(const Notification&)>;

  FuseConn(sim::Machine& m, sim::Socket& kernel_end, ConnOptions options);
  ~FuseConn();
  FuseConn(const FuseConn&) = delete;
  FuseConn& operator=(const FuseConn&) = delete;

  // Spawns the reply reader (a daemon lwp), unless replies are delivered
  // in the writer's lwp (deliver_in_writer).
  void start();
  // Replies are taken off /dev/fuse in the lwp of the daemon that wrote
  // them, as Linux's write(2) of /dev/fuse ends the request and wakes its
  // caller (fuse_dev_do_write): no reply reader lwp, no hop through it.
  // The owner calls pump() after each message the daemon sends and
  // peer_closed() when the daemon's end closes; `has_message` says whether
  // a message waits on the kernel end. Not for a stream (a write may arrive
  // in pieces) nor for a faulty reply path (a delayed message arrives
  // later, by a courier): those keep the reader. Before start().
  void deliver_in_writer(std::function<bool()> has_message);
  // The daemon lwps that write replies: who a caller waiting for a reply
  // waits for, when there is no reader lwp (the deadlock oracle's edges).
  void add_reply_waker(sim::LwpId id);
  // Adds the lwps that deliver replies as wakers of `r` (a wait for a reply).
  void declare_reply_wakers(sim::Resource& r) const;
  void pump();
  void peer_closed();
  // The INIT exchange (from an lwp): negotiates the protocol.
  [[nodiscard]] vn::Status init();
  const Negotiated& proto() const { return proto_; }
  bool initialised() const { return initialised_; }

  // Sends a request and waits for the reply: its body, or the errno of the
  // reply (positive), or ENXIO (daemon gone), EIO (bad reply, timeout).
  [[nodiscard]] vn::Result<std::string> call(std::uint32_t opcode, std::uint64_t nodeid,
                                             std::string_view body, const Caller& who);
  // Sends a request whose reply nobody waits for: `done` runs where the
  // reply is delivered (the daemon's writing lwp, or the reader lwp) with 0
  // or the reply's errno (ENXIO: the daemon went away first), as Linux
  // sends RELEASE in the background (fuse_file_put). It must not block.
  using Done = std::function<void(int err)>;
  [[nodiscard]] vn::Status call_async(std::uint32_t opcode, std::uint64_t nodeid,
                                      std::string_view body, const Caller& who, Done done);
  // A request that gets no reply (FORGET).
  [[nodiscard]] vn::Status send_noreply(std::uint32_t opcode, std::uint64_t nodeid,
                                        std::string_view body, const Caller& who);
  // Asks the daemon to interrupt request `unique` (no reply expected; an
  // EAGAIN reply to it is accepted and dropped).
  [[nodiscard]] vn::Status interrupt(std::uint64_t unique);
  // The unique the next call() will use (for tests of INTERRUPT).
  std::uint64_t next_unique() const { return next_unique_; }

  // Unmount: closes the kernel end; the daemon reads ENODEV.
  void close();
  bool dead() const { return dead_; }
  // Notifications read from /dev/fuse go to `h` (in the reader lwp); without
  // one they are logged and a RETRIEVE is answered with no data.
  void set_notify_handler(NotifyHandler h) { notify_ = std::move(h); }
  // A notification the daemon wrote (`bytes`, a whole message), applied in
  // the writer's lwp (the DevFuse notify hook): decoded, then handed to the
  // notify handler. Returns the errno the daemon's writev gets.
  int notify_from_writer(std::string_view bytes);
  // Answers a RETRIEVE: a NOTIFY_REPLY carrying `data` under the
  // notification's unique.
  void answer_retrieve(const NotifyRetrieve& r, std::string_view data);

  sim::Machine& machine() const { return m_; }
  const ConnOptions& options() const { return options_; }
  std::size_t pending() const { return pending_.size(); }
  std::uint64_t bad_replies() const { return bad_replies_; }
  sim::LwpId reader() const { return reader_; }

 private:
  struct Pending;
  void reader_loop();
  bool next_message(std::string* msg);
  void deliver(std::string_view bytes);
  // `quiet`: wake the caller without a scheduling point (the reply reader,
  // whose next step is its next receive, itself a scheduling point).
  void finish(std::uint64_t unique, int error, std::string_view body, bool quiet = false);
  void notification(const Message& msg);
  void bad_reply(std::string_view bytes, const std::string& why, std::optional<std::uint64_t> id);
  void daemon_gone(std::string_view why);
  std::unique_ptr<Pending> take_pending(std::uint64_t unique, std::uint32_t opcode);
  void give_pending(std::unique_ptr<Pending> p);
  void pending_add(std::uint64_t unique, Pending* p);
  void pending_erase(std::uint64_t unique);

  sim::Machine& m_;
  sim::Socket& sock_;
  ConnOptions options_;
  std::function<bool()> has_message_;  // deliver_in_writer: set
  std::vector<sim::LwpId> reply_wakers_;
  bool pumping_ = false;  // an lwp is taking messages off the kernel end
  std::string pump_msg_;
  Negotiated proto_;
  bool initialised_ = false;
  std::uint64_t next_unique_ = 2;
  std::map<std::uint64_t, Pending*> pending_;                              // by unique
  std::vector<std::unique_ptr<Pending>> spare_pending_;                    // take_pending's pool
  std::vector<std::map<std::uint64_t, Pending*>::node_type> spare_nodes_;  // of pending_
  // The pending entries of call_async (owned here until answered).
  std::map<std::uint64_t, std::unique_ptr<Pending>> async_;
  NotifyHandler notify_;
  bool dead_ = false;
  bool closing_ = false;
  std::string stream_buf_;  // [reader] stream framing: bytes of an incomplete message
  std::uint64_t bad_replies_ = 0;
  sim::LwpId reader_ = sim::kNoLwp;
};

}  // namespace vfsim::fuse
