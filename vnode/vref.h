// Owned vnode references and held vnode locks (RAII), over the vcache's
// vref/vrele and vn_lock/vn_unlock. They add no lock-order check and no trace
// event of their own: each takes and drops exactly what the plain calls
// would, at the points the code makes them.
//
//   VRef     one use reference. Move-only: a second reference is taken
//            explicitly (VRef::ref, i.e. vref), never by copying. Dropped
//            (vrele, through the vcache that made the vnode) when it goes
//            out of scope or is assigned over, or early with reset(); handed
//            on without a vrele by release(). One pointer, like the raw
//            Vnode* it replaces.
//   VnLock   one held vnode lock, shared (LK_SH) or exclusive (LK_EX).
//            Move-only; unlocked (vn_unlock) when it goes out of scope, or
//            early with unlock(); handed on still held by release().
//   VnLockedRef  a reference and a lock on the same vnode: going out of
//            scope unlocks and then drops the reference (NetBSD's vput).
//
// Order. vrele and vn_unlock are scheduling points (the last vrele runs
// VOP_INACTIVE, which may sleep), so the order they run in is part of a
// run's trace. Locals are destroyed in the reverse order of their
// declaration; where the order matters the code says so with an explicit
// reset()/unlock() rather than leaving it to the end of the scope. A lock
// must be gone before the last reference goes (vrele asserts it): declare
// the VnLock after the VRef it locks, or use VnLockedRef.
//
// Unwinding. When a run ends (a panic, a failure) or a fault domain dies,
// every lwp is unwound by an exception. These destructors then do nothing:
// what the unwound lwp held stays held, as it did when namei released its
// references by hand (and the lock code itself tolerates it, sim/sync.cc).
// Releasing would add trace events to an unwinding run. The destructors may
// throw (a vrele that sleeps in VOP_INACTIVE when the run is killed), so they
// are noexcept(false); the explicit reset()/unlock() may throw likewise.
#pragma once

#include <cstddef>
#include <exception>
#include <utility>

#include "vnode/vcache.h"
#include "vnode/vnode.h"

namespace vfsim::vn {

// How a vnode is locked (NetBSD's LK_SHARED / LK_EXCLUSIVE).
enum class LockMode : bool { shared = false, exclusive = true };
inline constexpr LockMode LK_SH = LockMode::shared;
inline constexpr LockMode LK_EX = LockMode::exclusive;

namespace detail {
// True while this destructor runs because the calling lwp is being unwound
// (the run is ending, or its fault domain died): the hand-written releases
// it replaces would not have run. std::uncaught_exceptions() alone is not
// enough: it counts per OS thread, and every lwp is a fiber of one thread,
// so an lwp switched to while another is mid-unwind would see it too; the
// machine's killing() is per lwp.
inline bool unwinding(const Vnode& vp) {
  return std::uncaught_exceptions() > 0 && vp.vcache().machine().killing();
}
}  // namespace detail

class [[nodiscard]] VRef {
 public:
  VRef() = default;
  // Takes over a use reference the caller holds (from Vcache::get, a VOP
  // that returns *vpp referenced, a struct that owned it).
  static VRef adopt(Vnode& vp) noexcept { return VRef(&vp); }
  // The same for an out-parameter that may be null (then: empty).
  static VRef adopt(Vnode* vp) noexcept { return VRef(vp); }
  // A new use reference on a vnode the caller already holds one on (vref).
  static VRef ref(Vnode& vp) {
    vp.vcache().vref(vp);
    return VRef(&vp);
  }

  VRef(const VRef&) = delete;
  VRef& operator=(const VRef&) = delete;
  VRef(VRef&& o) noexcept : vp_(std::exchange(o.vp_, nullptr)) {}
  // Drops the reference held before (after taking over `o`'s).
  VRef& operator=(VRef&& o) noexcept(false) {
    if (this != &o) {
      Vnode* old = std::exchange(vp_, std::exchange(o.vp_, nullptr));
      if (old != nullptr) old->vcache().vrele(*old);
    }
    return *this;
  }
  ~VRef() noexcept(false) {
    if (vp_ != nullptr && !detail::unwinding(*vp_)) vp_->vcache().vrele(*vp_);
  }

  // Drops the reference now (vrele); empty afterwards.
  void reset() {
    if (Vnode* vp = std::exchange(vp_, nullptr)) vp->vcache().vrele(*vp);
  }
  // Hands the reference on: the caller owns it now; empty afterwards.
  [[nodiscard]] Vnode* release() noexcept { return std::exchange(vp_, nullptr); }

  Vnode* get() const { return vp_; }
  Vnode& operator*() const { return *vp_; }
  Vnode* operator->() const { return vp_; }
  explicit operator bool() const { return vp_ != nullptr; }
  friend bool operator==(const VRef& r, std::nullptr_t) { return r.vp_ == nullptr; }
  friend bool operator==(const VRef& r, const Vnode* vp) { return r.vp_ == vp; }

 private:
  explicit VRef(Vnode* vp) noexcept : vp_(vp) {}
  Vnode* vp_ = nullptr;
};

class [[nodiscard]] VnLock {
 public:
  VnLock() = default;
  // vn_lock: the vnode must be referenced (vn_lock asserts it).
  VnLock(Vnode& vp, LockMode mode) : vp_(&vp) { vn_lock(vp, mode == LockMode::exclusive); }
  // Takes over a lock the caller holds (vn_lock'ed by hand, handed on).
  static VnLock adopt(Vnode& vp) noexcept { return VnLock(&vp); }

  VnLock(const VnLock&) = delete;
  VnLock& operator=(const VnLock&) = delete;
  VnLock(VnLock&& o) noexcept : vp_(std::exchange(o.vp_, nullptr)) {}
  VnLock& operator=(VnLock&& o) noexcept(false) {
    if (this != &o) {
      Vnode* old = std::exchange(vp_, std::exchange(o.vp_, nullptr));
      if (old != nullptr) vn_unlock(*old);
    }
    return *this;
  }
  ~VnLock() noexcept(false) {
    if (vp_ != nullptr && !detail::unwinding(*vp_)) vn_unlock(*vp_);
  }

  // vn_unlock now; empty afterwards.
  void unlock() {
    if (Vnode* vp = std::exchange(vp_, nullptr)) vn_unlock(*vp);
  }
  // Hands the lock on: the vnode stays locked and the caller unlocks it.
  [[nodiscard]] Vnode* release() noexcept { return std::exchange(vp_, nullptr); }

  bool owns_lock() const { return vp_ != nullptr; }
  explicit operator bool() const { return vp_ != nullptr; }
  Vnode* vnode() const { return vp_; }

 private:
  explicit VnLock(Vnode* vp) noexcept : vp_(vp) {}
  Vnode* vp_ = nullptr;
};

// A referenced, locked vnode: unlocks, then drops the reference (vput).
// Members are destroyed in reverse order: lock_ before ref_.
class [[nodiscard]] VnLockedRef {
 public:
  VnLockedRef() = default;
  // Locks the vnode `ref` holds; takes over the reference.
  VnLockedRef(VRef ref, LockMode mode) : ref_(std::move(ref)), lock_(*ref_, mode) {}
  VnLockedRef(VnLockedRef&&) noexcept = default;
  // Not assignable: the default would drop the old reference before its lock.
  VnLockedRef& operator=(VnLockedRef&&) = delete;

  // vput now: vn_unlock, then vrele; empty afterwards.
  void reset() {
    lock_.unlock();
    ref_.reset();
  }
  // Only the lock: vn_unlock now, the reference stays.
  void unlock() { lock_.unlock(); }

  Vnode* get() const { return ref_.get(); }
  Vnode& operator*() const { return *ref_; }
  Vnode* operator->() const { return ref_.get(); }
  explicit operator bool() const { return static_cast<bool>(ref_); }
  bool locked() const { return lock_.owns_lock(); }
  VRef& ref() { return ref_; }

 private:
  VRef ref_;
  VnLock lock_;
};

}  // namespace vfsim::vn
