// Concurrency tests of the vcache under the explorer: lwps get and release
// the same few keys while loads, VOP_INACTIVE and VOP_RECLAIM sleep and a
// tiny desiredvnodes forces recycling, so get() keeps meeting vnodes that are
// loading, inactive or being reclaimed. No schedule may panic, deadlock, or
// return a vnode that is not ACTIVE; at the end every vnode is released.
#include <gtest/gtest.h>

#include <cerrno>

#include "sim/explore.h"
#include "vnode/tests/test_fs.h"
#include "vnode/vnode_if.h"

namespace vfsim::vn {
namespace {

// Runs the machine with a leak check for referenced vnodes; a run that
// passes but leaves the vcache's invariants broken ends as a panic.
sim::RunResult run_checked(sim::Machine& m, Vcache& vc) {
  m.add_leak_check("vnodes", [&] { return vc.referenced(); });
  auto r = m.run();
  if (r.outcome == sim::Outcome::pass && !vc.check_invariants().empty()) {
    r.outcome = sim::Outcome::panic;
    r.message = vc.check_invariants();
  }
  return r;
}

// One run: three lwps, each gets/releases keys from {2,3,4}, some recycled
// on inactive; desiredvnodes 2.
sim::RunResult race_run(const sim::MachineOptions& o, sim::Strategy& s) {
  testing::TestFsCounters c;
  sim::Machine m(o, s);
  Vcache vc(m, 2);
  Mount mp(m, 1, std::make_unique<testing::TestFs>(c, 8, sim::kMicrosecond));
  c.recycle_on_inactive[3] = true;
  for (int i = 0; i < 3; ++i) {
    m.spawn("lwp" + std::to_string(i), [&, i] {
      for (int round = 0; round < 3; ++round) {
        const std::uint64_t key = 2 + static_cast<std::uint64_t>((i + round) % 3);
        auto v = vc.get(mp, key);
        VFSIM_KASSERT(m, v.ok(), "get failed");
        Vnode& vp = **v;
        VFSIM_KASSERT(m, vp.state == VState::active && vp.key() == key,
                      "get returned " + vp.describe());
        vn_lock(vp, round % 2 == 0);
        m.sched_point("holding");
        vn_unlock(vp);
        vc.vrele(vp);
      }
    });
  }
  return run_checked(m, vc);
}

// Shows: 2,000 random and 2,000 PCT schedules of get/vrele racing load,
// inactive and reclaim all pass.
TEST(VcacheRace, GetRacingReclaimWaitsAndRetries) {
  for (const char* strategy : {"random", "pct"}) {
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 2000;
    eo.seed = 7;
    auto summary = sim::explore(race_run, eo);
    ASSERT_EQ(summary.outcome, sim::Outcome::pass)
        << strategy << ": " << (summary.first_failure ? summary.first_failure->message : "");
    EXPECT_EQ(summary.schedules_explored, 2000u);
  }
}

// Shows: a get() that finds a vnode being reclaimed waits (the wait counter
// moves) and then loads a fresh vnode instead of returning the dead one.
TEST(VcacheRace, WaiterSeesFreshVnodeAfterReclaim) {
  testing::World w(3, 100, sim::kMillisecond);
  w.counters.recycle_on_inactive[2] = true;
  Vnode* first = nullptr;
  std::uint64_t first_serial = 0, second_serial = 0;
  w.machine.spawn("releaser", [&] {
    first = *w.vcache.get(w.mount, 2);
    first_serial = first->serial();
    w.machine.sleep_for(sim::kMicrosecond);
    w.vcache.vrele(*first);  // sleeps in inactive and reclaim
  });
  w.machine.spawn("getter", [&] {
    // Loading takes 1 ms; the releaser then enters VOP_INACTIVE for 1 ms.
    w.machine.sleep_for(sim::kMillisecond + 500 * sim::kMicrosecond);
    auto v = w.vcache.get(w.mount, 2);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ((*v)->state, VState::active);
    second_serial = (*v)->serial();
    w.vcache.vrele(**v);
  });
  auto r = w.machine.run();
  ASSERT_EQ(r.outcome, sim::Outcome::pass) << r.message;
  EXPECT_GE(w.vcache.stats().waits, 1u);
  EXPECT_NE(first_serial, second_serial);
  EXPECT_EQ(w.counters.loads, 2);
}

// One run: three lwps get, lock, unlock and release keys {2,3,4} while a
// fourth forces a flush of the mount (a forced unmount) part way through;
// loads, VOP_INACTIVE and VOP_RECLAIM each sleep 1us, so the flush meets
// vnodes that are referenced, locked, loading and being inactivated.
sim::RunResult forced_flush_run(const sim::MachineOptions& o, sim::Strategy& s) {
  testing::TestFsCounters c;
  sim::Machine m(o, s);
  Vcache vc(m, 100);
  Mount mp(m, 1, std::make_unique<testing::TestFs>(c, 8, sim::kMicrosecond));
  c.recycle_on_inactive[3] = true;
  std::vector<sim::LwpId> users;
  for (int i = 0; i < 3; ++i) {
    users.push_back(m.spawn("lwp" + std::to_string(i), [&, i] {
      for (int round = 0; round < 3; ++round) {
        const std::uint64_t key = 2 + static_cast<std::uint64_t>((i + round) % 3);
        auto v = vc.get(mp, key);
        VFSIM_KASSERT(m, v.ok(), "get failed");
        Vnode& vp = **v;
        VFSIM_KASSERT(m, vp.state == VState::active && vp.key() == key,
                      "get returned " + vp.describe());
        vn_lock(vp, round % 2 == 0);
        m.sched_point("holding");
        Vattr va;
        const Status st = vop_getattr(vp, &va);  // the test fs, or dead if revoked meanwhile
        VFSIM_KASSERT(m, st.ok() || (st.err() == ENXIO && vp.op == &dead_vnode_ops()),
                      "getattr answered " + std::to_string(st.err()) + " on " + vp.describe());
        vn_unlock(vp);
        vc.vrele(vp);
      }
    }));
  }
  const sim::LwpId revoker = m.spawn("revoker", [&] {
    m.sched_point("before flush");
    VFSIM_KASSERT(m, vc.flush(mp, true).ok(), "forced flush failed");
  });
  // Afterwards what the forced flush left cached (vnodes loaded after it
  // passed) goes too; then every vnode ever loaded was reclaimed exactly once.
  m.spawn("teardown", [&] {
    for (sim::LwpId id : users) m.join(id);
    m.join(revoker);
    VFSIM_KASSERT(m, vc.flush(mp, false).ok(), "flush after the run is busy");
    VFSIM_KASSERT(m, vc.numvnodes() == 0, "vnodes left after the last flush");
    for (const auto& kv : c.live) {
      const auto key = kv.first;  // no structured binding: the assertion captures it
      const auto n = kv.second;
      VFSIM_KASSERT(m, n == 0,
                    "key " + std::to_string(key) + " has " + std::to_string(n) +
                        " live nodes after its reclaims");
    }
  });
  return run_checked(m, vc);
}

// Shows: a forced flush racing get/lock/vrele on the same vnodes (referenced
// vnodes reclaimed under their holders, a last vrele while VOP_RECLAIM
// sleeps, a vnode inactivating or loading when the flush reaches it) never
// panics, deadlocks or reclaims a vnode twice, get() only returns ACTIVE
// vnodes, a VOP on a revoked vnode answers ENXIO, and nothing leaks; in
// 500 random and 500 PCT schedules, each replaying to the same trace.
TEST(VcacheRace, ForcedFlushRacingVrele) {
  for (const char* strategy : {"random", "pct"}) {
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 500;
    eo.seed = 11;
    eo.depth = 3;
    eo.check_determinism = true;
    eo.determinism_sample = 25;
    auto summary = sim::explore(forced_flush_run, eo);
    ASSERT_EQ(summary.outcome, sim::Outcome::pass)
        << strategy << ": " << (summary.first_failure ? summary.first_failure->message : "");
    EXPECT_EQ(summary.schedules_explored, 500u);
    EXPECT_TRUE(summary.determinism_errors.empty()) << summary.determinism_errors.front();
  }
}

}  // namespace
}  // namespace vfsim::vn
