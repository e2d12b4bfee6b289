// A machine whose root file system is a FUSE file system through the whole
// PERFUSE stack, built by hand the way puffs_world.h builds puffs: the VFS,
// the puffs kernel stub, a puffs socket, a puffs server whose op vector is
// the perfused bridge (FuseServer), /dev/fuse, and the libfuse daemon lwps
// running a registered file system. The body runs as process "main"; then
// the kernel shuts down (unmount: the daemon must exit) and the leak checks
// run: vnodes, and the bridge's lookup ledger.
#pragma once

#include <fcntl.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fsdrivers/fuse/fuse_server.h"
#include "fsdrivers/puffs/puffs_kernel.h"
#include "sim/explore.h"
#include "vfs/kernel.h"

namespace vfsim::fuse::testing {

struct WorldOptions {
  std::string fs = "hello_ll";
  std::vector<std::string> args;
  int workers = 2;        // fuse.workers
  int puffs_workers = 2;  // puffs server workers
  bool size_serialise = true;
  bool forget_nlookup = true;
  bool puffs_size_lock = true;
  std::size_t desiredvnodes = 0;  // 0: the kernel's default
};

struct World {
  vfs::Kernel& k;
  vfs::Proc& p;
  FuseServer& fuse;
  sim::Machine& m() { return k.machine(); }
  sim::LwpId spawn_proc(const std::string& name, std::function<void(vfs::Proc&)> fn) {
    vfs::Proc& q = k.proc_create(name, vn::Cred{});
    return m().spawn(name, [this, &q, fn] {
      k.attach_current_lwp(q);
      fn(q);
    });
  }
};

using Body = std::function<void(World&)>;

// What one mount builds; kept until the machine is gone (daemon lwps may
// touch it while a run is unwound).
struct Stack {
  std::unique_ptr<sim::SocketPair> puffs_pair;
  std::unique_ptr<FuseServer> fuse;
};

inline sim::RunResult run_world(const sim::MachineOptions& mo, sim::Strategy& st,
                                const WorldOptions& o, const Body& body) {
  sim::Machine m(mo, st);
  vfs::KernelOptions ko;
  if (o.desiredvnodes != 0) ko.desiredvnodes = o.desiredvnodes;
  vfs::Kernel k(m, ko);
  auto stack = std::make_shared<Stack>();
  k.register_fs_type(
      "fuse",
      [&o, &mm = m, stack](const vfs::MountArgs&) -> vn::Result<std::unique_ptr<vn::FileSystem>> {
        const FsEntry* fs = find_fs(linked_file_systems(), o.fs);
        if (fs == nullptr) return vn::Status(ENODEV);
        sim::SocketOptions so;
        so.name = "puffs";
        // The puffs stub sends a write(2) as one message: room for the largest
        // one the tests make.
        for (auto& b : so.buf) b.rcvbuf_bytes = 1 << 20;
        stack->puffs_pair = std::make_unique<sim::SocketPair>(mm, so);
        FuseServerOptions fo;
        fo.name = o.fs;
        fo.daemon.args = o.args;
        fo.daemon.workers = o.workers;
        fo.server.workers = o.puffs_workers;
        fo.server.max_read = 1 << 20;
        fo.bridge.size_serialise = o.size_serialise;
        fo.bridge.forget_nlookup = o.forget_nlookup;
        std::string error;
        stack->fuse = FuseServer::create(mm, stack->puffs_pair->end(1), *fs, fo, &error);
        if (!stack->fuse) {
          mm.event("fuse_mount_refused", error);
          return vn::Status(EINVAL);
        }
        VN_TRY(stack->fuse->start());
        puffs::PuffsMountOptions pm;
        pm.name = o.fs;
        pm.root_cookie = stack->fuse->root_cookie();
        pm.size_lock = o.puffs_size_lock;
        auto fsys = std::make_unique<puffs::PuffsMount>(mm, stack->puffs_pair->end(0), pm);
        fsys->start();
        return std::unique_ptr<vn::FileSystem>(std::move(fsys));
      });
  m.add_leak_check("vnodes", [&] { return k.vcache().referenced(); });
  m.add_leak_check(
      "fuse", [stack] { return stack->fuse ? stack->fuse->leaks() : std::vector<std::string>{}; });
  m.spawn("main", [&] {
    vn::Status s = k.mount_root("fuse", {});
    if (!s.ok()) m.fail(sim::Outcome::panic, "mount fuse: errno " + std::to_string(s.err()));
    vfs::Proc& p = k.proc_create("main", vn::Cred{});
    k.attach_current_lwp(p);
    World w{k, p, *stack->fuse};
    body(w);
    s = k.shutdown();
    if (!s.ok()) m.fail(sim::Outcome::leak, "shutdown: errno " + std::to_string(s.err()));
    if (!stack->fuse->daemon().exited()) m.fail(sim::Outcome::leak, "daemon did not exit");
  });
  return m.run();
}

inline sim::RunFn world_fn(WorldOptions o, Body body) {
  return [o, body](const sim::MachineOptions& mo, sim::Strategy& st) {
    return run_world(mo, st, o, body);
  };
}

inline sim::RunResult run_once(const WorldOptions& o, const Body& body, std::uint64_t seed = 1,
                               const std::string& strategy = "random", bool keep_trace = false) {
  sim::StrategyParams sp;
  sp.seed = seed;
  auto st = sim::make_strategy(strategy, sp);
  st->begin_run(0, seed);
  sim::MachineOptions mo;
  mo.seed = seed;
  mo.keep_trace = keep_trace;
  return run_world(mo, *st, o, body);
}

}  // namespace vfsim::fuse::testing
