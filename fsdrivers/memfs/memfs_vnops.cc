// memfs vnode ops. The VFS has checked permissions, name lengths and the
// POSIX rules that need no file-system data (vnode.h); these check what only
// the nodes know (ENOTEMPTY, EMLINK, ENOSPC) and keep nlink and times right.
#include <algorithm>
#include <cstring>

#include "fsdrivers/memfs/memfs_node.h"

namespace vfsim::memfs {

using vn::ComponentName;
using vn::kOk;
using vn::Status;
using vn::Vnode;
using vn::VType;

Status MemfsOps::lookup(Vnode& dvp, const ComponentName& cn, Vnode** vpp) {
  MemNode& d = fs_.node_of(dvp);
  if (d.type != VType::VDIR) return Status(ENOTDIR);
  if (d.nlink == 0) return Status(ENOENT);  // a removed directory is empty
  std::uint64_t ino;
  if (cn.name == ".") {
    ino = d.ino;
  } else if (cn.name == "..") {
    ino = d.parent;
  } else {
    auto it = d.entries.find(cn.name);
    if (it == d.entries.end()) return Status(ENOENT);
    ino = it->second;
  }
  auto vp = fs_.vcache().get(fs_.mount(), ino);
  if (!vp.ok()) return vp.status();
  *vpp = *vp;
  return kOk;
}

Status MemfsOps::make_node(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va,
                           std::string_view target, Vnode** vpp) {
  MemNode& d = fs_.node_of(dvp);
  if (d.nlink == 0) return Status(ENOENT);
  if (d.entries.contains(cn.name)) return Status(EEXIST);
  if (va.type == VType::VDIR && d.nlink >= vn::kLinkMax) return Status(EMLINK);
  auto n = fs_.alloc_node(va.type, va);
  if (!n.ok()) return n.status();
  if (va.type == VType::VLNK) (*n)->target = std::string(target);
  fs_.dir_add(d, cn.name, **n);
  auto vp = fs_.vcache().get(fs_.mount(), (*n)->ino);
  if (!vp.ok()) return vp.status();
  *vpp = *vp;
  return kOk;
}

Status MemfsOps::create(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) {
  return make_node(dvp, cn, va, {}, vpp);
}

Status MemfsOps::mknod(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) {
  return make_node(dvp, cn, va, {}, vpp);
}

Status MemfsOps::mkdir(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) {
  return make_node(dvp, cn, va, {}, vpp);
}

Status MemfsOps::symlink(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va,
                         std::string_view target, Vnode** vpp) {
  return make_node(dvp, cn, va, target, vpp);
}

Status MemfsOps::open(Vnode&, int, const vn::Cred&) { return kOk; }
// close and fsync return the write-back error the pager kept for the file.
Status MemfsOps::close(Vnode& vp, int, const vn::Cred&) {
  MemNode& n = fs_.node_of(vp);
  return n.data ? n.data->take_error() : kOk;
}

Status MemfsOps::fsync(Vnode& vp) {
  MemNode& n = fs_.node_of(vp);
  return n.data ? n.data->sync() : kOk;
}

Status MemfsOps::access(Vnode& vp, int acc, const vn::Cred& cred) {
  const MemNode& n = fs_.node_of(vp);
  return vn::vaccess(n.type, n.mode, n.uid, n.gid, acc, cred);
}

Status MemfsOps::getattr(Vnode& vp, vn::Vattr* va) {
  const MemNode& n = fs_.node_of(vp);
  va->type = n.type;
  va->mode = n.mode;
  va->nlink = n.nlink;
  va->uid = n.uid;
  va->gid = n.gid;
  va->fsid = fs_.mount().id();
  va->fileid = n.ino;
  va->size = n.size();
  va->bytes = n.data ? n.data->resident_pages() * kPageBytes : 0;
  va->blocksize = kPageBytes;
  va->rdev = n.rdev;
  va->atime = n.atime;
  va->mtime = n.mtime;
  va->ctime = n.ctime;
  va->birthtime = n.birthtime;
  va->gen = n.gen;
  return kOk;
}

Status MemfsOps::setattr(Vnode& vp, const vn::SetAttr& sa, const vn::Cred&) {
  MemNode& n = fs_.node_of(vp);
  const sim::VTime now = fs_.now();
  if (sa.size) {
    if (n.type == VType::VDIR) return Status(EISDIR);
    if (n.type != VType::VREG) return Status(EINVAL);
    if (*sa.size != n.size()) {
      VN_TRY(fs_.resize(n, *sa.size));
    }
    n.mtime = now;  // truncate(2) marks mtime even when the size stays
  }
  if (sa.mode) n.mode = *sa.mode & vn::kModeMask;
  if (sa.uid) n.uid = *sa.uid;
  if (sa.gid) n.gid = *sa.gid;
  if (sa.atime) n.atime = *sa.atime;
  if (sa.mtime) n.mtime = *sa.mtime;
  if (sa.mark_ctime) n.ctime = now;
  return kOk;
}

Status MemfsOps::read(Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out, int) {
  MemNode& n = fs_.node_of(vp);
  if (n.type == VType::VDIR) return Status(EISDIR);
  if (n.type != VType::VREG) return Status(EINVAL);
  VN_TRY(n.data->read(offset, len, out));
  n.atime = fs_.now();
  return kOk;
}

// All or nothing: memory is charged for the whole write before any byte moves.
Status MemfsOps::write(Vnode& vp, std::uint64_t* offset, std::string_view data, int ioflag,
                       std::size_t* written) {
  MemNode& n = fs_.node_of(vp);
  if (n.type == VType::VDIR) return Status(EISDIR);
  if (n.type != VType::VREG) return Status(EINVAL);
  if ((ioflag & vn::kIoAppend) != 0) *offset = n.size();
  if (data.empty()) return kOk;
  const std::uint64_t old_size = n.size();
  VN_TRY(fs_.charge_write(n, *offset, data.size()));
  if (Status s = n.data->write(*offset, data); !s.ok()) {
    // Out of memory (ENOMEM) or of memory + swap (ENOSPC): the size the
    // write would have made is taken back.
    if (n.size() != old_size) (void)fs_.resize(n, old_size);
    return s;
  }
  *offset += data.size();
  *written = data.size();
  n.mode &= ~vn::kill_priv_bits(n.mode, ioflag);
  n.mtime = n.ctime = fs_.now();
  return kOk;
}

Status MemfsOps::remove(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  MemNode& d = fs_.node_of(dvp);
  auto it = d.entries.find(cn.name);
  VFSIM_KASSERT(fs_.machine(), it != d.entries.end() && it->second == vp.key(),
                "remove: name does not lead to the vnode");
  if (vp.type == VType::VDIR) return Status(EPERM);
  fs_.dir_remove(d, cn.name);
  return kOk;
}

Status MemfsOps::link(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  MemNode& d = fs_.node_of(dvp);
  MemNode& n = fs_.node_of(vp);
  VFSIM_KASSERT(fs_.machine(), n.type != VType::VDIR, "link of a directory reached memfs");
  if (d.nlink == 0) return Status(ENOENT);
  if (n.nlink == 0) return Status(ENOENT);  // the file lost its last name meanwhile
  if (n.nlink >= vn::kLinkMax) return Status(EMLINK);
  if (d.entries.contains(cn.name)) return Status(EEXIST);
  fs_.dir_add(d, cn.name, n);
  n.ctime = fs_.now();
  return kOk;
}

Status MemfsOps::rmdir(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  MemNode& d = fs_.node_of(dvp);
  MemNode& n = fs_.node_of(vp);
  if (n.type != VType::VDIR) return Status(ENOTDIR);
  if (!n.entries.empty()) return Status(ENOTEMPTY);
  fs_.dir_remove(d, cn.name);
  return kOk;
}

Status MemfsOps::rename(Vnode& fdvp, Vnode& fvp, const ComponentName& fcn, Vnode& tdvp, Vnode* tvp,
                        const ComponentName& tcn) {
  MemNode& fd = fs_.node_of(fdvp);
  MemNode& f = fs_.node_of(fvp);
  MemNode& td = fs_.node_of(tdvp);
  VFSIM_KASSERT(fs_.machine(), fd.entries.contains(fcn.name), "rename: source vanished");
  if (td.nlink == 0) return Status(ENOENT);
  const bool moves_dir = f.type == VType::VDIR && &fd != &td;
  if (moves_dir && tvp == nullptr && td.nlink >= vn::kLinkMax) return Status(EMLINK);
  if (tvp != nullptr) {
    MemNode& t = fs_.node_of(*tvp);
    if (t.type == VType::VDIR && !t.entries.empty()) return Status(ENOTEMPTY);
    fs_.dir_remove(td, tcn.name);
  }
  // The entry's map node goes straight from the source directory to the
  // target one through the pool: no allocation.
  if (auto it = fd.entries.find(fcn.name); it != fd.entries.end()) fs_.erase_entry(fd, it);
  (void)fs_.insert_entry(td, tcn.name, f.ino);
  if (moves_dir) {
    --fd.nlink;
    ++td.nlink;
    f.parent = td.ino;
  }
  const sim::VTime now = fs_.now();
  fd.mtime = fd.ctime = td.mtime = td.ctime = f.ctime = now;
  return kOk;
}

Status MemfsOps::readdir(Vnode& vp, std::uint64_t cookie, std::size_t max,
                         std::vector<vn::Dirent>* out, bool* eof) {
  MemNode& d = fs_.node_of(vp);
  if (d.type != VType::VDIR) return Status(ENOTDIR);
  // Cookies: 0 ".", 1 "..", 2 + i the i-th entry in name order.
  std::size_t n = 0;
  for (; cookie < 2 && n < max; ++cookie, ++n) {
    const std::uint64_t ino = cookie == 0 ? d.ino : d.parent;
    out->push_back({ino, VType::VDIR, cookie == 0 ? "." : "..", cookie + 1});
  }
  auto it = d.entries.begin();
  if (cookie >= 2) {
    std::advance(it, std::min<std::uint64_t>(cookie - 2, d.entries.size()));
  }
  for (; it != d.entries.end() && n < max; ++it, ++n, ++cookie) {
    const MemNode* child = fs_.find(it->second);
    out->push_back({it->second, child ? child->type : VType::VNON, it->first, cookie + 1});
  }
  *eof = it == d.entries.end();
  d.atime = fs_.now();
  return kOk;
}

Status MemfsOps::readlink(Vnode& vp, std::string* target) {
  MemNode& n = fs_.node_of(vp);
  if (n.type != VType::VLNK) return Status(EINVAL);
  *target = n.target;
  n.atime = fs_.now();
  return kOk;
}

Status MemfsOps::inactive(Vnode& vp, bool* recycle) {
  *recycle = fs_.node_of(vp).nlink == 0;  // no names left: give it back now
  return kOk;
}

Status MemfsOps::reclaim(Vnode& vp) {
  MemNode& n = fs_.node_of(vp);
  if (n.data != nullptr) n.data->vnode_reclaimed(n.nlink != 0);
  n.has_vnode = false;
  vp.data = nullptr;
  if (n.nlink == 0) fs_.free_node(n);
  return kOk;
}

}  // namespace vfsim::memfs
