// ext2 vnode ops for names and attributes. The VFS has checked permissions,
// name lengths and the POSIX rules that need no file-system data (vnode.h);
// the core checks the rest against the image (EEXIST, ENOTEMPTY, EMLINK,
// ENOSPC) and answers EIO for metadata it does not trust. File data is in
// ext2_data.cc, extended attributes in ext2_xattr.cc.
#include "fsdrivers/ext2/ext2_node.h"

namespace vfsim::ext2drv {

using ext2::Volume;
using vn::ComponentName;
using vn::kOk;
using vn::Status;
using vn::Vnode;
using vn::VType;

Status Ext2Ops::get_vnode(std::uint32_t ino, Vnode** vpp) {
  auto vp = fs_.vcache().get(fs_.mount(), ino);
  if (!vp.ok()) return vp.status();
  *vpp = *vp;
  return kOk;
}

// The volume lock is dropped before vcache.get: loadvnode takes it again.
template <class Make>
Status Ext2Ops::make_node(Vnode& dvp, Make&& make, Vnode** vpp) {
  if (dvp.type != VType::VDIR) return Status(ENOTDIR);
  auto ino = fs_.call(make);
  if (!ino.ok()) return Status(ino.err());
  return get_vnode(*ino, vpp);
}

Status Ext2Ops::lookup(Vnode& dvp, const ComponentName& cn, Vnode** vpp) {
  if (dvp.type != VType::VDIR) return Status(ENOTDIR);
  const std::uint32_t dir = fs_.ino_of(dvp);
  auto ino = fs_.call([&](Volume& v) { return v.lookup(dir, cn.name); });
  if (!ino.ok()) return Status(ino.err());
  return get_vnode(*ino, vpp);
}

Status Ext2Ops::create(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) {
  const std::uint32_t dir = fs_.ino_of(dvp);
  const auto perm = static_cast<std::uint16_t>(va.mode & vn::kModeMask);
  return make_node(
      dvp, [&](Volume& v) { return v.create(dir, cn.name, perm, va.uid, va.gid, fs_.now_time()); },
      vpp);
}

Status Ext2Ops::mknod(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) {
  std::uint16_t type = 0;
  switch (va.type) {
    case VType::VREG: return create(dvp, cn, va, vpp);
    case VType::VCHR: type = ext2::kSIFCHR; break;
    case VType::VBLK: type = ext2::kSIFBLK; break;
    case VType::VFIFO: type = ext2::kSIFIFO; break;
    case VType::VSOCK: type = ext2::kSIFSOCK; break;
    default: return Status(EINVAL);
  }
  const std::uint32_t dir = fs_.ino_of(dvp);
  const auto mode = static_cast<std::uint16_t>(type | (va.mode & vn::kModeMask));
  const std::uint32_t rdev = rdev_to_disk(va.rdev);
  return make_node(
      dvp,
      [&](Volume& v) { return v.mknod(dir, cn.name, mode, rdev, va.uid, va.gid, fs_.now_time()); },
      vpp);
}

Status Ext2Ops::mkdir(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) {
  const std::uint32_t dir = fs_.ino_of(dvp);
  const auto perm = static_cast<std::uint16_t>(va.mode & vn::kModeMask);
  return make_node(
      dvp, [&](Volume& v) { return v.mkdir(dir, cn.name, perm, va.uid, va.gid, fs_.now_time()); },
      vpp);
}

Status Ext2Ops::symlink(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va,
                        std::string_view target, Vnode** vpp) {
  const std::uint32_t dir = fs_.ino_of(dvp);
  const auto perm = static_cast<std::uint16_t>(va.mode & vn::kModeMask);
  return make_node(
      dvp,
      [&](Volume& v) {
        return v.symlink(dir, cn.name, target, va.uid, va.gid, fs_.now_time(), perm);
      },
      vpp);
}

Status Ext2Ops::open(Vnode&, int, const vn::Cred&) { return kOk; }

Status Ext2Ops::access(Vnode& vp, int acc, const vn::Cred& cred) {
  const std::uint32_t ino = fs_.ino_of(vp);
  auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
  if (!a.ok()) return Status(a.err());
  return vn::vaccess(vp.type, a->mode & vn::kModeMask, a->uid, a->gid, acc, cred);
}

Status Ext2Ops::getattr(Vnode& vp, vn::Vattr* va) {
  const std::uint32_t ino = fs_.ino_of(vp);
  auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
  if (!a.ok()) return Status(a.err());
  fill_vattr(*a, fs_.mount().id(), fs_.block_size(), va);
  return kOk;
}

Status Ext2Ops::remove(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  if (vp.type == VType::VDIR) return Status(EPERM);
  const std::uint32_t dir = fs_.ino_of(dvp);
  return to_vn(fs_.call([&](Volume& v) { return v.remove(dir, cn.name, fs_.now_time()); }));
}

Status Ext2Ops::link(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  const std::uint32_t dir = fs_.ino_of(dvp);
  const std::uint32_t ino = fs_.ino_of(vp);
  return to_vn(fs_.call([&](Volume& v) { return v.link(dir, cn.name, ino, fs_.now_time()); }));
}

Status Ext2Ops::rename(Vnode& fdvp, Vnode& fvp, const ComponentName& fcn, Vnode& tdvp, Vnode* tvp,
                       const ComponentName& tcn) {
  const std::uint32_t fdir = fs_.ino_of(fdvp);
  const std::uint32_t tdir = fs_.ino_of(tdvp);
  return to_vn(fs_.call(
      [&](Volume& v) { return v.rename(fdir, fcn.name, tdir, tcn.name, fs_.now_time()); }));
}

Status Ext2Ops::rmdir(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  if (vp.type != VType::VDIR) return Status(ENOTDIR);
  const std::uint32_t dir = fs_.ino_of(dvp);
  return to_vn(fs_.call([&](Volume& v) { return v.rmdir(dir, cn.name, fs_.now_time()); }));
}

// Cookies are byte offsets in the directory ("." and ".." come first on
// disk). A removed directory that is still open reads as empty.
Status Ext2Ops::readdir(Vnode& vp, std::uint64_t cookie, std::size_t max,
                        std::vector<vn::Dirent>* out, bool* eof) {
  if (vp.type != VType::VDIR) return Status(ENOTDIR);
  if (max == 0) return Status(EINVAL);
  const std::uint32_t dir = fs_.ino_of(vp);
  auto r = fs_.call([&](Volume& v) { return v.readdir(dir, cookie, max); });
  if (!r.ok() && r.err() == ENOENT) {
    *eof = true;
    return kOk;
  }
  if (!r.ok()) return Status(r.err());
  for (ext2::DirEntry& e : r->entries) {
    out->push_back({e.ino, vtype_of(e.type), std::move(e.name), e.next_cookie});
  }
  *eof = r->eof;
  return kOk;
}

Status Ext2Ops::readlink(Vnode& vp, std::string* target) {
  if (vp.type != VType::VLNK) return Status(EINVAL);
  const std::uint32_t ino = fs_.ino_of(vp);
  auto r = fs_.call([ino](Volume& v) { return v.readlink(ino); });
  if (!r.ok()) return Status(r.err());
  *target = std::move(*r);
  return kOk;
}

// A file with no names left is freed now and its vnode recycled. An inode
// the core cannot read any more (the disk failed) is recycled too: there is
// nothing a cached vnode could do with it.
Status Ext2Ops::inactive(Vnode& vp, bool* recycle) {
  const std::uint32_t ino = fs_.ino_of(vp);
  auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
  *recycle = !a.ok() || a->nlink == 0;
  if (!a.ok() || a->nlink != 0) return kOk;
  // No names left: its cached pages go without being put (the blocks are
  // freed next).
  if (pager::PageObject* obj = fs_.obj_of(vp); obj != nullptr) {
    (void)fs_.pager()->truncate(*obj, 0);
  }
  ext2::Status s = fs_.call([&](Volume& v) { return v.inactive(ino, fs_.now_time()); });
  if (!s.ok())
    fs_.machine().event("ext2_inactive", "freeing inode " + std::to_string(ino) +
                                             " failed, errno " + std::to_string(s.err()));
  return kOk;
}

// The file's dirty pages are put before its object goes (a write-back error
// has no one left to tell). Outside an lwp, or with the run being killed,
// the pager itself is going: the object is left to it.
Status Ext2Ops::reclaim(Vnode& vp) {
  auto* node = static_cast<Ext2Node*>(vp.data);
  sim::Machine& m = fs_.machine();
  if (node->obj != nullptr && m.in_lwp() && !m.killing()) {
    (void)fs_.pager()->fsync(*node->obj);
    fs_.pager()->destroy_object(*node->obj);
  }
  delete node;
  vp.data = nullptr;
  return kOk;
}

}  // namespace vfsim::ext2drv
