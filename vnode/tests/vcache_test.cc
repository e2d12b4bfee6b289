// Single-lwp tests of the vcache life cycle: loading, caching, reviving,
// recycling above desiredvnodes, flushing a mount, and the invariant checker.
#include <gtest/gtest.h>

#include "vnode/tests/test_fs.h"
#include "vnode/vnode_if.h"

namespace vfsim::vn {
namespace {

using testing::run_in_lwp;
using testing::World;

// Shows: get() loads once, a second get() is a hit on the same vnode, and
// the last vrele runs VOP_INACTIVE and leaves the vnode cached, not freed.
TEST(Vcache, LoadHitInactiveCache) {
  World w;
  run_in_lwp(w, [&] {
    auto a = w.vcache.get(w.mount, 5);
    ASSERT_TRUE(a.ok());
    auto b = w.vcache.get(w.mount, 5);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*a, *b);
    EXPECT_EQ((*a)->usecount, 2u);
    EXPECT_EQ((*a)->state, VState::active);
    w.vcache.vrele(**a);
    w.vcache.vrele(**b);
    EXPECT_EQ(w.counters.inactives, 1);
    EXPECT_EQ(w.vcache.numvnodes(), 1u);
    EXPECT_EQ(w.vcache.check_invariants(), "");
    auto c = w.vcache.get(w.mount, 5);  // revived from the free list
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(w.counters.loads, 1);
    EXPECT_EQ((*c)->state, VState::active);
    w.vcache.vrele(**c);
  });
}

// Shows: a failed load leaves nothing behind and returns the fs's errno.
TEST(Vcache, FailedLoadLeavesNothing) {
  World w;
  run_in_lwp(w, [&] {
    auto r = w.vcache.get(w.mount, 1000);
    EXPECT_EQ(r.err(), ENOENT);
    EXPECT_EQ(w.vcache.numvnodes(), 0u);
    EXPECT_EQ(w.mount.nvnodes, 0u);
    EXPECT_EQ(w.vcache.check_invariants(), "");
  });
}

// Shows: with desiredvnodes 4, loading a fifth vnode recycles the least
// recently used cached one with VOP_RECLAIM; referenced vnodes are never
// recycled, so the cache may grow past the limit when all are in use.
TEST(Vcache, RecyclesLeastRecentlyUsedAboveDesired) {
  World w(1, 4);
  run_in_lwp(w, [&] {
    for (std::uint64_t k = 2; k < 6; ++k) {
      auto v = w.vcache.get(w.mount, k);
      ASSERT_TRUE(v.ok());
      w.vcache.vrele(**v);
    }
    EXPECT_EQ(w.vcache.numvnodes(), 4u);
    auto v = w.vcache.get(w.mount, 9);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(w.vcache.numvnodes(), 4u);
    EXPECT_EQ(w.counters.reclaims, 1);
    EXPECT_EQ(w.counters.live[2], 0) << "key 2 was the least recently used";
    EXPECT_EQ(w.vcache.stats().recycles, 1u);
    std::vector<Vnode*> held;
    for (std::uint64_t k = 10; k < 16; ++k) held.push_back(*w.vcache.get(w.mount, k));
    EXPECT_GE(w.vcache.numvnodes(), 7u);  // all in use: above the limit
    for (Vnode* h : held) w.vcache.vrele(*h);
    w.vcache.vrele(**v);
    EXPECT_LE(w.vcache.numvnodes(), 4u);  // trimmed back on release
    EXPECT_EQ(w.vcache.check_invariants(), "");
  });
}

// Shows: VOP_INACTIVE asking to recycle reclaims and frees the vnode at once.
TEST(Vcache, InactiveRecycleReclaimsAtOnce) {
  World w;
  run_in_lwp(w, [&] {
    w.counters.recycle_on_inactive[3] = true;
    auto v = w.vcache.get(w.mount, 3);
    ASSERT_TRUE(v.ok());
    w.vcache.vrele(**v);
    EXPECT_EQ(w.counters.reclaims, 1);
    EXPECT_EQ(w.vcache.numvnodes(), 0u);
  });
}

// Shows: flush answers EBUSY while a vnode is referenced and reclaims
// everything otherwise; a forced flush leaves a referenced vnode dead
// (ENXIO) until its last reference goes.
TEST(Vcache, FlushBusyAndForced) {
  World w;
  run_in_lwp(w, [&] {
    auto a = w.vcache.get(w.mount, 2);
    auto b = w.vcache.get(w.mount, 3);
    ASSERT_TRUE(a.ok() && b.ok());
    w.vcache.vrele(**b);
    EXPECT_EQ(w.vcache.flush(w.mount, false).err(), EBUSY);
    EXPECT_EQ(w.counters.reclaims, 0);
    EXPECT_TRUE(w.vcache.flush(w.mount, true).ok());
    EXPECT_EQ(w.counters.reclaims, 2);
    EXPECT_EQ((*a)->state, VState::reclaimed);
    vn_lock(**a, false);
    Vattr va;
    EXPECT_EQ(vop_getattr(**a, &va).err(), ENXIO);
    vn_unlock(**a);
    w.vcache.vrele(**a);
    EXPECT_EQ(w.vcache.numvnodes(), 0u);
    EXPECT_EQ(w.vcache.check_invariants(), "");
  });
}

// Shows: an op the file system does not fill answers EOPNOTSUPP.
TEST(Vcache, UnfilledOpsAnswerEopnotsupp) {
  World w;
  run_in_lwp(w, [&] {
    auto v = w.vcache.get(w.mount, 2);
    ASSERT_TRUE(v.ok());
    vn_lock(**v, true);
    std::string target;
    EXPECT_EQ(vop_readlink(**v, &target).err(), EOPNOTSUPP);
    std::uint64_t off = 0;
    std::size_t written = 0;
    EXPECT_EQ(vop_write(**v, &off, "x", 0, &written).err(), EOPNOTSUPP);
    EXPECT_EQ(vop_setextattr(**v, XattrNs::user, "a", "b", 0).err(), EOPNOTSUPP);
    vn_unlock(**v);
    w.vcache.vrele(**v);
  });
}

// Shows: the invariant checker notices a corrupted count, and the machine
// runs it (here at the end of the run) and reports a panic.
TEST(Vcache, InvariantCheckerCatchesCorruption) {
  World w;
  Vnode* keep = nullptr;
  w.machine.spawn("t", [&] {
    keep = *w.vcache.get(w.mount, 4);
    keep->usecount = 0;  // corrupt: active with no references
  });
  auto r = w.machine.run();
  EXPECT_EQ(r.outcome, sim::Outcome::panic);
  EXPECT_NE(r.message.find("usecount 0"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace vfsim::vn
