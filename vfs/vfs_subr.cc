// Helpers shared by the syscall files (vfs_subr.h).
#include "vfs/vfs_subr.h"

#include <sys/stat.h>

#include "vnode/vnode_if.h"

namespace vfsim::vfs {

Result<vn::Vattr> Kernel::getattr_locked(vn::Vnode& vp) {
  vn::Vattr va;
  VN_TRY(vn::vop_getattr(vp, &va));
  return va;
}

Status Kernel::getattr(vn::Vnode& vp, vn::Vattr* va) {
  vn::vn_lock(vp, false);
  const Status s = vn::vop_getattr(vp, va);
  vn::vn_unlock(vp);
  return s;
}

Result<vn::Vattr> Kernel::getattr(vn::Vnode& vp) {
  vn::Vattr va;
  VN_TRY(getattr(vp, &va));
  return va;
}

Result<vn::Vattr> creation_attr(Kernel& k, Proc& p, vn::Vnode& dvp, vn::VType type,
                                std::uint32_t mode) {
  vn::Vattr dir;
  VN_TRY(vn::vop_getattr(dvp, &dir));
  vn::Vattr va;
  va.type = type;
  va.mode = mode & vn::kModeMask;
  va.uid = p.cred.uid;
  const bool setgid_dir = (dir.mode & vn::kSetGid) != 0;
  va.gid = k.rules().new_file_gid_from_dir || setgid_dir ? dir.gid : p.cred.gid;
  if (type == vn::VType::VDIR && setgid_dir && !k.rules().new_file_gid_from_dir) {
    va.mode |= vn::kSetGid;  // System V: subdirectories inherit set-group-ID
  }
  return va;
}

bool sticky_denies(const vn::Cred& cred, const vn::Vattr& dir, const vn::Vattr& file) {
  if ((dir.mode & vn::kSticky) == 0 || cred.is_root()) return false;
  return cred.uid != file.uid && cred.uid != dir.uid;
}

std::uint32_t type_bits(vn::VType t) {
  switch (t) {
    case vn::VType::VREG: return S_IFREG;
    case vn::VType::VDIR: return S_IFDIR;
    case vn::VType::VLNK: return S_IFLNK;
    case vn::VType::VFIFO: return S_IFIFO;
    case vn::VType::VCHR: return S_IFCHR;
    case vn::VType::VBLK: return S_IFBLK;
    case vn::VType::VSOCK: return S_IFSOCK;
    case vn::VType::VNON: return 0;
  }
  return 0;
}

Stat to_stat(const vn::Vattr& va) {
  Stat st;
  st.dev = va.fsid;
  st.ino = va.fileid;
  st.mode = type_bits(va.type) | (va.mode & vn::kModeMask);
  st.nlink = va.nlink;
  st.uid = va.uid;
  st.gid = va.gid;
  st.rdev = va.rdev;
  st.size = va.size;
  st.blocks = va.bytes / 512;
  st.blksize = va.blocksize;
  st.atime = va.atime;
  st.mtime = va.mtime;
  st.ctime = va.ctime;
  st.birthtime = va.birthtime;
  return st;
}

Status relookup(Proc& p, vn::Vnode& dvp, std::string_view name, vn::Vnode** vpp) {
  vn::ComponentName cn{name, p.cred};
  Status s = vn::vop_lookup(dvp, cn, vpp);
  if (s.err() == ENOENT) return vn::kOk;
  return s;
}

Status dir_writable(Proc& p, vn::Vnode& dvp) {
  return vn::vop_access(dvp, vn::kAccWrite | vn::kAccExec, p.cred);
}

}  // namespace vfsim::vfs
