// The puffs mount type and its server process (puffs_fstype.h).
#include "fsdrivers/puffs/puffs_fstype.h"

#include <cerrno>

#include "fsdrivers/puffs/p2k.h"
#include "fsdrivers/puffs/puffs_server.h"
#include "sim/socket_faults.h"

namespace vfsim::puffs {

namespace {

std::vector<sim::SockFaultRule> drop_rules(const std::vector<std::uint64_t>& at,
                                           std::uint64_t ppm) {
  std::vector<sim::SockFaultRule> rules;
  if (at.empty() && ppm == 0) return rules;
  sim::SockFaultRule r;
  r.kind = sim::SockFault::drop;
  r.at_messages = at;
  r.per_million = static_cast<std::uint32_t>(ppm);
  rules.push_back(r);
  return rules;
}

// One puffs server as a userland process: its end of the socket pair (and
// the kernel's, which the pair owns), the fault wrappers on each direction,
// the backend file system under p2k, and the server with its workers.
class ServerProcess final : public vn::UserServer {
 public:
  ServerProcess(sim::Machine& m, const PuffsConfig& c, std::unique_ptr<vn::FileSystem> backend) {
    sim::SocketOptions so;
    so.type = c.transport;
    so.name = "puffs";
    for (auto& b : so.buf) {
      b.rcvbuf_bytes = c.rcvbuf_bytes;
      b.rcvbuf_msgs = c.rcvbuf_msgs;
    }
    pair_ = std::make_unique<sim::SocketPair>(m, so);
    kernel_end_ = &pair_->end(0);
    sim::Socket* server_end = &pair_->end(1);
    if (auto rules = drop_rules(c.req_drop_at, c.req_drop_ppm); !rules.empty()) {
      kernel_faults_ = std::make_unique<sim::FaultySocket>(m, *kernel_end_, std::move(rules));
      kernel_end_ = kernel_faults_.get();
    }
    if (auto rules = drop_rules(c.reply_drop_at, c.reply_drop_ppm); !rules.empty()) {
      server_faults_ = std::make_unique<sim::FaultySocket>(m, *server_end, std::move(rules));
      server_end = server_faults_.get();
    }
    p2k_ = std::make_unique<P2k>(m, std::move(backend));
    ServerOptions o;
    o.reclaim_nlookup = c.reclaim_nlookup;
    o.workers = static_cast<int>(c.workers);
    o.crash_at_request = c.server_crash_at;
    o.op_latency = c.server_latency_us * sim::kMicrosecond;
    o.framing = c.framing;
    server_ = std::make_unique<Server>(m, *server_end, *p2k_, o);
  }

  std::string describe() const override { return "puffs server"; }

  vn::Status start() override {
    VN_TRY(p2k_->attach(*server_));
    server_->start();
    return vn::kOk;
  }
  std::vector<sim::LwpId> lwps() const override { return server_->workers(); }
  void crash() override { server_->crash(); }
  bool dead() const override { return server_->dead(); }

  // Nodes the server still has after a clean unmount (the kernel closed its
  // end, the server did not die) were never reclaimed.
  std::vector<std::string> leaks() const override {
    std::vector<std::string> out;
    if (server_->dead() || !pair_->end(0).closed()) return out;
    for (std::uint64_t c : server_->nodes().cookies()) {
      out.push_back("puffs server node cookie " + std::to_string(c) + " never reclaimed");
    }
    return out;
  }

  sim::Socket& kernel_end() { return *kernel_end_; }
  std::uint64_t root_cookie() const { return server_->root_cookie(); }

 private:
  std::unique_ptr<sim::SocketPair> pair_;
  std::unique_ptr<sim::FaultySocket> kernel_faults_;  // requests leaving the kernel
  std::unique_ptr<sim::FaultySocket> server_faults_;  // replies leaving the server
  std::unique_ptr<P2k> p2k_;
  std::unique_ptr<Server> server_;
  sim::Socket* kernel_end_ = nullptr;
};

}  // namespace

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
  auto backend = env.make_server_fs(c.backend, c.backend_args);
  if (!backend.ok()) return backend.status();
  auto owned = std::make_unique<ServerProcess>(m, c, std::move(*backend));
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
