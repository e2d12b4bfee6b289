// A machine (a boot::World) whose root is memfs mounted through puffs (p2k),
// for the kernel-stub tests: the body runs as process "main" in its own lwp
// and may spawn more (World::spawn_proc); afterwards everything is shut down
// and the World's leak checks run (vnodes, the server's nodes).
#pragma once

#include <fcntl.h>

#include <functional>
#include <memory>

#include "boot/world.h"
#include "fsdrivers/puffs/puffs_fstype.h"
#include "sim/explore.h"
#include "vfs/kernel.h"

namespace vfsim::puffs::testing {

struct World {
  boot::World& w;
  vfs::Kernel& k;
  vfs::Proc& p;
  sim::Machine& m() { return k.machine(); }
  // Spawns an lwp running `fn` as a new root process named `name`.
  sim::LwpId spawn_proc(const std::string& name, std::function<void(vfs::Proc&)> fn) {
    vfs::Proc& q = k.proc_create(name, vn::Cred{});
    return m().spawn(name, [this, &q, fn] {
      k.attach_current_lwp(q);
      fn(q);
    });
  }
};

using Body = std::function<void(World&)>;

inline sim::RunResult run_world(const sim::MachineOptions& mo, sim::Strategy& st,
                                const MountOptions& args, const Body& body) {
  sim::Machine m(mo, st);
  boot::BootConfig bc;
  bc.root_type = "puffs";
  bc.root_args = args;
  boot::World world(m, std::move(bc));
  m.spawn("main", [&] {
    vn::Status s = world.mount_root();
    if (!s.ok()) m.fail(sim::Outcome::panic, "mount puffs: errno " + std::to_string(s.err()));
    vfs::Kernel& k = world.kernel();
    vfs::Proc& p = k.proc_create("main", vn::Cred{});
    k.attach_current_lwp(p);
    World w{world, k, p};
    body(w);
    s = k.shutdown();
    if (!s.ok()) m.fail(sim::Outcome::leak, "shutdown: errno " + std::to_string(s.err()));
  });
  return m.run();
}

inline sim::RunFn world_fn(MountOptions args, Body body) {
  return [args, body](const sim::MachineOptions& mo, sim::Strategy& st) {
    return run_world(mo, st, args, body);
  };
}

inline sim::RunResult run_once(const MountOptions& args, const Body& body, std::uint64_t seed = 1,
                               bool keep_trace = true) {
  sim::StrategyParams sp;
  sp.seed = seed;
  auto st = sim::make_strategy("random", sp);
  st->begin_run(0, seed);
  sim::MachineOptions mo;
  mo.seed = seed;
  mo.keep_trace = keep_trace;
  return run_world(mo, *st, args, body);
}

inline bool has_event(const sim::RunResult& r, std::string_view kind, std::string_view text) {
  for (const auto& e : r.events) {
    if (e.kind == kind && e.detail.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace vfsim::puffs::testing
