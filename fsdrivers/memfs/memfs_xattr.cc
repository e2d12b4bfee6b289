// memfs extended attributes and page I/O. Names arrive as stored by the VFS
// (the Linux prefix kept, vfs/xattr.cc); memfs keys them by (namespace, name).
#include <algorithm>
#include <cstring>

#include "fsdrivers/memfs/memfs_node.h"

namespace vfsim::memfs {

using vn::kOk;
using vn::Status;
using vn::Vnode;
using vn::XattrNs;

Status MemfsOps::getextattr(Vnode& vp, XattrNs ns, std::string_view name, std::string* value) {
  MemNode& n = fs_.node_of(vp);
  auto it = n.xattrs.find(std::pair(ns, std::string(name)));
  if (it == n.xattrs.end()) return Status(ENODATA);
  *value = it->second;
  return kOk;
}

Status MemfsOps::setextattr(Vnode& vp, XattrNs ns, std::string_view name, std::string_view value,
                            int flags) {
  MemNode& n = fs_.node_of(vp);
  auto key = std::pair(ns, std::string(name));
  const bool exists = n.xattrs.contains(key);
  if ((flags & vn::kXattrCreate) != 0 && exists) return Status(EEXIST);
  if ((flags & vn::kXattrReplace) != 0 && !exists) return Status(ENODATA);
  n.xattrs[key] = std::string(value);
  n.ctime = fs_.now();
  return kOk;
}

Status MemfsOps::listextattr(Vnode& vp, XattrNs ns, std::vector<std::string>* names) {
  const MemNode& n = fs_.node_of(vp);
  for (const auto& [key, value] : n.xattrs) {
    if (key.first == ns) names->push_back(key.second);
  }
  return kOk;
}

Status MemfsOps::deleteextattr(Vnode& vp, XattrNs ns, std::string_view name) {
  MemNode& n = fs_.node_of(vp);
  if (n.xattrs.erase(std::pair(ns, std::string(name))) == 0) return Status(ENODATA);
  n.ctime = fs_.now();
  return kOk;
}

// The vnode pager's VOPs. On a block-backed mount they move pages between
// the vnode's page-cache object and the block store (no vnode lock taken:
// vnode_pager.h). Elsewhere (no page cache, or tmpfs-like anonymous pages
// that never come here) they read and write the file's bytes directly.
Status MemfsOps::getpages(Vnode& vp, std::uint64_t offset, std::span<std::byte> dst) {
  MemNode& n = fs_.node_of(vp);
  if (n.type != vn::VType::VREG) return Status(EINVAL);
  if (BackingBlocks* b = fs_.backing_store(); b != nullptr) {
    b->read(n.ino, offset, dst);
    return kOk;
  }
  std::string bytes;
  VN_TRY(n.data->read(offset, dst.size(), &bytes));
  std::memcpy(dst.data(), bytes.data(), bytes.size());
  std::fill(dst.begin() + static_cast<std::ptrdiff_t>(bytes.size()), dst.end(), std::byte{0});
  return kOk;
}

Status MemfsOps::putpages(Vnode& vp, std::uint64_t offset, std::span<const std::byte> src) {
  MemNode& n = fs_.node_of(vp);
  if (n.type != vn::VType::VREG) return Status(EINVAL);
  // A block is allocated here, at page-out: ENOSPC when the store is full
  // (the msdosfs model, pager_data.h).
  if (BackingBlocks* b = fs_.backing_store(); b != nullptr) return b->write(n.ino, offset, src);
  if (offset >= n.size()) return kOk;  // nothing past end of file is written back
  const std::size_t len = std::min<std::uint64_t>(src.size(), n.size() - offset);
  return n.data->write(offset, std::string_view(reinterpret_cast<const char*>(src.data()), len));
}

}  // namespace vfsim::memfs
