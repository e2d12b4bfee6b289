// The World: assembly and teardown of one machine's kernel (world.h).
#include "boot/world.h"

#include <algorithm>

namespace vfsim::boot {

// The MountEnv a type's factory sees: the World, with or without the pager.
class World::Env final : public vn::MountEnv {
 public:
  Env(World& w, bool with_pager) : w_(w), with_pager_(with_pager) {}

  sim::Machine& machine() override { return w_.machine_; }
  pager::Pager* pager() override { return with_pager_ ? w_.pager_.get() : nullptr; }

  vn::Result<std::unique_ptr<vn::FileSystem>> make_server_fs(std::string_view type,
                                                             const vn::MountArgs& args) override {
    const auto& types = w_.config_.fs_types;
    auto it = std::find_if(types.begin(), types.end(),
                           [&](const vn::FsType& t) { return t.name == type; });
    if (it == types.end()) return vn::Status(ENODEV);
    return it->make(*w_.server_env_, args);
  }

  // The server is a process: a fault domain of its own (sim/machine.h).
  // start() runs in it, and so does every lwp it spawns; a panic in any of
  // them kills the process (crash(): its connection closes, the kernel
  // revokes its mounts) and the run goes on. A panic inside start() fails
  // the mount with ENXIO, as a server that dies while it mounts.
  vn::Result<vn::UserServer*> start_server(std::unique_ptr<vn::UserServer> server) override {
    vn::UserServer* s = server.get();
    sim::Machine& m = w_.machine_;
    const sim::DomainId domain = m.add_domain(s->describe(), [s] { s->crash(); });
    w_.servers_.push_back(std::move(server));
    vn::Status started = vn::kOk;
    if (!m.run_in_domain(domain, [&started, s] { started = s->start(); })) {
      return vn::Status(ENXIO);
    }
    VN_TRY(started);
    return s;
  }

 private:
  World& w_;
  bool with_pager_;
};

World::World(sim::Machine& m, BootConfig config)
    : machine_(m),
      config_(std::move(config)),
      pager_(config_.pager ? std::make_unique<pager::Pager>(m, *config_.pager) : nullptr),
      kernel_env_(std::make_unique<Env>(*this, true)),
      server_env_(std::make_unique<Env>(*this, false)) {
  VFSIM_KASSERT(m, !config_.check(), "World: a configuration that does not pass check()");
  if (pager_) pager_->start();
  vfs::KernelOptions ko;
  ko.personality = config_.personality;
  ko.desiredvnodes = config_.desiredvnodes;
  ko.rename_lost_source_unlock = config_.rename_lost_source_unlock;
  ko.pager = pager_.get();
  kernel_ = std::make_unique<vfs::Kernel>(m, ko);
  for (const vn::FsType& t : config_.fs_types) {
    kernel_->register_fs_type(
        t.name, [this, &t](const vn::MountArgs& args) { return t.make(env(), args); });
  }
  // Referenced vnodes are always a leak; any vnode at all once the kernel
  // was shut down (a run that ended early, or whose owner let a failed
  // unmount pass, keeps cached ones).
  vfs::Kernel* k = kernel_.get();
  m.add_leak_check("vnodes", [k] {
    std::vector<std::string> leaks = k->vcache().referenced();
    if (leaks.empty() && k->is_shut_down() && k->vcache().numvnodes() != 0) {
      leaks.push_back(std::to_string(k->vcache().numvnodes()) + " vnodes left after unmount");
    }
    return leaks;
  });
  // Run once every lwp is gone: no server lwp can be inside its server then.
  m.add_leak_check("userland servers", [this] {
    std::vector<std::string> leaks;
    for (const auto& s : servers_) {
      for (auto& line : s->leaks()) leaks.push_back(std::move(line));
    }
    return leaks;
  });
}

World::~World() = default;

vn::MountEnv& World::env() { return *kernel_env_; }

vn::Status World::mount_root() { return kernel_->mount_root(config_.root_type, config_.root_args); }

void World::shutdown() {
  auto unexplained = kernel_->unexplained_references();
  if (!unexplained.empty()) machine_.fail(sim::Outcome::leak, "vfs: " + unexplained.front());
  vn::Status s = kernel_->shutdown();
  if (!s.ok()) {
    machine_.fail(sim::Outcome::leak,
                  "vfs: unmount at teardown failed with errno " + std::to_string(s.err()));
  }
}

}  // namespace vfsim::boot
