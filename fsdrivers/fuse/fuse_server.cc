#include "fsdrivers/fuse/fuse_server.h"

namespace vfsim::fuse {

std::unique_ptr<FuseServer> FuseServer::create(sim::Machine& m, sim::Socket& puffs_end,
                                               const FsEntry& fs, FuseServerOptions options,
                                               std::string* error) {
  std::unique_ptr<FuseServer> s(new FuseServer());
  options.dev.name = options.name + " /dev/fuse";
  s->dev_ = std::make_unique<sim::SocketPair>(m, options.dev);
  s->daemon_ = FuseDaemon::create(m, fs, s->dev_->end(1), options.daemon, error);
  if (!s->daemon_) return nullptr;
  options.conn.name = options.name;
  s->conn_ = std::make_unique<FuseConn>(m, s->dev_->end(0), options.conn);
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

std::vector<std::string> FuseServer::leaks() const {
  std::vector<std::string> out;
  if (!bridge_->unmounted()) return out;  // not a clean unmount: nothing to balance yet
  out = bridge_->leaks();
  if (!daemon_->exited()) out.push_back("fuse daemon '" + daemon_->name() + "' still running");
  return out;
}

}  // namespace vfsim::fuse
