// The userspace side of puffs, libpuffs style: a file server fills an op
// vector (PuffsOps; every op it leaves alone answers EOPNOTSUPP, like
// puffs_dummyops()), keeps its nodes in a cookie-to-node map, and N worker
// lwps receive requests from the socket, dispatch them and send the replies.
//
// Framing is the transport's. With Framing::naive a worker assumes one recv
// is one message — right on seqpacket and dgram, and exactly the mistake the
// PERFUSE paper's first attempt made on SOCK_STREAM, kept here as the
// behaviour under test. Framing::reassemble reads the length field and
// gathers whole messages from a byte stream.
//
// Requests are untrusted bytes. A request that does not parse is logged in
// the trace ("puffs_bad_request") and answered EPROTO when its id could be
// read; with ServerOptions::fatal_protocol_errors it also ends the run as
// Outcome::protocol naming the message (a naive server that misreads its
// input is the finding). A request naming a cookie the server never gave
// out is logged ("puffs_unknown_cookie") and answered EIO. Nothing from the
// wire is asserted.
//
// Lookup counts (ServerOptions::reclaim_nlookup, knob puffs.reclaim_nlookup):
// a node's cookie may be handed out again (a LOOKUP reply) while the
// kernel's RECLAIM of its old vnode is on its way, and the kernel then loads
// a new vnode for it. So, as libpuffs' pn_nlookup and FUSE's FORGET, the
// framework counts every successful LOOKUP/CREATE/MKNOD/MKDIR/SYMLINK reply
// that names a node, RECLAIM subtracts the nlookup the kernel counted for
// the vnode it reclaims, and only a count reaching zero runs the file
// system's reclaim and frees the node. The root is handed out by the mount,
// not by a reply, and the kernel may load it again at any time: it stays
// until UNMOUNT. A RECLAIM whose nlookup is more than the node's count (or 0,
// for a node other than the root) is a lying kernel: logged
// ("puffs_bad_reclaim"), answered EINVAL with the node kept, and with
// fatal_protocol_errors the run ends as Outcome::protocol. Without counts
// (the historic libpuffs) RECLAIM frees the node at once, and a cookie
// handed out in the window is answered "puffs_unknown_cookie" from then on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fsdrivers/puffs/puffs_msg.h"
#include "sim/errno.h"
#include "sim/machine.h"
#include "sim/socket.h"
#include "sim/sync.h"

namespace vfsim::puffs {

// A server's node. `key` is the file system's own identity for it (an inode
// number), so a second lookup of one file answers the same cookie.
struct PuffsNode {
  virtual ~PuffsNode() = default;
  std::uint64_t key = 0;
  // Replies that handed this cookie out, less the nlookup of the RECLAIMs
  // that came back (kept by the Server, with reclaim_nlookup).
  std::uint64_t nlookup = 0;
};

// Cookies are handed out in order from 1, never reused within a run: they
// are deterministic and never pointer values.
class NodeMap {
 public:
  std::uint64_t add(std::unique_ptr<PuffsNode> n);
  PuffsNode* find(std::uint64_t cookie) const;
  std::optional<std::uint64_t> cookie_of_key(std::uint64_t key) const;
  // The node stays findable by cookie, but a later cookie_of_key() of its
  // key answers nothing: a node being reclaimed is never handed out again.
  void unhook_key(std::uint64_t cookie);
  void remove(std::uint64_t cookie);
  std::size_t size() const { return nodes_.size(); }
  // Cookies in increasing order (for teardown and leak reports).
  std::vector<std::uint64_t> cookies() const;

 private:
  std::map<std::uint64_t, std::unique_ptr<PuffsNode>> nodes_;
  std::map<std::uint64_t, std::uint64_t> by_key_;
  std::uint64_t next_ = 1;
};

class Server;

// What an op sees: the request, its node, and the server (for new nodes).
// The op's arguments come as their own parameter, typed by the op.
struct OpCtx {
  Server& server;
  const Request& rq;
  PuffsNode& node;
  // A node named by a cookie in the arguments; nullptr (and the op answers
  // EIO) if unknown.
  PuffsNode* other(std::uint64_t cookie) const;
};

// The server's op vector: the vfs ops, then every VOP that travels to a
// server (VFSIM_PUFFS_OPS, puffs_msg.h), each as
// NAME(OpCtx&, const ArgsOf<PuffsOp::NAME>&, Reply*), e.g.
// read(OpCtx&, const ReadArgs&, Reply*). The framework hands an op only a
// request whose arguments are of its op's type: any other is logged
// ("puffs_bad_request") and answered EINVAL. Each op returns kOk and fills
// the reply, or an errno. The framework fills the reply header. The
// framework calls RECLAIM only when the node is to be freed (its lookup
// count reached zero), and drops the node from the map after the op
// succeeds. An op that answers a node (LOOKUP, CREATE, ...) must choose its
// cookie with no scheduling point between the choice and its return: the
// framework counts the reply right after, and a RECLAIM on another worker
// must not free the node between.
class PuffsOps {
 public:
  virtual ~PuffsOps() = default;
#define VFSIM_PUFFS_DECLARE(name)                                                 \
  virtual sim::Status name(OpCtx& c, const ArgsOf<PuffsOp::name>& a, Reply* rp) { \
    (void)c;                                                                      \
    (void)a;                                                                      \
    (void)rp;                                                                     \
    return sim::Status(EOPNOTSUPP);                                               \
  }
  VFSIM_PUFFS_OPS(VFSIM_PUFFS_DECLARE)
#undef VFSIM_PUFFS_DECLARE
};

// What the kernel offers a server that changed a node behind the kernel's
// back: NetBSD's puffs_inval_namecache_dir, puffs_inval_pagecache_node_range
// and their kin (written to /dev/puffs, run in the writer's context), and
// what FUSE's notifications need (Linux runs fuse_notify_* in the writing
// daemon's thread). Each runs in the calling server lwp, takes the locks the
// kernel takes for it, and answers kOk or an errno: ENOENT when the kernel
// has no vnode for the cookie (nothing cached, nothing to drop).
class KernelCaches {
 public:
  virtual ~KernelCaches() = default;
  // The entry `name` of directory `dir` changed (and, with `child`, names
  // that node no more: FUSE's NOTIFY_DELETE): under the directory's vnode
  // lock, taken exclusively (and the child's after it), their cached
  // attributes are dropped.
  [[nodiscard]] virtual sim::Status inval_entry(std::uint64_t dir, std::string_view name,
                                                std::optional<std::uint64_t> child) = 0;
  // A node's attributes changed, and with offset >= 0 its data in
  // [offset, offset + len) (len 0: to the end): the cached attributes and
  // the clean cached pages of the range are dropped.
  [[nodiscard]] virtual sim::Status inval_node(std::uint64_t cookie, std::int64_t offset,
                                               std::int64_t len) = 0;
  // The server pushes data it holds at `offset` (FUSE's NOTIFY_STORE): the
  // cached size grows to cover it and cached pages of the range are dropped
  // (the next read fetches the server's bytes).
  [[nodiscard]] virtual sim::Status store(std::uint64_t cookie, std::uint64_t offset,
                                          std::string_view data) = 0;
  // What the kernel has cached of a node's data from `offset` on, at most
  // `size` bytes (FUSE's NOTIFY_RETRIEVE); "" when nothing.
  [[nodiscard]] virtual sim::Status retrieve(std::uint64_t cookie, std::uint64_t offset,
                                             std::uint32_t size, std::string* out) = 0;
};

enum class Framing : std::uint8_t { naive, reassemble };

struct ServerOptions {
  std::string name = "puffs";
  int workers = 1;
  Framing framing = Framing::naive;
  bool fatal_protocol_errors = true;
  sim::VTime op_latency = 0;       // virtual time each op takes (a slow server)
  std::size_t max_read = 1 << 16;  // bytes one recv asks for
  // Fault: the server process dies on receiving this request (1-based
  // count of requests received; 0 = never), before answering it.
  std::uint64_t crash_at_request = 0;
  // At-most-once: a request id the server already answered is not run again
  // (as a FUSE file system assumes /dev/fuse never repeats a request); the
  // repeat is logged and dropped. A kernel that retries after a lost reply
  // therefore still waits forever, as the PERFUSE paper explains.
  bool dedup_requests = true;
  // Lookup counts (see the top of this file); false: RECLAIM frees the node
  // at once, whatever its nlookup says (the historic behaviour).
  bool reclaim_nlookup = true;
};

class Server {
 public:
  Server(sim::Machine& m, sim::Socket& sock, PuffsOps& ops, ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers the root node; its cookie goes into the mount arguments.
  std::uint64_t set_root(std::unique_ptr<PuffsNode> root);
  std::uint64_t root_cookie() const { return root_; }
  // Spawns the worker lwps (daemons). They exit when the socket closes.
  void start();
  // The server process dies: its socket end closes, its workers exit.
  void crash();

  NodeMap& nodes() { return nodes_; }
  sim::Machine& machine() const { return machine_; }
  const ServerOptions& options() const { return options_; }
  const std::vector<sim::LwpId>& workers() const { return workers_; }
  std::uint64_t served() const { return served_; }
  std::uint64_t bad_requests() const { return bad_; }
  bool dead() const { return dead_; }

 private:
  void worker_loop();
  bool receive(std::string* msg);
  bool receive_reassembled(std::string* msg);
  void handle(std::string_view bytes);
  void bad_request(std::string_view bytes, const DecodeError& e);
  sim::Status dispatch(OpCtx& c, Reply* rp);
  sim::Status reclaim(OpCtx& c, const ReclaimArgs& a, Reply* rp);
  void count_lookup(const Request& rq, const Reply& rp);
  void send_reply(const Request& rq, Reply& rp);

  sim::Machine& machine_;
  sim::Socket& sock_;
  PuffsOps& ops_;
  ServerOptions options_;
  NodeMap nodes_;
  std::uint64_t root_ = 0;
  std::vector<sim::LwpId> workers_;
  std::uint64_t served_ = 0;
  std::uint64_t received_ = 0;
  std::set<std::uint64_t> answered_ids_;  // for dedup_requests
  std::uint64_t bad_ = 0;
  bool dead_ = false;
  sim::Mutex stream_lock_;  // Framing::reassemble: one worker reads at a time
  std::string stream_buf_;  // [stream_lock_] bytes of a message still incomplete
};

}  // namespace vfsim::puffs
