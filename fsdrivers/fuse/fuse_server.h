// A puffs server whose op vector is the perfused bridge to a FUSE daemon
// in the machine: the seam through which the World mounts a FUSE file
// system (fuse.mount) once it owns its userland servers.
//
//   puffs kernel stub ──puffs socket──► puffs::Server(workers) ─► FuseBridge
//      ─► FuseConn ──/dev/fuse socket──► FuseDaemon (libfuse + the file system)
//
// create() checks everything that can be checked before the run goes on
// (the options, the foreign-state claim, isolation.h) and builds the
// pieces; start(), from an lwp, starts the daemon, does INIT, registers the
// root and starts the puffs workers; the daemon's notifications reach the
// kernel in the writing lwp (set_kernel). Its root_cookie() is what the kernel
// stub's PuffsMountOptions::root_cookie takes. The object must outlive every
// lwp that may touch it (keep it until the machine is gone, as puffs'
// Transport is kept), and its leaks() is the leak check of a clean unmount:
// the bridge's lookup ledger, and a daemon that did not exit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fsdrivers/fuse/fuse_bridge.h"
#include "fsdrivers/fuse/fuse_conn.h"
#include "fsdrivers/fuse/runtime/fuse_daemon.h"
#include "fsdrivers/puffs/puffs_server.h"
#include "sim/socket.h"
#include "sim/socket_faults.h"

namespace vfsim::fuse {

// /dev/fuse as a socket pair: seqpacket, and receive buffers that hold the
// largest request and reply (max_write of data plus headers), as /dev/fuse
// itself has no smaller limit.
inline sim::SocketOptions default_dev_socket() {
  sim::SocketOptions o;
  o.type = sim::SockType::seqpacket;
  for (auto& b : o.buf) b.rcvbuf_bytes = kMaxReplyBytes + 4096;
  return o;
}

struct FuseServerOptions {
  std::string name = "fuse";
  DaemonOptions daemon;                           // argv, mount point, fuse.workers, framing
  ConnOptions conn;                               // the kernel side of /dev/fuse
  BridgeOptions bridge;                           // fuse.size_serialise, fuse.forget_nlookup
  puffs::ServerOptions server;                    // the puffs side (workers, framing)
  sim::SocketOptions dev = default_dev_socket();  // transport=dgram|stream changes its type
  // Faults on /dev/fuse: on the requests the kernel sends, on the replies
  // (and notifications) the daemon writes.
  std::vector<sim::SockFaultRule> request_faults, reply_faults;
};

class FuseServer {
 public:
  // `puffs_end` is the server end of the puffs socket; `fs` a registered
  // file system (fs_registry.h). Null with a one-line *error on refusal.
  static std::unique_ptr<FuseServer> create(sim::Machine& m, sim::Socket& puffs_end,
                                            const FsEntry& fs, FuseServerOptions options,
                                            std::string* error);
  ~FuseServer();
  FuseServer(const FuseServer&) = delete;
  FuseServer& operator=(const FuseServer&) = delete;

  // From an lwp: daemon, INIT, root node, puffs workers.
  [[nodiscard]] vn::Status start();
  std::uint64_t root_cookie() const { return server_->root_cookie(); }
  std::vector<std::string> leaks() const;

  // Notifications go to the kernel's caches from now on (null: logged).
  void set_kernel(puffs::KernelCaches* kernel) { bridge_->set_kernel(kernel); }
  // The daemon dies now (a crash): its end of /dev/fuse closes, so the
  // kernel side fails what is in flight with ENXIO and the loop ends.
  void crash();
  bool dead() const { return conn_->dead() && !bridge_->unmounted(); }
  // The lwps of this server process: the daemon's readers, the reply
  // reader of /dev/fuse, the puffs workers.
  std::vector<sim::LwpId> lwps() const;

  puffs::Server& server() { return *server_; }
  FuseBridge& bridge() { return *bridge_; }
  FuseConn& conn() { return *conn_; }
  FuseDaemon& daemon() { return *daemon_; }
  sim::SocketPair& dev() { return *dev_; }

 private:
  FuseServer() = default;
  std::unique_ptr<sim::SocketPair> dev_;
  std::unique_ptr<sim::FaultySocket> kernel_faults_, daemon_faults_;
  std::unique_ptr<FuseDaemon> daemon_;
  std::unique_ptr<FuseConn> conn_;
  std::unique_ptr<FuseBridge> bridge_;
  std::unique_ptr<puffs::Server> server_;
};

}  // namespace vfsim::fuse
