// memfs vfsops: creating the file system with its root, loading vnodes,
// statvfs and unmount.
#include "fsdrivers/memfs/memfs_node.h"

namespace vfsim::memfs {

MemfsMount::MemfsMount(sim::Machine& m, const MemfsOptions& o)
    : machine_(m), options_(o), ops_(*this) {
  if (o.pager != nullptr && o.backing_blocks != 0) {
    backing_ = std::make_unique<BackingBlocks>(o.backing_blocks);
  }
  vn::Vattr va;
  va.mode = o.root_mode;
  va.uid = o.root_uid;
  va.gid = o.root_gid;
  auto root = alloc_node(vn::VType::VDIR, va);
  VFSIM_KASSERT(machine_, root.ok() && (*root)->ino == kRootIno, "memfs root");
  (*root)->parent = kRootIno;
  (*root)->nlink = 2;
}

vn::Status MemfsMount::loadvnode(vn::Vnode& vp, std::uint64_t key) {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return vn::Status(ENOENT);
  MemNode& n = it->second;
  VFSIM_KASSERT(machine_, !n.has_vnode, "memfs node already has a vnode");
  n.has_vnode = true;
  vp.type = n.type;
  vp.op = &ops_;
  vp.data = &n;
  if (n.data != nullptr) n.data->vnode_loaded(vp);
  return vn::kOk;
}

vn::Status MemfsMount::statvfs(vn::StatVfs* out) {
  // Unlimited file systems report 1 GiB / 65536 inodes free beyond what is
  // used, so df-style arithmetic stays meaningful.
  const std::uint64_t blocks =
      options_.size_max_bytes != 0 ? options_.size_max_bytes / kPageBytes : pages_used_ + 262144;
  const std::uint64_t files =
      options_.inodes_max != 0 ? options_.inodes_max : nodes_.size() + 65536;
  out->bsize = out->frsize = kPageBytes;
  out->blocks = blocks;
  out->bfree = out->bavail = blocks > pages_used_ ? blocks - pages_used_ : 0;
  out->files = files;
  out->ffree = out->favail = files > nodes_.size() ? files - nodes_.size() : 0;
  out->fsid = mount().id();
  out->namemax = vn::kNameMax;
  out->fstypename = "memfs";
  return vn::kOk;
}

vn::Status MemfsMount::unmount(bool force) {
  // Every vnode is reclaimed now; the nodes go with this object, but their
  // page-cache objects must go now, inside an lwp, while the pager runs.
  for (auto& [ino, n] : nodes_) n.data.reset();
  return vn::kOk;
}

std::unique_ptr<vn::FileSystem> make_memfs(sim::Machine& m, const MemfsOptions& options) {
  return std::make_unique<MemfsMount>(m, options);
}

}  // namespace vfsim::memfs
