#include "fsdrivers/fuse/fuse_server.h"

namespace vfsim::fuse {

std::unique_ptr<FuseServer> FuseServer::create(sim::Machine& m, sim::Socket& puffs_end,
                                               const FsEntry& fs, FuseServerOptions options,
                                               std::string* error) {
  std::unique_ptr<FuseServer> s(new FuseServer());
  options.dev.name = options.name + " /dev/fuse";
  // The daemon's workers all read /dev/fuse; a request wakes one of them.
  options.dev.exclusive_wakeup = true;
  s->dev_ = std::make_unique<sim::SocketPair>(m, options.dev);
  sim::Socket* kernel_end = &s->dev_->end(0);
  sim::Socket* daemon_end = &s->dev_->end(1);
  if (!options.request_faults.empty()) {
    s->kernel_faults_ =
        std::make_unique<sim::FaultySocket>(m, *kernel_end, std::move(options.request_faults));
    kernel_end = s->kernel_faults_.get();
  }
  if (!options.reply_faults.empty()) {
    s->daemon_faults_ =
        std::make_unique<sim::FaultySocket>(m, *daemon_end, std::move(options.reply_faults));
    daemon_end = s->daemon_faults_.get();
  }
  // The daemon's readers answer on /dev/fuse: the kernel's reply reader
  // waits for them (a wait-for edge for the deadlock oracle).
  sim::SocketPair* dev = s->dev_.get();
  FuseServer* self = s.get();
  auto user_on_reader = options.daemon.on_reader;
  options.daemon.on_reader = [dev, self, user_on_reader](sim::LwpId id) {
    dev->declare_sender(1, id);
    if (self->conn_) self->conn_->add_reply_waker(id);
    if (user_on_reader) user_on_reader(id);
  };
  // Replies reach the kernel in the daemon's writing lwp (FuseConn::
  // deliver_in_writer) unless /dev/fuse is a stream or its reply direction
  // has faults (a delayed reply arrives later, by a courier lwp): those
  // keep the reply reader.
  const bool in_writer = options.dev.type != sim::SockType::stream && options.reply_faults.empty();
  s->daemon_ = FuseDaemon::create(m, fs, *daemon_end, options.daemon, error);
  if (!s->daemon_) return nullptr;
  options.conn.name = options.name;
  s->conn_ = std::make_unique<FuseConn>(m, *kernel_end, options.conn);
  if (in_writer) {
    FuseConn* c = s->conn_.get();
    s->conn_->deliver_in_writer([dev] { return dev->queued_messages(0) > 0; });
    s->daemon_->dev().set_kernel_hooks([c] { c->pump(); }, [c] { c->peer_closed(); });
  }
  options.bridge.name = options.name;
  FuseDaemon* daemon = s->daemon_.get();
  auto user_after = options.bridge.after_close;
  options.bridge.after_close = [daemon, user_after] {
    daemon->wait_exit();
    if (user_after) user_after();
  };
  s->bridge_ = std::make_unique<FuseBridge>(m, *s->conn_, options.bridge);
  if (options.server.name == "puffs") options.server.name = options.name;
  s->server_ = std::make_unique<puffs::Server>(m, puffs_end, *s->bridge_, options.server);
  // Notifications: applied in the daemon's writing lwp, through the
  // connection (decoding) and the bridge (nodeids to cookies).
  FuseConn* conn = s->conn_.get();
  FuseBridge* bridge = s->bridge_.get();
  s->daemon_->dev().set_notify_hook(
      [conn](std::string_view bytes) { return conn->notify_from_writer(bytes); });
  s->conn_->set_notify_handler([bridge](const Notification& n) { return bridge->notify(n); });
  return s;
}

FuseServer::~FuseServer() = default;

vn::Status FuseServer::start() {
  daemon_->start();
  conn_->start();
  VN_TRY(conn_->init());
  VN_TRY(bridge_->attach(*server_));
  server_->start();
  return vn::kOk;
}

void FuseServer::crash() {
  daemon_->posix().machine().event("fuse_daemon_crash", daemon_->name());
  daemon_->dev().give_up();
}

std::vector<sim::LwpId> FuseServer::lwps() const {
  std::vector<sim::LwpId> out = daemon_->readers();
  if (conn_->reader() != sim::kNoLwp) out.push_back(conn_->reader());
  for (sim::LwpId w : server_->workers()) out.push_back(w);
  return out;
}

std::vector<std::string> FuseServer::leaks() const {
  std::vector<std::string> out;
  if (!bridge_->unmounted()) return out;  // not a clean unmount: nothing to balance yet
  out = bridge_->leaks();
  if (!daemon_->exited()) out.push_back("fuse daemon '" + daemon_->name() + "' still running");
  return out;
}

}  // namespace vfsim::fuse
