// memfs node bookkeeping: allocation against the inode limit, page
// accounting against the size limit, directory entries and nlink.
#include "fsdrivers/memfs/memfs_node.h"

namespace vfsim::memfs {

std::uint64_t MemNode::size() const {
  switch (type) {
    case vn::VType::VREG: return data ? data->size() : 0;
    case vn::VType::VLNK: return target.size();
    // Like tmpfs: a directory's size grows with its entries.
    case vn::VType::VDIR: return 32 * (entries.size() + 2);
    default: return 0;
  }
}

MemNode* MemfsMount::find(std::uint64_t ino) const {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : it->second.get();
}

MemNode& MemfsMount::node_of(const vn::Vnode& vp) const {
  VFSIM_KASSERT(machine_, vp.data != nullptr, "memfs vnode without node: " + vp.describe());
  return *static_cast<MemNode*>(vp.data);
}

vn::Result<MemNode*> MemfsMount::alloc_node(vn::VType type, const vn::Vattr& va) {
  if (options_.inodes_max != 0 && nodes_.size() >= options_.inodes_max) {
    return vn::Status(ENOSPC);
  }
  auto n = std::make_unique<MemNode>();
  n->ino = next_ino_++;
  n->gen = n->ino;
  n->type = type;
  n->mode = va.mode & vn::kModeMask;
  n->uid = va.uid;
  n->gid = va.gid;
  n->rdev = va.rdev;
  n->atime = n->mtime = n->ctime = n->birthtime = now();
  if (type == vn::VType::VREG) {
    if (options_.pager != nullptr) {
      n->data = std::make_unique<PagerData>(*options_.pager, "memfs ino " + std::to_string(n->ino),
                                            backing_.get());
    } else {
      n->data = std::make_unique<PageStore>();
    }
  }
  MemNode* raw = n.get();
  nodes_.emplace(raw->ino, std::move(n));
  return raw;
}

void MemfsMount::free_node(MemNode& n) {
  VFSIM_KASSERT(machine_, n.nlink == 0 && !n.has_vnode, "freeing a live memfs node");
  if (n.type == vn::VType::VREG) pages_used_ -= pages_for(n.size());
  nodes_.erase(n.ino);
}

vn::Status MemfsMount::resize(MemNode& n, std::uint64_t new_size) {
  const std::uint64_t old_pages = pages_for(n.size());
  const std::uint64_t new_pages = pages_for(new_size);
  if (new_pages > old_pages && options_.size_max_bytes != 0 &&
      (pages_used_ + new_pages - old_pages) * kPageBytes > options_.size_max_bytes) {
    return vn::Status(ENOSPC);
  }
  VN_TRY(n.data->truncate(new_size));
  pages_used_ = pages_used_ + new_pages - old_pages;
  return vn::kOk;
}

vn::Status MemfsMount::charge_write(MemNode& n, std::uint64_t offset, std::size_t len) {
  const std::uint64_t end = offset + len;
  if (end <= n.size()) return vn::kOk;
  return resize(n, end);  // grows the file; the write then fills it
}

void MemfsMount::dir_add(MemNode& dir, std::string_view name, MemNode& child) {
  VFSIM_KASSERT(machine_, dir.type == vn::VType::VDIR, "dir_add to a non-directory");
  const bool fresh = dir.entries.emplace(std::string(name), child.ino).second;
  VFSIM_KASSERT(machine_, fresh, "dir_add of an existing name " + std::string(name));
  ++child.nlink;
  if (child.type == vn::VType::VDIR) {
    child.parent = dir.ino;
    ++child.nlink;  // its own "."
    ++dir.nlink;    // the child's ".."
  }
  dir.mtime = dir.ctime = now();
}

void MemfsMount::dir_remove(MemNode& dir, std::string_view name) {
  auto it = dir.entries.find(name);
  VFSIM_KASSERT(machine_, it != dir.entries.end(), "dir_remove of a missing name");
  MemNode& child = *nodes_.at(it->second);
  dir.entries.erase(it);
  VFSIM_KASSERT(machine_, child.nlink > 0, "nlink underflow");
  --child.nlink;
  if (child.type == vn::VType::VDIR) {
    VFSIM_KASSERT(machine_, child.nlink == 1, "removing a directory that has subdirectories");
    child.nlink = 0;  // its "." goes with its only name
    --dir.nlink;      // and so does its ".."
  }
  child.ctime = now();
  dir.mtime = dir.ctime = now();
}

}  // namespace vfsim::memfs
