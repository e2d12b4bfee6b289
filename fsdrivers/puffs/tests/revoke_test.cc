// The forced unmount when a puffs server dies reclaims every vnode of the
// mount at once, NetBSD vgone style, referenced ones included: the reply
// reader fails every request in flight with ENXIO, then forces a flush of
// the vcache. A vnode still open stays allocated as a dead vnode (every op
// answers ENXIO) until its last reference goes. These tests show it for one
// open file, then explore the death racing lwps that open, stat, read and
// close files on the mount.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "boot/ukfs.h"
#include "boot/world.h"
#include "fsdrivers/puffs/tests/puffs_world.h"
#include "sim/tests/test_util.h"
#include "vnode/vcache.h"

namespace vfsim::puffs {
namespace {

using sim::Outcome;
using testing::has_event;
using testing::run_once;
using testing::World;

PuffsMount& stub(World& w) { return static_cast<PuffsMount&>(w.k.root_mount()->fs()); }

// Vnodes of the puffs mount that are not RECLAIMED.
std::size_t unreclaimed(World& w) {
  std::size_t n = 0;
  w.k.vcache().for_each([&](const vn::Vnode& vp) {
    n += &vp.mount() == w.k.root_mount() && vp.state != vn::VState::reclaimed;
  });
  return n;
}

// Looks up a missing name until the server (set to die on an early
// request) is gone, then lets the reply reader finish the forced unmount.
void kill_server(World& w) {
  for (int i = 0; i < 100 && w.k.stat(w.p, "/missing").err() != ENXIO; ++i) {}
  w.m().sleep_for(sim::kMillisecond);
}

// Shows: when the server dies, a file still open is reclaimed at once, not at
// close: RECLAIM ran (the stub forgot the node, the vnode is RECLAIMED) while
// the descriptor was open; reading, writing and fstat on it answer ENXIO;
// its close frees the vnode, and the run ends with nothing leaked.
TEST(PuffsRevoke, ServerDeathReclaimsOpenVnodeAtOnce) {
  auto r = run_once({{"server_crash_at", "20"}}, [](World& w) {
    auto fd = w.k.open(w.p, "/f", O_CREAT | O_RDWR, 0644);
    ASSERT_TRUE(fd.ok()) << fd.err();
    ASSERT_TRUE(w.k.write(w.p, *fd, "data").ok());
    const std::uint64_t reclaims_before = w.k.vcache().stats().reclaims;

    kill_server(w);
    ASSERT_TRUE(stub(w).dead());
    EXPECT_EQ(unreclaimed(w), 0u);
    EXPECT_EQ(stub(w).live_nodes(), 0u);
    EXPECT_GE(w.k.vcache().stats().reclaims, reclaims_before + 2);  // "/" and "/f"

    EXPECT_EQ(w.k.fstat(w.p, *fd).err(), ENXIO);
    EXPECT_EQ(w.k.pread(w.p, *fd, 4, 0).err(), ENXIO);
    EXPECT_EQ(w.k.write(w.p, *fd, "more").err(), ENXIO);
    const std::size_t vnodes = w.k.vcache().numvnodes();
    EXPECT_EQ(w.k.close(w.p, *fd).err(), ENXIO);  // VOP_CLOSE of a dead vnode
    EXPECT_EQ(w.k.vcache().numvnodes(), vnodes - 1);
    EXPECT_EQ(w.k.stat(w.p, "/f").err(), ENXIO);
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_revoked", "every vnode reclaimed"));
}

// Shows: a process created after the death of the server that serves the
// root file system still starts (the kernel keeps its own reference to the
// root vnode, as NetBSD's rootvnode): its root is the dead vnode, so every
// path lookup answers ENXIO, and the run ends with nothing leaked.
TEST(PuffsRevoke, ProcessCreatedAfterDeathGetsTheDeadRoot) {
  auto r = run_once({{"server_crash_at", "20"}}, [](World& w) {
    ASSERT_TRUE(w.k.mkdir(w.p, "/d", 0755).ok());
    kill_server(w);
    ASSERT_TRUE(stub(w).dead());
    vfs::Proc& late = w.k.proc_create("late", vn::Cred{});
    EXPECT_EQ(late.root->state, vn::VState::reclaimed);
    EXPECT_EQ(w.k.stat(late, "/d").err(), ENXIO);
    EXPECT_EQ(w.k.open(late, "/g", O_CREAT | O_RDWR, 0644).err(), ENXIO);
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

// Shows (issue 13 A5): the mount of a dead server can be unmounted. The
// path names the directory the mount covers, whose crossing into the
// revoked root answers ENXIO: unmount(2) resolves it to the covered vnode
// instead. Its vnodes were all reclaimed when the server died (NetBSD moves
// them to deadfs), so even a file still open does not keep a plain unmount
// from succeeding: the mount is dead (out of the table, the open file's
// dead vnode keeps it) until the close frees that vnode and it is gone; the
// covered directory is memfs's again. A forced unmount of a second dead
// mount succeeds too. Failed before the fix: ENXIO.
TEST(PuffsRevoke, DeadMountUnmounts) {
  auto r = ukfs::run({}, [](ukfs::Ukfs& fs) {
    vfs::Kernel& k = fs.kernel();
    vfs::Proc& p = fs.proc();
    for (const char* dir : {"/puffs", "/puffs2"}) ASSERT_TRUE(fs.mkdir(dir, 0755).ok());
    ASSERT_TRUE(k.mount(p, "puffs", "/puffs", {{"server_crash_at", "20"}}).ok());
    ASSERT_TRUE(k.mount(p, "puffs", "/puffs2", {{"server_crash_at", "3"}}).ok());
    auto fd = k.open(p, "/puffs/f", O_CREAT | O_RDWR, 0644);
    ASSERT_TRUE(fd.ok()) << fd.err();
    for (int i = 0; i < 100 && k.stat(p, "/puffs/missing").err() != ENXIO; ++i) {}
    for (int i = 0; i < 100 && k.stat(p, "/puffs2/missing").err() != ENXIO; ++i) {}
    fs.machine().sleep_for(sim::kMillisecond);  // the readers revoke the mounts
    ASSERT_TRUE(fs.world().servers().at(0)->dead());
    ASSERT_TRUE(fs.world().servers().at(1)->dead());
    EXPECT_EQ(k.stat(p, "/puffs").err(), ENXIO);  // crossing into the revoked root
    const std::size_t mounts = k.mount_count();

    EXPECT_TRUE(k.unmount(p, "/puffs", false).ok());
    EXPECT_EQ(k.mount_count(), mounts - 1);
    auto st = k.stat(p, "/puffs");
    ASSERT_TRUE(st.ok()) << st.err();  // memfs's directory again
    EXPECT_EQ(k.stat(p, "/puffs/f").err(), ENOENT);
    EXPECT_EQ(k.fstat(p, *fd).err(), ENXIO);  // the dead vnode
    auto file = k.getfile(p, *fd);
    ASSERT_TRUE(file.ok());
    vn::Mount* dead = &(*file)->vp->mount();  // kept by the kernel until it goes
    k.putfile(**file);
    EXPECT_EQ(dead->state(), vn::MountState::dead);
    EXPECT_EQ(k.close(p, *fd).err(), ENXIO);
    EXPECT_EQ(dead->state(), vn::MountState::gone);

    EXPECT_TRUE(k.unmount(p, "/puffs2", true).ok());
    EXPECT_EQ(k.mount_count(), mounts - 2);
    EXPECT_EQ(k.unmount(p, "/puffs2", true).err(), EINVAL);  // not a mount any more
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

// A failed syscall around the death must answer ENXIO, nothing else.
void check_errno(sim::Machine& m, int err, const char* what) {
  if (err == 0 || err == ENXIO) return;
  m.fail(Outcome::expectation,
         std::string(what) + " answered errno " + std::to_string(err) + " around the death");
}

// Spawns an lwp running `fn` as process `q` (made before the server dies:
// a new process needs the root vnode).
sim::LwpId spawn_as(vfs::Kernel& k, vfs::Proc& q, std::function<void(vfs::Proc&)> fn) {
  return k.machine().spawn(q.name, [&k, &q, fn] {
    k.attach_current_lwp(q);
    fn(q);
  });
}

// Three processes open, fstat, read, stat, create, write and close files on
// the puffs root while the server dies on its `crash_at`-th request: whichever
// op that is (the setup takes about 35 requests; an early crash fails the
// setup's own ops with ENXIO), whatever each lwp is doing then. The ukfs
// process keeps one file open across the death and closes it last. With
// `paged`, regular files live in a small page cache (write-back). With
// crash_at 0 the server never dies and *requests (if given) gets the number
// of requests the workload sent.
sim::RunFn death_race(int crash_at, bool paged, std::uint64_t* requests = nullptr) {
  ukfs::Options uo;
  uo.fstype = "puffs";
  uo.args = {{"server_crash_at", std::to_string(crash_at)}, {"workers", "2"}};
  if (paged) {
    pager::PagerConfig pc;
    pc.pages = 24;
    pc.swap_slots = 256;
    uo.pager = pc;
  }
  return [uo, crash_at, requests](const sim::MachineOptions& mo, sim::Strategy& st) {
    return ukfs::run(uo, mo, st, [crash_at, requests](ukfs::Ukfs& fs) {
      vfs::Kernel& k = fs.kernel();
      sim::Machine& m = fs.machine();
      vfs::Proc& p = fs.proc();
      auto& pm = static_cast<PuffsMount&>(k.root_mount()->fs());
      for (const char* path : {"/a", "/b", "/c"}) {
        auto fd = k.open(p, path, O_CREAT | O_RDWR, 0644);
        check_errno(m, fd.err(), "setup: open");
        if (!fd.ok()) continue;
        check_errno(m, k.write(p, *fd, "abc").err(), "setup: write");
        check_errno(m, k.close(p, *fd).err(), "setup: close");
      }
      auto held = k.open(p, "/a", O_RDONLY);
      check_errno(m, held.err(), "setup: open of the held file");
      std::vector<sim::LwpId> ids;
      ids.push_back(spawn_as(k, fs.new_process("opener", vn::Cred{}), [&](vfs::Proc& q) {
        for (int i = 0; i < 3; ++i) {
          auto fd = k.open(q, i % 2 == 0 ? "/b" : "/a", O_RDONLY);
          check_errno(m, fd.err(), "open");
          if (!fd.ok()) continue;
          check_errno(m, k.fstat(q, *fd).err(), "fstat");
          check_errno(m, k.read(q, *fd, 8).err(), "read");
          check_errno(m, k.close(q, *fd).err(), "close");
        }
      }));
      ids.push_back(spawn_as(k, fs.new_process("statter", vn::Cred{}), [&](vfs::Proc& q) {
        for (int i = 0; i < 4; ++i) check_errno(m, k.stat(q, i % 2 ? "/a" : "/c").err(), "stat");
      }));
      ids.push_back(spawn_as(k, fs.new_process("creator", vn::Cred{}), [&](vfs::Proc& q) {
        for (int i = 0; i < 2; ++i) {
          auto fd = k.open(q, i == 0 ? "/d" : "/c", O_CREAT | O_WRONLY, 0644);
          check_errno(m, fd.err(), "open O_CREAT");
          if (!fd.ok()) continue;
          check_errno(m, k.write(q, *fd, "xyz").err(), "write");
          check_errno(m, k.fsync(q, *fd).err(), "fsync");
          check_errno(m, k.close(q, *fd).err(), "close");
        }
      }));
      if (held.ok()) check_errno(m, k.fstat(p, *held).err(), "fstat of the held file");
      for (sim::LwpId id : ids) m.join(id);
      if (crash_at == 0) {
        if (requests != nullptr) *requests = pm.requests();
        if (held.ok()) (void)k.close(p, *held);
        return;
      }
      // If the workload did not reach the crash request, get there now.
      for (int i = 0; i < 100 && k.stat(p, "/missing").err() != ENXIO; ++i) {}
      m.sleep_for(sim::kMillisecond);  // the reader finishes the forced unmount
      std::size_t left = 0;
      k.vcache().for_each([&](const vn::Vnode& vp) { left += vp.state != vn::VState::reclaimed; });
      if (!pm.dead() || left != 0 || pm.live_nodes() != 0) {
        m.fail(Outcome::expectation,
               "the dead mount kept " + std::to_string(left) + " vnodes unreclaimed");
      }
      if ((held.ok() && k.fstat(p, *held).err() != ENXIO) || k.stat(p, "/b").err() != ENXIO) {
        m.fail(Outcome::expectation, "a dead mount answered something else than ENXIO");
      }
      if (held.ok()) (void)k.close(p, *held);
    });
  };
}

// Shows: the server dying on its 38th or 47th request, with and without a
// page cache, in 300 random and 300 PCT schedules each, while lwps open,
// fstat, read, stat, create, write, fsync and close files: no panic,
// deadlock, hang or leak (ukfs::run checks vnodes and references), every
// syscall answers success or ENXIO, the mount ends with every vnode
// reclaimed, sampled schedules replay to the same trace, and a recorded
// schedule replays to the same trace hash.
TEST(PuffsRevoke, ServerDeathRacingSyscallsExplores) {
  for (bool paged : {false, true}) {
    for (int crash_at : {38, 47}) {
      for (const char* strategy : {"random", "pct"}) {
        const std::string what = std::string(strategy) + " crash_at " + std::to_string(crash_at) +
                                 (paged ? " paged" : "");
        sim::ExploreOptions eo;
        eo.strategy = strategy;
        eo.schedules = 300;
        eo.seed = 0x9e7;
        eo.depth = 3;
        eo.check_determinism = true;
        eo.determinism_sample = 30;
        const sim::RunFn fn = death_race(crash_at, paged);
        auto summary = sim::explore(fn, eo);
        ASSERT_EQ(summary.outcome, Outcome::pass)
            << what << ": " << (summary.first_failure ? summary.first_failure->message : "");
        EXPECT_EQ(summary.schedules_explored, 300u) << what;
        EXPECT_TRUE(summary.determinism_errors.empty()) << summary.determinism_errors.front();

        // One schedule by hand: run it, replay its decisions, compare.
        sim::StrategyParams sp;
        sp.seed = sim::schedule_seed(eo.seed, 7);
        sp.depth = eo.depth;
        auto st = sim::make_strategy(strategy, sp);
        st->begin_run(7, sp.seed);
        sim::MachineOptions mo;
        mo.seed = sp.seed;
        const sim::RunResult first = fn(mo, *st);
        ASSERT_EQ(first.outcome, Outcome::pass) << what << ": " << first.message;
        sim::testing::expect_replays(fn, mo, first, Outcome::pass, what);
      }
    }
  }
}

// Schedules per strategy and crash point of the sweep below: the CI default,
// or VFSIM_REVOKE_SCHEDULES (the `long` ctest runs it with more).
std::uint64_t sweep_schedules() {
  const char* env = std::getenv("VFSIM_REVOKE_SCHEDULES");
  if (env == nullptr) return 40;
  const std::uint64_t n = std::strtoull(env, nullptr, 10);
  return n == 0 ? 40 : n;
}

// Shows: the server dying on every request of the death race's workload, one
// crash point after another from the first after the mount (the most requests any of 20 crash-free
// schedules sends, plus two more for the lookups that follow), with and
// without a page cache, under random and PCT schedules: no panic, deadlock,
// hang or leak, every syscall answers success or ENXIO, and the dead mount
// ends with every vnode reclaimed. Before the leak check waited for every
// daemon to be idle, most crash points ended some schedules as `leak`: the
// reply reader, woken in the middle of the forced flush, still held a vnode
// that a failed load had just left behind.
TEST(PuffsRevoke, ServerDeathAtEveryCrashPoint) {
  const std::uint64_t schedules = sweep_schedules();
  for (bool paged : {false, true}) {
    std::uint64_t most = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      std::uint64_t n = 0;
      const sim::RunFn fn = death_race(0, paged, &n);
      sim::StrategyParams sp;
      sp.seed = seed;
      auto st = sim::make_strategy("random", sp);
      st->begin_run(0, seed);
      sim::MachineOptions mo;
      mo.seed = seed;
      const sim::RunResult r = fn(mo, *st);
      ASSERT_EQ(r.outcome, Outcome::pass) << "no crash, seed " << seed << ": " << r.message;
      most = std::max(most, n);
    }
    ASSERT_GT(most, 35u) << "the workload should send more requests than its setup";
    // Request 1 is the root's GETATTR inside mount_root (its own test below).
    for (std::uint64_t crash_at = 2; crash_at <= most + 2; ++crash_at) {
      for (const char* strategy : {"random", "pct"}) {
        const std::string what = std::string(strategy) + " crash_at " + std::to_string(crash_at) +
                                 (paged ? " paged" : "");
        sim::ExploreOptions eo;
        eo.strategy = strategy;
        eo.schedules = schedules;
        eo.seed = 0x5eed + crash_at;
        eo.depth = 3;
        auto summary = sim::explore(death_race(static_cast<int>(crash_at), paged), eo);
        ASSERT_EQ(summary.outcome, Outcome::pass)
            << what << ": " << (summary.first_failure ? summary.first_failure->message : "");
        EXPECT_EQ(summary.schedules_explored, schedules) << what;
      }
    }
  }
}

// Shows: a server that dies on its first request, the root's GETATTR that
// mount_root sends to load the root vnode, fails the mount with ENXIO; the
// stub's reply reader is gone with it and nothing leaks. (Before, the mount
// succeeded and the first proc_create panicked on a KASSERT.)
TEST(PuffsRevoke, ServerDeathAtMountFailsTheMount) {
  sim::StrategyParams sp;
  auto st = sim::make_strategy("random", sp);
  st->begin_run(0, 1);
  sim::Machine m(sim::MachineOptions{}, *st);
  boot::BootConfig bc;
  bc.root_type = "puffs";
  bc.root_args = {{"server_crash_at", "1"}};
  sim::RunResult r;
  {
    boot::World w(m, std::move(bc));  // destroyed after the run, before the machine
    m.spawn("main", [&m, &w] {
      const vn::Status s = w.mount_root();
      if (s.err() != ENXIO) {
        m.fail(Outcome::expectation, "mount_root answered errno " + std::to_string(s.err()));
      }
      if (w.kernel().root_mount() != nullptr) {
        m.fail(Outcome::expectation, "a root mount remained");
      }
    });
    r = m.run();
  }
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
}

// Shows: the leak check still finds a real leak after the death: one lwp
// keeps an extra reference to the vnode of a file it holds open, and the run
// ends as `leak` naming that vnode, even though the forced unmount's reader
// was busy when the lwps finished.
TEST(PuffsRevoke, ExtraReferenceAfterDeathIsALeak) {
  ukfs::Options uo;
  uo.fstype = "puffs";
  uo.args = {{"server_crash_at", "12"}, {"workers", "2"}};
  auto r = ukfs::run(uo, [](ukfs::Ukfs& fs) {
    vfs::Kernel& k = fs.kernel();
    vfs::Proc& p = fs.proc();
    auto fd = k.open(p, "/f", O_CREAT | O_RDWR, 0644);
    ASSERT_TRUE(fd.ok()) << fd.err();
    auto f = k.getfile(p, *fd);
    ASSERT_TRUE(f.ok());
    k.vref(*(*f)->vp);  // the deliberate leak: never released
    k.putfile(**f);
    for (int i = 0; i < 100 && k.stat(p, "/missing").err() != ENXIO; ++i) {}
    (void)k.close(p, *fd);
  });
  EXPECT_EQ(r.outcome, Outcome::leak) << r.message;
  EXPECT_NE(r.message.find("has 1 references, the kernel accounts for 0"), std::string::npos)
      << r.message;
}

}  // namespace
}  // namespace vfsim::puffs
