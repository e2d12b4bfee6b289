#include "vnode/vnode_pager.h"

#include "vnode/vnode_if.h"

namespace vfsim::vn {

namespace {

// Stateless: every call reaches its vnode through the object's cookie.
VnodePager& the_vnode_pager() {
  static VnodePager ops;
  return ops;
}

// The pager calls a VnodePager only for objects made by vnode_object().
Vnode& vnode_of(pager::PageObject& obj) { return *static_cast<Vnode*>(obj.cookie()); }

}  // namespace

Status VnodePager::getpages(pager::PageObject& obj, std::uint64_t offset,
                            std::span<std::byte> dst) {
  Vnode& vp = vnode_of(obj);
  VFSIM_KASSERT(vp.machine(), vn_locked(vp), "page-in without the vnode lock: " + vp.describe());
  return vop_getpages(vp, offset, dst);
}

Status VnodePager::putpages(pager::PageObject& obj, std::uint64_t offset,
                            std::span<const std::byte> src) {
  // No vnode lock, in any context: see vnode_pager.h.
  return vop_putpages(vnode_of(obj), offset, src);
}

pager::PageObject& vnode_object(pager::Pager& pager, Vnode& vp, std::string name) {
  VFSIM_KASSERT(vp.machine(), vp.type == VType::VREG,
                "page-cache object for a non-regular vnode: " + vp.describe());
  return pager.create_object(std::move(name), the_vnode_pager(), &vp);
}

Vnode* object_vnode(const pager::PageObject& obj) {
  if (obj.ops() != &the_vnode_pager()) return nullptr;
  return static_cast<Vnode*>(obj.cookie());
}

}  // namespace vfsim::vn
