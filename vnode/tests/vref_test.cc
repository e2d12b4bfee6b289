// VRef and VnLock (vnode/vref.h): each test holds references and locks
// through them in one lwp of a TestFs machine and reads the vnode's use
// count, its lock and the TestFs's VOP_INACTIVE counter to show when the
// plain vrele / vn_unlock underneath ran.
#include "vnode/vref.h"

#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "vnode/tests/test_fs.h"

namespace vfsim::vn {
namespace {

using testing::run_in_lwp;
using testing::World;

// The referenced vnode of `key`, as a VRef.
VRef get(World& w, std::uint64_t key) {
  auto r = w.vcache.get(w.mount, key);
  EXPECT_TRUE(r.ok());
  return VRef::adopt(**r);
}

static_assert(!std::is_copy_constructible_v<VRef> && !std::is_copy_assignable_v<VRef>);
static_assert(std::is_move_constructible_v<VRef> && std::is_move_assignable_v<VRef>);
static_assert(!std::is_copy_constructible_v<VnLock> && !std::is_copy_assignable_v<VnLock>);
static_assert(std::is_move_constructible_v<VnLock> && std::is_move_assignable_v<VnLock>);
static_assert(!std::is_copy_constructible_v<VnLockedRef>);

// Shows: a VRef drops its reference at the end of its scope: the last one
// runs VOP_INACTIVE then, not before; VRef::ref takes a second reference.
TEST(VRef, DropsOnScopeExit) {
  World w;
  run_in_lwp(w, [&] {
    Vnode* vp = nullptr;
    {
      VRef a = get(w, 5);
      vp = a.get();
      EXPECT_EQ(vp->usecount, 1u);
      {
        VRef b = VRef::ref(*a);
        EXPECT_EQ(vp->usecount, 2u);
      }
      EXPECT_EQ(vp->usecount, 1u);
      EXPECT_EQ(w.counters.inactives, 0);
    }
    EXPECT_EQ(vp->usecount, 0u);
    EXPECT_EQ(w.counters.inactives, 1);
    EXPECT_EQ(w.vcache.check_invariants(), "");
  });
}

// Shows: moving a VRef moves the reference (no vref, no vrele); assigning
// over a VRef drops the reference it held; reset() drops it at once;
// release() hands it on without a vrele, to be dropped by hand.
TEST(VRef, MoveAssignResetRelease) {
  World w;
  run_in_lwp(w, [&] {
    VRef a = get(w, 5);
    Vnode* v5 = a.get();
    VRef moved(std::move(a));
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_EQ(moved.get(), v5);
    EXPECT_EQ(v5->usecount, 1u);

    VRef b = get(w, 6);
    Vnode* v6 = b.get();
    moved = std::move(b);  // drops 5, holds 6
    EXPECT_EQ(v5->usecount, 0u);
    EXPECT_EQ(w.counters.inactives, 1);
    EXPECT_EQ(moved.get(), v6);
    EXPECT_EQ(v6->usecount, 1u);

    moved.reset();
    EXPECT_FALSE(moved);
    EXPECT_EQ(v6->usecount, 0u);
    EXPECT_EQ(w.counters.inactives, 2);
    moved.reset();  // empty: nothing to drop

    VRef c = get(w, 7);
    Vnode* v7 = c.release();
    EXPECT_FALSE(c);
    EXPECT_EQ(v7->usecount, 1u);  // still held, now by hand
    w.vcache.vrele(*v7);
    EXPECT_EQ(w.counters.inactives, 3);
    EXPECT_EQ(VRef::adopt(nullptr), nullptr);
  });
}

// Shows: a VnLock holds the vnode lock, shared or exclusive, until its
// scope ends; moving it moves the hold; unlock() releases at once;
// release() hands the held lock on (unlocked by hand afterwards).
TEST(VnLock, UnlocksOnScopeExitMoveUnlockRelease) {
  World w;
  run_in_lwp(w, [&] {
    VRef r = get(w, 5);
    {
      VnLock ex(*r, LK_EX);
      EXPECT_TRUE(vn_locked_exclusive(*r));
      VnLock moved(std::move(ex));
      EXPECT_FALSE(ex.owns_lock());  // NOLINT(bugprone-use-after-move)
      EXPECT_TRUE(moved.owns_lock());
      EXPECT_TRUE(vn_locked_exclusive(*r));
    }
    EXPECT_FALSE(vn_locked(*r));
    {
      VnLock sh(*r, LK_SH);
      EXPECT_TRUE(vn_locked(*r));
      EXPECT_FALSE(vn_locked_exclusive(*r));
      sh.unlock();
      EXPECT_FALSE(vn_locked(*r));
      sh.unlock();  // empty: nothing to unlock
    }
    Vnode* held = nullptr;
    {
      VnLock ex(*r, LK_EX);
      held = ex.release();
    }
    EXPECT_TRUE(vn_locked_exclusive(*held));  // handed on: still locked
    VnLock adopted = VnLock::adopt(*held);
    adopted.unlock();
    EXPECT_FALSE(vn_locked(*r));
  });
}

// Shows: VnLockedRef unlocks before it drops the reference (vput): its
// scope can end with the last reference to a vnode it locked, which a
// plain vrele of a locked vnode would refuse (a panic).
TEST(VnLockedRef, UnlocksThenDrops) {
  World w;
  run_in_lwp(w, [&] {
    Vnode* vp = nullptr;
    {
      VnLockedRef l(get(w, 5), LK_EX);
      vp = l.get();
      EXPECT_TRUE(l.locked());
      EXPECT_TRUE(vn_locked_exclusive(*vp));
      EXPECT_EQ(vp->usecount, 1u);
    }
    EXPECT_EQ(vp->usecount, 0u);
    EXPECT_FALSE(vn_locked(*vp));
    EXPECT_EQ(w.counters.inactives, 1);
    VnLockedRef early(get(w, 6), LK_SH);
    early.reset();
    EXPECT_FALSE(early);
    EXPECT_EQ(w.counters.inactives, 2);
  });
}

// Shows: the destruction order of locals is the release order: a lock
// declared after its reference goes first, so the last reference is dropped
// with the vnode unlocked; declared the other way round, the vrele of the
// last reference meets the held lock and the run ends as a panic.
TEST(VnLock, DeclaredBeforeItsReferencePanics) {
  World w;
  w.machine.spawn("t", [&] {
    auto got = w.vcache.get(w.mount, 5);
    ASSERT_TRUE(got.ok());
    VnLock lock;  // destroyed last: too late
    VRef ref = VRef::adopt(**got);
    lock = VnLock(*ref, LK_EX);
  });
  auto r = w.machine.run();
  EXPECT_EQ(r.outcome, sim::Outcome::panic);
  EXPECT_NE(r.message.find("vrele of the last reference to a vnode the caller holds locked"),
            std::string::npos)
      << r.message;
}

}  // namespace
}  // namespace vfsim::vn
