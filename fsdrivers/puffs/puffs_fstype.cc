// The puffs mount type and its server process (puffs_fstype.h).
#include "fsdrivers/puffs/puffs_fstype.h"

#include <cerrno>
#include <functional>

#include "fsdrivers/puffs/p2k.h"
#include "fsdrivers/puffs/puffs_server.h"
#include "sim/socket_faults.h"

namespace vfsim::puffs {

namespace {

// One puffs server as a userland process: its end of the socket pair (and
// the kernel's, which the pair owns), the fault wrappers on each direction,
// the backend file system under p2k, and the server with its workers. The
// backend is built in start(), inside the process (its fault domain, which
// the World gives every UserServer): mounting an untrusted image is the
// server's work, so a driver panic while it parses the image kills the
// server, not the kernel.
class ServerProcess final : public vn::UserServer {
 public:
  using BackendMaker = std::function<vn::Result<std::unique_ptr<vn::FileSystem>>()>;

  ServerProcess(sim::Machine& m, const PuffsConfig& c, BackendMaker make_backend)
      : machine_(m), config_(c), make_backend_(std::move(make_backend)) {
    sim::SocketOptions so;
    so.type = c.transport;
    so.name = "puffs";
    for (auto& b : so.buf) {
      b.rcvbuf_bytes = c.rcvbuf_bytes;
      b.rcvbuf_msgs = c.rcvbuf_msgs;
    }
    pair_ = std::make_unique<sim::SocketPair>(m, so);
    kernel_end_ = &pair_->end(0);
    server_end_ = &pair_->end(1);
    if (auto rules = sim::drop_rules(c.req_drop_at, c.req_drop_ppm); !rules.empty()) {
      kernel_faults_ = std::make_unique<sim::FaultySocket>(m, *kernel_end_, std::move(rules));
      kernel_end_ = kernel_faults_.get();
    }
    if (auto rules = sim::drop_rules(c.reply_drop_at, c.reply_drop_ppm); !rules.empty()) {
      server_faults_ = std::make_unique<sim::FaultySocket>(m, *server_end_, std::move(rules));
      server_end_ = server_faults_.get();
    }
  }

  std::string describe() const override { return "puffs server (" + config_.backend + ")"; }

  // Builds the backend, attaches p2k (loading the backend's root) and
  // spawns the workers. An error (the backend's own: ENODEV for an unknown
  // type, EINVAL for a bad option, a refused image) leaves the process dead
  // with nothing spawned.
  vn::Status start() override {
    const BackendMaker make = std::move(make_backend_);  // it refers to the mount's arguments
    make_backend_ = nullptr;
    auto backend = make();
    if (!backend.ok()) {
      exited_ = true;
      return backend.status();
    }
    p2k_ = std::make_unique<P2k>(machine_, std::move(*backend));
    ServerOptions o;
    o.reclaim_nlookup = config_.reclaim_nlookup;
    o.workers = static_cast<int>(config_.workers);
    o.crash_at_request = config_.server_crash_at;
    o.op_latency = config_.server_latency_us * sim::kMicrosecond;
    o.framing = config_.framing;
    server_ = std::make_unique<Server>(machine_, *server_end_, *p2k_, o);
    if (vn::Status s = p2k_->attach(*server_); !s.ok()) {
      exited_ = true;
      return s;
    }
    server_->start();
    return vn::kOk;
  }
  std::vector<sim::LwpId> lwps() const override {
    return server_ ? server_->workers() : std::vector<sim::LwpId>{};
  }
  // Also the death of a process whose start() never finished (a panic while
  // it mounted its backend): its end of the socket closes all the same.
  void crash() override {
    if (server_) {
      server_->crash();
    } else if (!exited_) {
      machine_.event("puffs_server_crash", "puffs before it served");
      server_end_->close();
    }
    exited_ = true;
  }
  bool dead() const override { return exited_ || (server_ && server_->dead()); }

  // Nodes the server still has after a clean unmount (the kernel closed its
  // end, the server did not die) were never reclaimed.
  std::vector<std::string> leaks() const override {
    std::vector<std::string> out;
    if (dead() || !server_ || !pair_->end(0).closed()) return out;
    for (std::uint64_t c : server_->nodes().cookies()) {
      out.push_back("puffs server node cookie " + std::to_string(c) + " never reclaimed");
    }
    return out;
  }

  sim::Socket& kernel_end() { return *kernel_end_; }
  std::uint64_t root_cookie() const { return server_->root_cookie(); }

 private:
  sim::Machine& machine_;
  const PuffsConfig config_;
  BackendMaker make_backend_;
  std::unique_ptr<sim::SocketPair> pair_;
  std::unique_ptr<sim::FaultySocket> kernel_faults_;  // requests leaving the kernel
  std::unique_ptr<sim::FaultySocket> server_faults_;  // replies leaving the server
  std::unique_ptr<P2k> p2k_;
  std::unique_ptr<Server> server_;
  sim::Socket* kernel_end_ = nullptr;
  sim::Socket* server_end_ = nullptr;
  bool exited_ = false;  // start() failed, or the process died before it served
};

}  // namespace

std::size_t max_io_for(std::uint64_t rcvbuf_bytes) {
  const std::uint64_t server_read = ServerOptions{}.max_read;
  return static_cast<std::size_t>(
      std::max<std::uint64_t>(std::min(rcvbuf_bytes, server_read) / 2, 512));
}

// Message memory from the machine's kmem with the caller's flag, KM_SLEEP,
// which the pager turns into KM_NOSLEEP in the pagedaemon's context when
// pager.pagedaemon_nosleep is on (the PERFUSE fix). Held only while the
// message is built: the allocation is the point where the caller may sleep.
MsgAlloc kmem_msg_alloc(pager::Pager* p) {
  if (p == nullptr) return {};
  return [p](std::size_t bytes) {
    pager::KmemBlock b = p->kmem_alloc(bytes, pager::KM_SLEEP);
    if (!b) return vn::Status(ENOMEM);
    p->kmem_free(b);
    return vn::kOk;
  };
}

vn::Result<std::unique_ptr<vn::FileSystem>> make_puffs(vn::MountEnv& env, const PuffsConfig& c) {
  sim::Machine& m = env.machine();
  VFSIM_KASSERT(m, !c.check(), "make_puffs: an unchecked configuration");
  auto owned = std::make_unique<ServerProcess>(
      m, c, [&env, &c] { return env.make_server_fs(c.backend, c.backend_args); });
  ServerProcess* server = owned.get();
  auto started = env.start_server(std::move(owned));
  if (!started.ok()) return started.status();
  PuffsMountOptions o;
  o.size_lock = c.size_lock;
  o.reclaim_nlookup = c.reclaim_nlookup;
  o.timeout = c.timeout_ms * sim::kMillisecond;
  o.retries = static_cast<int>(c.retry);
  o.root_cookie = server->root_cookie();
  o.msg_alloc = kmem_msg_alloc(env.pager());
  o.pager = env.pager();
  o.max_io = max_io_for(c.rcvbuf_bytes);
  auto fs = std::make_unique<PuffsMount>(m, server->kernel_end(), o);
  fs->start();
  return std::unique_ptr<vn::FileSystem>(std::move(fs));
}

vn::FsType fstype() {
  return {"puffs",
          "a file system served by a userland server through puffs (p2k over `backend`, "
          "memfs by default); options in fsdrivers/puffs/puffs_config.h",
          [](vn::MountEnv& env,
             const vn::MountArgs& args) -> vn::Result<std::unique_ptr<vn::FileSystem>> {
            PuffsConfig c;
            if (auto bad = parse_mount_options(args, &c)) {
              if (env.machine().trace().keeping()) {
                env.machine().note("puffs_mount", bad->option + ": " + bad->reason);
              }
              return vn::Status(EINVAL);
            }
            return make_puffs(env, c);
          }};
}

}  // namespace vfsim::puffs
