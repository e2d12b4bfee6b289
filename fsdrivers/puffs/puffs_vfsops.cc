// vfsops of the puffs kernel stub: loading a vnode for a cookie, statvfs,
// sync and unmount.
#include <algorithm>
#include <cerrno>

#include "fsdrivers/puffs/puffs_kernel.h"
#include "vnode/vnode_pager.h"

namespace vfsim::puffs {

void PuffsMount::note_newinfo(std::uint64_t cookie, vn::VType type, const vn::Vattr& va) {
  newinfo_[cookie] = {type, va};
}

PuffsVnode& PuffsMount::node_of(vn::Vnode& vp) {
  VFSIM_KASSERT(machine_, vp.data != nullptr, "puffs vnode without node: " + vp.describe());
  return *static_cast<PuffsVnode*>(vp.data);
}

std::shared_ptr<PuffsVnode> PuffsMount::node_ref(vn::Vnode& vp) {
  auto it = vnodes_.find(node_of(vp).cookie);
  VFSIM_KASSERT(machine_, it != vnodes_.end() && it->second.get() == vp.data,
                "puffs vnode not in the node map: " + vp.describe());
  return it->second;
}

void PuffsMount::drop_node(vn::Vnode& vp) {
  if (vp.data == nullptr) return;
  if (PuffsVnode& n = node_of(vp); n.obj != nullptr) {
    options_.pager->destroy_object(*n.obj);
    n.obj = nullptr;
  }
  vnodes_.erase(static_cast<PuffsVnode*>(vp.data)->cookie);
  vp.data = nullptr;
}

// The type of a cookie comes from the LOOKUP/CREATE reply that named it; the
// root's (and any other unknown one's) from a GETATTR.
vn::Status PuffsMount::loadvnode(vn::Vnode& vp, std::uint64_t key) {
  if (dead_) return vn::Status(ENXIO);
  vn::Vattr va;
  auto it = newinfo_.find(key);
  if (it != newinfo_.end()) {
    va = it->second.second;
    va.type = it->second.first;
    newinfo_.erase(it);
  } else {
    Request rq = make_request<PuffsOp::getattr>(key, {});
    Reply rp;
    VN_TRY(call(rq, &rp));
    va = rp.va;
  }
  if (va.type == vn::VType::VNON) {
    machine_.event("puffs_bad_reply",
                   options_.name + ": cookie " + std::to_string(key) + " has no type");
    return vn::Status(EPROTO);
  }
  auto n = std::make_shared<PuffsVnode>(machine_, key);
  n->attr = va;
  n->attr_valid = true;
  vp.type = va.type;
  vp.op = &puffs_vnode_ops();
  vp.data = n.get();
  if (options_.pager != nullptr && va.type == vn::VType::VREG) {
    n->obj = &vn::vnode_object(*options_.pager, vp, "puffs cookie " + std::to_string(key));
  }
  vnodes_[key] = std::move(n);
  return vn::kOk;
}

vn::Status PuffsMount::statvfs(vn::StatVfs* out) {
  Request rq = make_request<PuffsOp::statvfs>(options_.root_cookie, {});
  Reply rp;
  VN_TRY(call(rq, &rp));
  *out = rp.st;
  out->fstypename = "puffs";
  return vn::kOk;
}

vn::Status PuffsMount::sync() {
  if (dead_) return vn::kOk;
  Request rq = make_request<PuffsOp::sync>(options_.root_cookie, {});
  Reply rp;
  vn::Status s = call(rq, &rp);
  return s.err() == EOPNOTSUPP ? vn::kOk : s;
}

// Every vnode is reclaimed by now. Tell the server, then close the socket:
// its workers see end-of-file and exit; the reader sees EBADF and exits.
vn::Status PuffsMount::unmount(bool force) {
  if (options_.on_unmount) options_.on_unmount();  // no cache operation reaches us from now on
  if (!dead_) {
    Request rq = make_request<PuffsOp::unmount>(options_.root_cookie, {});
    Reply rp;
    (void)call(rq, &rp);  // the server's answer changes nothing now
  }
  unmounting_ = true;
  sock_.close();
  // The reader uses this object: wait until it saw the closed socket and
  // exited, since the VFS frees the file system right after this returns.
  if (reader_ != sim::kNoLwp && machine_.in_lwp() && machine_.current_id() != reader_) {
    machine_.join(reader_);
  }
  machine_.event("puffs_unmount", options_.name + (force ? " (forced)" : ""));
  return vn::kOk;
}

}  // namespace vfsim::puffs
