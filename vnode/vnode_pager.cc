#include "vnode/vnode_pager.h"

#include "vnode/vnode_if.h"

namespace vfsim::vn {

namespace {

Vnode& vnode_of(pager::PageObject& obj) { return *static_cast<Vnode*>(obj.cookie()); }

bool in_pagedaemon(const Vnode& vp) {
  sim::Machine& m = vp.machine();
  return m.in_lwp() && (m.current().tags & pager::kTagPagedaemon) != 0;
}

// Runs `io` with the vnode locked exclusively, taking the lock if the caller
// does not hold it; EAGAIN when the pagedaemon finds it locked.
template <class Io>
Status with_vnode_locked(Vnode& vp, Io io) {
  if (vn_locked_exclusive(vp)) return io();
  if (in_pagedaemon(vp)) {
    // Never wait for a vnode lock in the pagedaemon (see vnode_pager.h).
    if (!vp.lock.try_lock_exclusive()) return Status(EAGAIN);
  } else {
    vn_lock(vp, true);
  }
  const Status s = io();
  vn_unlock(vp);
  return s;
}

}  // namespace

Status VnodePager::getpages(pager::PageObject& obj, std::uint64_t offset,
                            std::span<std::byte> dst) {
  Vnode& vp = vnode_of(obj);
  return with_vnode_locked(vp, [&] { return vop_getpages(vp, offset, dst); });
}

Status VnodePager::putpages(pager::PageObject& obj, std::uint64_t offset,
                            std::span<const std::byte> src) {
  Vnode& vp = vnode_of(obj);
  return with_vnode_locked(vp, [&] { return vop_putpages(vp, offset, src); });
}

pager::PageObject& vnode_object(pager::Pager& pager, VnodePager& pager_ops, Vnode& vp) {
  return pager.create_object("vnode " + vp.describe(), pager_ops, &vp);
}

}  // namespace vfsim::vn
