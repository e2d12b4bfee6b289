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

MemNode* MemfsMount::find(std::uint64_t ino) {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : &it->second;
}

void MemfsMount::panic_no_node(const vn::Vnode& vp) const {
  VFSIM_KASSERT(machine_, vp.data != nullptr, "memfs vnode without node: " + vp.describe());
}

vn::Result<MemNode*> MemfsMount::alloc_node(vn::VType type, const vn::Vattr& va) {
  if (options_.inodes_max != 0 && nodes_.size() >= options_.inodes_max) {
    return vn::Status(ENOSPC);
  }
  // Inos only grow, so the new node goes at the end of the table; its map
  // node is a spare one if free_node kept any (a blank MemNode, perhaps
  // with an empty PageStore).
  const std::uint64_t ino = next_ino_++;
  NodeTable::iterator it;
  if (NodeTable::node_type spare = node_pool_.take(); !spare.empty()) {
    spare.key() = ino;
    it = nodes_.insert(nodes_.end(), std::move(spare));
  } else {
    it = nodes_.emplace_hint(nodes_.end(), std::piecewise_construct, std::forward_as_tuple(ino),
                             std::forward_as_tuple());
  }
  MemNode* n = &it->second;
  n->ino = ino;
  n->gen = ino;
  n->type = type;
  n->mode = va.mode & vn::kModeMask;
  n->uid = va.uid;
  n->gid = va.gid;
  n->rdev = va.rdev;
  n->atime = n->mtime = n->ctime = n->birthtime = now();
  if (type == vn::VType::VREG) {
    if (options_.pager != nullptr) {
      n->data = std::make_unique<PagerData>(*options_.pager, "memfs ino " + std::to_string(n->ino),
                                            backing_.get(), n->ino);
    } else if (n->data == nullptr) {
      n->data = std::make_unique<PageStore>(&page_pool_);
    }
  } else {
    n->data.reset();  // the spare's PageStore, if any
  }
  return n;
}

void MemfsMount::free_node(MemNode& n) {
  VFSIM_KASSERT(machine_, n.nlink == 0 && !n.has_vnode, "freeing a live memfs node");
  if (n.type == vn::VType::VREG) pages_used_ -= pages_for(n.size());
  NodeTable::node_type gone = nodes_.extract(n.ino);
  MemNode& spare = gone.mapped();
  // Out of the table first and then blanked, as erase would. A PagerData
  // goes now (it gives its page-cache object back); a PageStore, which has
  // no state outside itself, is emptied (its pages go to the pool) and
  // stays with the spare node for its next life as a file.
  std::unique_ptr<FileData> store;
  if (options_.pager == nullptr && spare.data != nullptr) {
    (void)spare.data->truncate(0);  // a PageStore's truncate cannot fail
    store = std::move(spare.data);
  }
  spare = MemNode();
  spare.data = std::move(store);
  node_pool_.give(std::move(gone));
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
  const bool fresh = insert_entry(dir, name, child.ino);
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
  MemNode& child = nodes_.at(it->second);
  erase_entry(dir, it);
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

bool MemfsMount::insert_entry(MemNode& dir, std::string_view name, std::uint64_t ino) {
  auto pos = dir.entries.lower_bound(name);
  if (pos != dir.entries.end() && pos->first == name) return false;
  if (DirEntries::node_type spare = entry_pool_.take(); !spare.empty()) {
    spare.key().assign(name);
    spare.mapped() = ino;
    dir.entries.insert(pos, std::move(spare));
  } else {
    dir.entries.emplace_hint(pos, name, ino);
  }
  return true;
}

void MemfsMount::erase_entry(MemNode& dir, DirEntries::iterator it) {
  entry_pool_.give(dir.entries.extract(it));
}

}  // namespace vfsim::memfs
