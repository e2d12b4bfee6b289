// The puffs kernel stub: a file system whose VOPs are messages to a
// userspace server (puffs_vnops.cc), and the request machinery under it
// (puffs_req.cc): request ids, the wait for the reply, an optional timeout
// with retry, the reply reader, and the forced unmount when the server dies.
//
// A puffs request's life (every change goes through PuffsMount::state_change,
// which asserts the edge):
//
//      created ──send ok──► sent ──reply matched──► answered ──► done
//         │                  │ ▲                                  ▲
//         │                  │ └─timeout, retries left: resend    │
//         │                  └──server gone / timeout / EPROTO──► failed
//         └──no memory / server gone─────────────────────────────►┘
//
//   created   id assigned, message memory allocated, not on the wire yet
//   sent      on the socket and in the pending map; the caller sleeps on the
//             request's channel, named "puffs reply to req <id> <OP> cookie
//             <c>" so a hang report lists the lost request ids
//   answered  the reader matched a reply to it and woke the caller
//   failed    no reply will come: error says why (ENXIO, EIO, EPROTO)
//   done      out of the pending map, memory freed
//
// Lookup counts: a LOOKUP reply may name a cookie whose vnode another lwp is
// reclaiming. The vcache makes the caller wait for that reclaim and then
// loads a new vnode for the cookie, so the server must not forget the node
// at that RECLAIM: each vnode counts the replies that named it
// (PuffsVnode::nlookup) and RECLAIM carries the count (puffs_server.h).
//
// Locks: the pending map and the request states change only between two
// scheduling points (the machine runs one lwp at a time), so they need no
// sim lock. PuffsVnode::size_lock is the fix of the PERFUSE GETATTR/WRITE
// race (knob puffs.size_lock): held across every size change and across
// sending GETATTR and applying its reply. It is taken after the vnode lock
// and never held while waiting for a vnode lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "fsdrivers/puffs/puffs_msg.h"
#include "fsdrivers/puffs/puffs_server.h"
#include "pager/pager.h"
#include "sim/socket.h"
#include "sim/sync.h"
#include "vnode/vnode.h"

namespace vfsim::puffs {

// Message memory: the stand-in for kmem_alloc(size, caller's flag). Returns
// kOk or ENOMEM. The scenario module plugs the pager's kmem in here.
using MsgAlloc = std::function<vn::Status(std::size_t bytes)>;

struct PuffsMountOptions {
  std::string name = "puffs";
  std::uint64_t root_cookie = 1;  // from the server, as puffs_mount(2) passes it
  bool size_lock = true;          // knob puffs.size_lock
  // knob puffs.reclaim_nlookup: RECLAIM carries the vnode's lookup count;
  // false: it carries 0 ("no count"), and the server frees the node at once.
  bool reclaim_nlookup = true;
  sim::VTime timeout = 0;  // knob puffs.timeout_ms; 0 = wait forever
  int retries = 0;         // knob puffs.retry: resends after a timeout; -1 forever
  MsgAlloc msg_alloc;      // empty: memory always available
  // The machine's pager: regular files get a page cache (write-back; dirty
  // pages go to the server as PUTPAGES from fsync, the syncer or the
  // pagedaemon). Null: every write goes to the server at once.
  pager::Pager* pager = nullptr;
  // The most data one READ or WRITE carries: a larger read(2) or write(2)
  // becomes several requests, as a kernel splits I/O by its largest
  // transfer (NetBSD's PUFFS_TOMOVE), so every message fits the socket's
  // buffer and the server's read. make_puffs() derives it from the buffer.
  std::size_t max_io = std::size_t{32} * 1024;
  // Run when the unmount begins: whoever handed this mount's KernelCaches
  // to a server takes it back (the mount is destroyed after the unmount).
  std::function<void()> on_unmount;
};

enum class ReqState : std::uint8_t { created, sent, answered, failed, done };
std::string_view req_state_name(ReqState s);

struct PuffsRequest {
  PuffsRequest(sim::Machine& m, Request r);
  Request rq;
  std::string bytes;  // the encoded request, sent (again) as is
  ReqState state = ReqState::created;
  vn::Status error;  // when failed
  Reply rep;         // when answered
  int sends = 0;
  sim::WaitChannel done;
};

// The per-vnode state of the stub (Vnode::data).
struct PuffsVnode {
  PuffsVnode(sim::Machine& m, std::uint64_t cookie);
  std::uint64_t cookie;
  // [vnode held] replies (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK) that handed
  // this cookie to this vnode; RECLAIM gives it back to the server, which
  // keeps the node while replies it sent are still unaccounted for (one
  // racing with this vnode's reclaim named the cookie to a new vnode).
  std::uint64_t nlookup = 0;
  vn::Vattr attr;  // [size_lock when puffs.size_lock] the kernel's cache
  bool attr_valid = false;
  sim::Mutex size_lock;
  // [i] page cache of a regular file, with a pager: a vnode object
  // (vnode_pager.h), paged through VOP_GETPAGES / VOP_PUTPAGES.
  pager::PageObject* obj = nullptr;
};

class PuffsMount : public vn::FileSystem, public KernelCaches {
 public:
  PuffsMount(sim::Machine& m, sim::Socket& sock, PuffsMountOptions options);
  ~PuffsMount() override;

  // Spawns the reply reader (a daemon lwp).
  void start();

  // Sends `rq` (id, pid and cred filled in here) and waits for its reply.
  // Returns the errno of the reply, or ENXIO / EIO / EPROTO / ENOMEM.
  [[nodiscard]] vn::Status call(Request& rq, Reply* rp);

  // --- vfsops --------------------------------------------------------------
  std::string_view type_name() const override { return "puffs"; }
  std::uint64_t root_key() const override { return options_.root_cookie; }
  vn::Status loadvnode(vn::Vnode& vp, std::uint64_t key) override;
  vn::Status statvfs(vn::StatVfs* out) override;
  vn::Status sync() override;
  vn::Status unmount(bool force) override;

  // --- the server's cache operations (KernelCaches, puffs_inval.cc) ---------
  [[nodiscard]] sim::Status inval_entry(std::uint64_t dir, std::string_view name,
                                        std::optional<std::uint64_t> child) override;
  [[nodiscard]] sim::Status inval_node(std::uint64_t cookie, std::int64_t offset,
                                       std::int64_t len) override;
  [[nodiscard]] sim::Status store(std::uint64_t cookie, std::uint64_t offset,
                                  std::string_view data) override;
  [[nodiscard]] sim::Status retrieve(std::uint64_t cookie, std::uint64_t offset, std::uint32_t size,
                                     std::string* out) override;

  // What a LOOKUP/CREATE reply said about a node, for loadvnode.
  void note_newinfo(std::uint64_t cookie, vn::VType type, const vn::Vattr& va);
  PuffsVnode& node_of(vn::Vnode& vp);
  // The same, as an owner: keeps the node's memory (its size lock) while the
  // caller runs without the vnode lock, across a forced reclaim.
  std::shared_ptr<PuffsVnode> node_ref(vn::Vnode& vp);
  // Forgets a vnode's node (VOP_RECLAIM).
  void drop_node(vn::Vnode& vp);
  sim::Machine& machine() const { return machine_; }
  const PuffsMountOptions& options() const { return options_; }
  bool dead() const { return dead_; }
  std::size_t pending() const { return pending_.size(); }
  std::uint64_t requests() const { return next_id_ - 1; }  // ids handed out so far
  std::uint64_t bad_replies() const { return bad_replies_; }
  std::size_t live_nodes() const { return vnodes_.size(); }

 private:
  friend class PuffsVnodeOps;
  void state_change(PuffsRequest& r, ReqState from, ReqState to);
  [[nodiscard]] vn::Status send(PuffsRequest& r);
  [[nodiscard]] vn::Status wait(PuffsRequest& r);
  void finish(PuffsRequest& r);
  void reader_loop();
  bool read_reply(std::string* msg);
  void deliver(std::string_view bytes);
  void reject_reply(std::string_view bytes, const DecodeError& e);
  void server_gone(std::string_view why);
  void revoke_vnodes();

  sim::Machine& machine_;
  sim::Socket& sock_;
  PuffsMountOptions options_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, PuffsRequest*> pending_;                    // by id
  std::map<std::uint64_t, std::pair<vn::VType, vn::Vattr>> newinfo_;  // by cookie
  std::string stream_buf_;  // stream framing: bytes of an incomplete reply
  std::uint64_t bad_replies_ = 0;
  // By cookie. Shared only with a getattr() that runs without the vnode
  // lock (puffs_vnops.cc); everyone else reaches a node through Vnode::data.
  std::map<std::uint64_t, std::shared_ptr<PuffsVnode>> vnodes_;
  bool dead_ = false;  // the server is gone: every op answers ENXIO
  bool unmounting_ = false;
  sim::LwpId reader_ = sim::kNoLwp;
};

vn::VnodeOps& puffs_vnode_ops();

}  // namespace vfsim::puffs
