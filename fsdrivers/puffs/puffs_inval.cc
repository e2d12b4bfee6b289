// The server's cache operations on the kernel stub (KernelCaches in
// puffs_server.h): what a server that changed a node behind the kernel's
// back asks the kernel to drop. Each runs in the calling server lwp, as
// NetBSD runs a PUFFSOP_FLUSH in the context of the writer of /dev/puffs
// and Linux a FUSE notification in the writing daemon's thread: a server
// that asks from inside a request the kernel is waiting for, on a node the
// waiting lwp holds locked, waits for that lock for ever — the deadlock
// oracle names the cycle.
//
// Only vnodes the cache has are touched (Vcache::find): a node the kernel
// has no vnode for has nothing cached, and the answer is ENOENT, as Linux's
// ilookup miss.
#include <cerrno>

#include "fsdrivers/puffs/puffs_kernel.h"
#include "vnode/vcache.h"

namespace vfsim::puffs {

namespace {

// The referenced vnode of `cookie` if the cache has it.
vn::Vnode* cached_vnode(PuffsMount& mp, std::uint64_t cookie) {
  if (!mp.bound() || mp.dead()) return nullptr;
  auto vp = mp.vcache().find(mp.mount(), cookie);
  if (!vp.ok()) return nullptr;
  if ((*vp)->data == nullptr) {  // revoked meanwhile
    mp.vcache().vrele(**vp);
    return nullptr;
  }
  return *vp;
}

// Drops a node's cached attributes under its size lock (the lock that
// guards them when puffs.size_lock is on).
void forget_attr(PuffsMount& mp, PuffsVnode& n) {
  if (mp.options().size_lock) {
    sim::MutexGuard g(n.size_lock);
    n.attr_valid = false;
    return;
  }
  n.attr_valid = false;
}

}  // namespace

sim::Status PuffsMount::inval_entry(std::uint64_t dir, std::string_view name,
                                    std::optional<std::uint64_t> child) {
  vn::Vnode* dvp = cached_vnode(*this, dir);
  if (dvp == nullptr) return sim::Status(ENOENT);
  if (machine_.trace().keeping()) {
    machine_.note("puffs_inval_entry", options_.name + ": cookie " + std::to_string(dir) + " '" +
                                           std::string(name) + "'");
  }
  // The directory's lock, exclusively, as Linux's fuse_reverse_inval_entry
  // takes the parent's inode lock; then the child's (directory before
  // file: the kernel's lock order, vnode.h).
  vn::vn_lock(*dvp, true);
  sim::Status err = sim::kOk;
  if (dvp->type != vn::VType::VDIR) {
    err = sim::Status(ENOTDIR);
  } else if (dvp->data != nullptr) {
    forget_attr(*this, node_of(*dvp));
    if (child) {
      if (vn::Vnode* vp = *child == dir ? nullptr : cached_vnode(*this, *child)) {
        vn::vn_lock(*vp, true);
        if (vp->data != nullptr) forget_attr(*this, node_of(*vp));
        vn::vn_unlock(*vp);
        vcache().vrele(*vp);
      }
    }
  }
  vn::vn_unlock(*dvp);
  vcache().vrele(*dvp);
  return err;
}

sim::Status PuffsMount::inval_node(std::uint64_t cookie, std::int64_t offset, std::int64_t len) {
  vn::Vnode* vp = cached_vnode(*this, cookie);
  if (vp == nullptr) return sim::Status(ENOENT);
  PuffsVnode& n = node_of(*vp);
  forget_attr(*this, n);
  sim::Status err = sim::kOk;
  if (offset >= 0 && n.obj != nullptr) {
    const auto from = static_cast<std::uint64_t>(offset);
    const std::uint64_t count = len <= 0 ? UINT64_MAX - from : static_cast<std::uint64_t>(len);
    err = options_.pager->invalidate(*n.obj, from, count);
  }
  vcache().vrele(*vp);
  return err;
}

sim::Status PuffsMount::store(std::uint64_t cookie, std::uint64_t offset, std::string_view data) {
  vn::Vnode* vp = cached_vnode(*this, cookie);
  if (vp == nullptr) return sim::Status(ENOENT);
  PuffsVnode& n = node_of(*vp);
  {
    sim::Mutex* lock = options_.size_lock ? &n.size_lock : nullptr;
    if (lock != nullptr) lock->lock();
    if (n.attr_valid && offset + data.size() > n.attr.size) n.attr.size = offset + data.size();
    if (lock != nullptr) lock->unlock();
  }
  sim::Status err = sim::kOk;
  if (n.obj != nullptr) err = options_.pager->invalidate(*n.obj, offset, data.size());
  vcache().vrele(*vp);
  return err;
}

sim::Status PuffsMount::retrieve(std::uint64_t cookie, std::uint64_t offset, std::uint32_t size,
                                 std::string* out) {
  out->clear();
  vn::Vnode* vp = cached_vnode(*this, cookie);
  if (vp == nullptr) return sim::Status(ENOENT);
  PuffsVnode& n = node_of(*vp);
  if (n.obj != nullptr && n.attr_valid && offset < n.attr.size) {
    const auto most = static_cast<std::size_t>(std::min<std::uint64_t>(size, n.attr.size - offset));
    *out = options_.pager->peek(*n.obj, offset, most);
  }
  vcache().vrele(*vp);
  return sim::kOk;
}

}  // namespace vfsim::puffs
