// The "fuse" file-system type and its server processes (fuse_fstype.h).
#include "fsdrivers/fuse/fuse_fstype.h"

#include <cerrno>

#include "fsdrivers/fuse/fuse_server.h"
#include "fsdrivers/fuse/runtime/external.h"
#include "fsdrivers/puffs/puffs_fstype.h"
#include "fsdrivers/puffs/puffs_kernel.h"
#include "sim/socket_faults.h"

namespace vfsim::fuse {

namespace {

// The puffs hop: what /dev/puffs is to perfused, a reliable channel whose
// messages may carry the largest READ or WRITE piece.
constexpr std::size_t kPuffsHopBytes = (1u << 20) + 65536;
constexpr std::size_t kPuffsHopMaxIo = std::size_t{128} * 1024;

std::unique_ptr<sim::SocketPair> puffs_hop(sim::Machine& m, const std::string& name) {
  sim::SocketOptions so;
  so.type = sim::SockType::seqpacket;
  so.name = name + " puffs";
  for (auto& b : so.buf) b.rcvbuf_bytes = kPuffsHopBytes;
  return std::make_unique<sim::SocketPair>(m, so);
}

puffs::ServerOptions bridge_server_options(const puffs::PuffsConfig& pc, const std::string& name) {
  puffs::ServerOptions o;
  o.name = name;
  o.workers = static_cast<int>(pc.workers);
  o.op_latency = pc.server_latency_us * sim::kMicrosecond;
  o.crash_at_request = pc.server_crash_at;
  o.reclaim_nlookup = pc.reclaim_nlookup;
  o.max_read = kPuffsHopBytes;
  return o;
}

// A FUSE daemon linked into this executable, its /dev/fuse, the kernel side
// of the connection, the perfused bridge and its puffs workers: one server
// process (FuseServer), and the puffs hop to the kernel stub.
class FuseProcess final : public vn::UserServer {
 public:
  static std::unique_ptr<FuseProcess> create(sim::Machine& m, const puffs::PuffsConfig& pc,
                                             const FuseConfig& fc, const FuseMountSpec& spec,
                                             const FsEntry& fs, std::string* error) {
    std::unique_ptr<FuseProcess> p(new FuseProcess());
    p->hop_ = puffs_hop(m, spec.fs);
    FuseServerOptions o;
    o.name = spec.fs;
    o.daemon.args = spec.argv;
    o.daemon.mountpoint = spec.mountpoint;
    o.daemon.workers = static_cast<int>(fc.workers);
    o.daemon.framing =
        pc.framing == puffs::Framing::reassemble ? DevFraming::reassemble : DevFraming::naive;
    o.bridge.size_serialise = fc.size_serialise;
    o.bridge.forget_nlookup = fc.forget_nlookup;
    o.server = bridge_server_options(pc, spec.fs);
    o.dev.type = pc.transport;
    for (auto& b : o.dev.buf) b.rcvbuf_msgs = pc.rcvbuf_msgs;
    o.request_faults = sim::drop_rules(pc.req_drop_at, pc.req_drop_ppm);
    o.reply_faults = sim::drop_rules(pc.reply_drop_at, pc.reply_drop_ppm);
    p->srv_ = FuseServer::create(m, p->hop_->end(1), fs, std::move(o), error);
    if (!p->srv_) return nullptr;
    return p;
  }

  std::string describe() const override { return "fuse daemon '" + srv_->daemon().name() + "'"; }
  vn::Status start() override {
    VN_TRY(srv_->start());
    // The bridge's workers answer on the puffs hop: the stub's reply reader
    // waits for them (a wait-for edge for the deadlock oracle).
    for (sim::LwpId w : srv_->server().workers()) hop_->declare_sender(1, w);
    return vn::kOk;
  }
  std::vector<sim::LwpId> lwps() const override { return srv_->lwps(); }
  void crash() override { srv_->crash(); }
  bool dead() const override { return srv_->dead(); }
  std::vector<std::string> leaks() const override { return srv_->leaks(); }

  sim::Socket& kernel_end() { return hop_->end(0); }
  std::uint64_t root_cookie() const { return srv_->root_cookie(); }
  void set_kernel(puffs::KernelCaches* k) { srv_->set_kernel(k); }

 private:
  FuseProcess() = default;
  std::unique_ptr<sim::SocketPair> hop_;
  std::unique_ptr<FuseServer> srv_;
};

// An external daemon (external.h) behind the same kernel side, bridge and
// puffs workers.
class ExternalProcess final : public vn::UserServer {
 public:
  static std::unique_ptr<ExternalProcess> create(sim::Machine& m, const puffs::PuffsConfig& pc,
                                                 const FuseConfig& fc, const FuseMountSpec& spec,
                                                 std::string* error) {
    std::unique_ptr<ExternalProcess> p(new ExternalProcess(m));
    ExternalOptions eo;
    eo.exec = spec.exec;
    eo.argv = spec.argv;
    eo.cwd = spec.cwd;
    p->daemon_ = ExternalDaemon::start(m, eo, error);
    if (!p->daemon_) return nullptr;
    const std::string& name = p->daemon_->name();
    p->hop_ = puffs_hop(m, name);
    ConnOptions co;
    co.name = name;
    p->conn_ = std::make_unique<FuseConn>(m, p->daemon_->kernel_end(), co);
    BridgeOptions bo;
    bo.name = name;
    bo.size_serialise = fc.size_serialise;
    bo.forget_nlookup = fc.forget_nlookup;
    p->bridge_ = std::make_unique<FuseBridge>(m, *p->conn_, bo);
    p->server_ = std::make_unique<puffs::Server>(m, p->hop_->end(1), *p->bridge_,
                                                 bridge_server_options(pc, name));
    FuseBridge* bridge = p->bridge_.get();
    p->conn_->set_notify_handler([bridge](const Notification& n) { return bridge->notify(n); });
    return p;
  }

  std::string describe() const override { return "external fuse daemon '" + daemon_->name() + "'"; }
  vn::Status start() override {
    conn_->start();
    VN_TRY(conn_->init());
    VN_TRY(bridge_->attach(*server_));
    server_->start();
    for (sim::LwpId w : server_->workers()) hop_->declare_sender(1, w);
    return vn::kOk;
  }
  std::vector<sim::LwpId> lwps() const override {
    std::vector<sim::LwpId> out;
    if (conn_->reader() != sim::kNoLwp) out.push_back(conn_->reader());
    for (sim::LwpId w : server_->workers()) out.push_back(w);
    return out;
  }
  void crash() override { daemon_->crash(); }
  bool dead() const override { return conn_->dead() && !bridge_->unmounted(); }
  std::vector<std::string> leaks() const override {
    return bridge_->unmounted() ? bridge_->leaks() : std::vector<std::string>{};
  }

  sim::Socket& kernel_end() { return hop_->end(0); }
  std::uint64_t root_cookie() const { return server_->root_cookie(); }
  void set_kernel(puffs::KernelCaches* k) { bridge_->set_kernel(k); }

 private:
  explicit ExternalProcess(sim::Machine&) {}
  // Declared so that the daemon (and its socket) goes last.
  std::unique_ptr<ExternalDaemon> daemon_;
  std::unique_ptr<sim::SocketPair> hop_;
  std::unique_ptr<FuseConn> conn_;
  std::unique_ptr<FuseBridge> bridge_;
  std::unique_ptr<puffs::Server> server_;
};

template <class Process>
vn::Result<std::unique_ptr<vn::FileSystem>> mount_process(vn::MountEnv& env,
                                                          const puffs::PuffsConfig& pc,
                                                          std::unique_ptr<Process> owned,
                                                          const std::string& name) {
  sim::Machine& m = env.machine();
  Process* proc = owned.get();
  auto started = env.start_server(std::move(owned));
  if (!started.ok()) return started.status();
  puffs::PuffsMountOptions o;
  o.name = name;
  o.size_lock = pc.size_lock;
  o.reclaim_nlookup = pc.reclaim_nlookup;
  o.timeout = pc.timeout_ms * sim::kMillisecond;
  o.retries = static_cast<int>(pc.retry);
  o.root_cookie = proc->root_cookie();
  o.msg_alloc = puffs::kmem_msg_alloc(env.pager());
  o.pager = env.pager();
  o.max_io = kPuffsHopMaxIo;
  o.on_unmount = [proc] { proc->set_kernel(nullptr); };
  auto fs = std::make_unique<puffs::PuffsMount>(m, proc->kernel_end(), o);
  proc->set_kernel(fs.get());
  fs->start();
  return std::unique_ptr<vn::FileSystem>(std::move(fs));
}

vn::Status refused(sim::Machine& m, const std::string& why) {
  m.event("fuse_mount_refused", why);
  return vn::Status(EINVAL);
}

}  // namespace

bool has_fs(std::string_view name) { return find_fs(linked_file_systems(), name) != nullptr; }

std::string fs_names() {
  std::string out;
  for (const FsEntry& e : linked_file_systems())
    out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out.empty() ? "none" : out;
}

vn::Result<std::unique_ptr<vn::FileSystem>> make_fuse(vn::MountEnv& env,
                                                      const puffs::PuffsConfig& pc,
                                                      const FuseConfig& fc,
                                                      const FuseMountSpec& spec) {
  sim::Machine& m = env.machine();
  VFSIM_KASSERT(m, !pc.check() && !fc.check(), "make_fuse: an unchecked configuration");
  if (std::string bad = spec.check(); !bad.empty()) return refused(m, bad);
  std::string error;
  if (!spec.exec.empty()) {
    auto proc = ExternalProcess::create(m, pc, fc, spec, &error);
    if (!proc) return refused(m, error);
    return mount_process(env, pc, std::move(proc), spec.exec);
  }
  const FsEntry* fs = find_fs(linked_file_systems(), spec.fs);
  if (fs == nullptr) {
    m.event("fuse_mount_refused", "no FUSE file system '" + spec.fs + "' in this executable");
    return vn::Status(ENODEV);
  }
  auto proc = FuseProcess::create(m, pc, fc, spec, *fs, &error);
  if (!proc) return refused(m, error);
  return mount_process(env, pc, std::move(proc), spec.fs);
}

namespace {

// Splits mount(2)'s options into the FUSE ones and the puffs ones.
std::optional<puffs::OptionError> parse_fuse_options(const vn::MountArgs& args,
                                                     puffs::PuffsConfig* pc, FuseConfig* fc,
                                                     FuseMountSpec* spec) {
  vn::MountArgs rest;
  for (const auto& kv : args) {
    const std::string& key = kv.first;  // not a structured binding: the lambda uses both
    const std::string& text = kv.second;
    const auto boolean = [&](bool* out) -> std::optional<puffs::OptionError> {
      if (text == "true" || text == "1") *out = true;
      else if (text == "false" || text == "0") *out = false;
      else return puffs::OptionError{key, "expected true or false, got \"" + text + "\""};
      return std::nullopt;
    };
    if (key == "fs") spec->fs = text;
    else if (key == "exec") spec->exec = text;
    else if (key == "mountpoint") spec->mountpoint = text;
    else if (key == "args") {
      std::string_view s = text;
      while (!s.empty()) {
        const std::size_t sp = std::min(s.find(' '), s.size());
        if (sp > 0) spec->argv.emplace_back(s.substr(0, sp));
        s.remove_prefix(std::min(sp + 1, s.size()));
      }
    } else if (key == "workers") {
      auto n = vn::mount_arg_number(args, key, 1);
      if (!n.ok()) return puffs::OptionError{key, "expected a number, got \"" + text + "\""};
      fc->workers = static_cast<std::int64_t>(std::min<std::uint64_t>(*n, 65));
    } else if (key == "size_serialise") {
      if (auto bad = boolean(&fc->size_serialise)) return bad;
    } else if (key == "forget_nlookup") {
      if (auto bad = boolean(&fc->forget_nlookup)) return bad;
    } else {
      rest.emplace(key, text);
    }
  }
  if (auto bad = puffs::parse_mount_options(rest, pc)) return bad;
  if (!pc->backend_args.empty()) {
    return puffs::OptionError{pc->backend_args.begin()->first, "not an option of type fuse"};
  }
  if (auto bad = fc->check()) return bad;
  if (std::string bad = spec->check(); !bad.empty()) return puffs::OptionError{"fs", bad};
  return std::nullopt;
}

}  // namespace

vn::FsType fstype() {
  return {"fuse",
          "a FUSE file system: a libfuse daemon linked into vfsim (fs=NAME) or a host binary "
          "(exec=PATH), through the perfused bridge; options in fsdrivers/fuse/fuse_fstype.h",
          [](vn::MountEnv& env,
             const vn::MountArgs& args) -> vn::Result<std::unique_ptr<vn::FileSystem>> {
            puffs::PuffsConfig pc;
            FuseConfig fc;
            FuseMountSpec spec;
            if (auto bad = parse_fuse_options(args, &pc, &fc, &spec)) {
              if (env.machine().trace().keeping()) {
                env.machine().note("fuse_mount", bad->option + ": " + bad->reason);
              }
              return vn::Status(EINVAL);
            }
            return make_fuse(env, pc, fc, spec);
          }};
}

}  // namespace vfsim::fuse
