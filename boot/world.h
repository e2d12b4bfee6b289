// The World: one machine's kernel, assembled in one place — vfsim's
// rump_init. It owns, and builds in this order:
//
//   1. the pager (when the configuration has memory): physical pages, kmem,
//      the page cache; its pagedaemon and syncer lwps start here;
//   2. the kernel (vfs::Kernel), handed the pager;
//   3. the file-system types, each a driver's vn::FsType, put into the
//      kernel's mount-by-type table with the World as their MountEnv;
//   4. the userland servers (puffs servers today, FUSE daemons next) that
//      those types start while they mount: vn::UserServer processes with
//      their lwps, kept in start order.
//
// Teardown has two halves. Inside the run, shutdown() (in an lwp) exits
// every process and unmounts every file system, innermost first, which ends
// every server's connection. After Machine::run returned — every lwp gone —
// the machine runs the World's leak checks (vnodes; each server's leaks() at
// true quiescence), and then the World is destroyed top down: the kernel and
// its mounts first (a puffs mount's stub still points at its server's
// socket), then the servers, then the pager (everything above may hold
// pages).
//
// Nothing below boot/ knows the World: drivers see a vn::MountEnv, scenario
// modules, ukfs, the fs tools, the fuzz harness and the benches get a World&.
#pragma once

#include <memory>
#include <vector>

#include "boot/config.h"
#include "pager/pager.h"
#include "sim/machine.h"
#include "vfs/kernel.h"
#include "vnode/fstype.h"

namespace vfsim::boot {

class World {
 public:
  // Builds pager, kernel and types (above) inside an lwp or before
  // Machine::run. `config` must pass check(): a bad configuration is the
  // caller's to report (the scenario loader names the knob).
  World(sim::Machine& m, BootConfig config);
  // Destroys kernel, servers, pager, in that order; only after Machine::run
  // returned.
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  sim::Machine& machine() const { return machine_; }
  const BootConfig& config() const { return config_; }
  vfs::Kernel& kernel() { return *kernel_; }
  // The machine's pager, or null without a memory model.
  pager::Pager* pager() const { return pager_.get(); }
  // What a file-system type's factory gets for a mount in the kernel (the
  // pager included). For a mount that bypasses the type table (the scenario
  // op puffs.mount builds a typed PuffsConfig): Kernel::mount_with.
  vn::MountEnv& env();
  // The userland servers started so far, in start order.
  const std::vector<std::unique_ptr<vn::UserServer>>& servers() const { return servers_; }
  // Each server is a fault domain of its own (sim/machine.h): a panic in
  // one of its lwps kills it (its crash() runs as its exit) and the run
  // goes on.

  // Mounts config().root_type with config().root_args at "/" (inside an lwp).
  [[nodiscard]] vn::Status mount_root();

  // The end of a run, inside an lwp: a reference the kernel cannot account
  // for (open files, cwds, roots, covered mount points) ends the run as
  // `leak`; then every process exits and every file system is unmounted,
  // innermost first; a failed unmount ends the run as `leak` too.
  void shutdown();

 private:
  class Env;
  friend class Env;

  sim::Machine& machine_;
  const BootConfig config_;
  // Declared in the order of construction; destroyed in reverse.
  std::unique_ptr<pager::Pager> pager_;
  std::vector<std::unique_ptr<vn::UserServer>> servers_;
  std::unique_ptr<Env> kernel_env_;  // MountEnv with the pager
  std::unique_ptr<Env> server_env_;  // MountEnv for a server's backend: no pager
  std::unique_ptr<vfs::Kernel> kernel_;
};

}  // namespace vfsim::boot
