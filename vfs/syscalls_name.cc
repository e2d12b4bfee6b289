// The calls that add or remove names: mkdir, rmdir, unlink, link, symlink,
// readlink, mknod, mkfifo and their *at forms. rename lives in
// syscalls_rename.cc. Each looks the last component up again with its
// directory locked exclusively, so a name that changed since namei is seen.
#include <fcntl.h>
#include <sys/stat.h>

#include "vfs/namei.h"
#include "vfs/vfs_subr.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

namespace {

// The common shape of mkdir, symlink and mknod: EEXIST if the name exists
// (also "/", "." and ".."), ENOENT for a trailing slash on anything but a
// directory, EACCES without write and search permission on the directory.
// `make(dvp, cn, vpp)` makes the new node in `dvp` (locked exclusively) and
// returns it referenced. A template rather than a std::function: the
// callers' lambdas capture more than std::function stores without a heap
// allocation.
template <class MakeFn>
Status create_name(Kernel& k, Proc& p, int dirfd, std::string_view path, bool is_dir,
                   const MakeFn& make) {
  Nameidata nd;
  VN_TRY(k.namei(p, dirfd, path, kWantParent, &nd));
  if (nd.dvp == nullptr) return Status(EEXIST);  // drops nd.vp
  nd.vp.reset();                                 // a hint; looked up again below
  vn::Vnode& dvp = *nd.dvp;
  // Destroyed in reverse: dvp's lock, then vp, then nd's dvp (vput order).
  vn::VRef vp;
  vn::VnLock dlock(dvp, vn::LK_EX);
  vn::Vnode* found = nullptr;
  Status s = relookup(p, dvp, nd.last, &found);
  vp = vn::VRef::adopt(found);
  if (s.ok() && vp != nullptr) {
    s = Status(EEXIST);
  } else if (s.ok() && nd.trailing_slash && !is_dir) {
    s = Status(ENOENT);
  } else if (s.ok()) {
    s = dir_writable(p, dvp);
    vn::Vnode* made = nullptr;
    if (s.ok()) s = make(dvp, {nd.last, p.cred}, &made);
    vp = vn::VRef::adopt(made);
  }
  return s;
}

// rmdir(2) / unlink(2) of a path whose last component is "/", "." or "..".
Status remove_dot_error(Kernel& k, const Nameidata& nd, bool dir_op) {
  if (!dir_op) return Status(k.rules().unlink_dir_errno);  // it is a directory
  if (nd.last.empty()) return Status(EBUSY);               // "/"
  return Status(nd.last == "." ? EINVAL : k.rules().rmdir_dotdot_errno);
}

// The checks of rmdir / unlink once dvp and vp are locked exclusively.
Status remove_checks(Kernel& k, Proc& p, vn::Vnode& dvp, vn::Vnode& vp, bool dir_op) {
  vn::Vattr dva, va;  // VOP_GETATTR straight into locals: no Result<Vattr> copies
  const Status ds = vn::vop_getattr(dvp, &dva);
  const Status s = vn::vop_getattr(vp, &va);
  VN_TRY(ds);
  VN_TRY(s);
  if (sticky_denies(p.cred, dva, va)) return Status(EPERM);
  if (dir_op) {
    if (vp.type != vn::VType::VDIR) return Status(ENOTDIR);
    if (vp.mountedhere != nullptr || &vp == p.root || vp.is_root()) return Status(EBUSY);
  } else if (vp.type == vn::VType::VDIR) {
    return Status(k.rules().unlink_dir_errno);
  }
  return vn::kOk;
}

Status remove_name(Kernel& k, Proc& p, int dirfd, std::string_view path, bool dir_op) {
  Nameidata nd;
  VN_TRY(k.namei(p, dirfd, path, kWantParent, &nd));
  if (nd.dvp == nullptr) return remove_dot_error(k, nd, dir_op);  // then drops nd.vp
  nd.vp.reset();                                                  // a hint; looked up again below
  vn::Vnode& dvp = *nd.dvp;
  // Destroyed in reverse: dvp's lock, then vp, then nd's dvp (vput order).
  vn::VRef vp;
  vn::VnLock dlock(dvp, vn::LK_EX);
  vn::Vnode* found = nullptr;
  Status s = relookup(p, dvp, nd.last, &found);
  vp = vn::VRef::adopt(found);
  if (s.ok() && vp == nullptr) s = Status(ENOENT);
  if (s.ok()) s = dir_writable(p, dvp);
  if (s.ok()) {
    vn::VnLock lock(*vp, vn::LK_EX);
    s = remove_checks(k, p, dvp, *vp, dir_op);
    vn::ComponentName cn{nd.last, p.cred};
    if (s.ok()) s = dir_op ? vn::vop_rmdir(dvp, *vp, cn) : vn::vop_remove(dvp, *vp, cn);
    lock.unlock();
  }
  // The same order by hand, so the end of the scope has nothing left to do.
  dlock.unlock();
  vp.reset();
  nd.release();
  return s;
}

}  // namespace

Status Kernel::mkdir(Proc& p, std::string_view path, std::uint32_t mode) {
  return mkdirat(p, AT_FDCWD, path, mode);
}

Status Kernel::mkdirat(Proc& p, int dirfd, std::string_view path, std::uint32_t mode) {
  return create_name(*this, p, dirfd, path, true,
                     [&](vn::Vnode& dvp, const vn::ComponentName& cn, vn::Vnode** vpp) {
                       auto va =
                           creation_attr(*this, p, dvp, vn::VType::VDIR, (mode & 01777) & ~p.umask);
                       if (!va.ok()) return va.status();
                       return vn::vop_mkdir(dvp, cn, *va, vpp);
                     });
}

Status Kernel::rmdir(Proc& p, std::string_view path) {
  return remove_name(*this, p, AT_FDCWD, path, true);
}

Status Kernel::unlink(Proc& p, std::string_view path) {
  return remove_name(*this, p, AT_FDCWD, path, false);
}

Status Kernel::unlinkat(Proc& p, int dirfd, std::string_view path, int flags) {
  if ((flags & ~AT_REMOVEDIR) != 0) return Status(EINVAL);
  return remove_name(*this, p, dirfd, path, (flags & AT_REMOVEDIR) != 0);
}

Status Kernel::symlink(Proc& p, std::string_view target, std::string_view linkpath) {
  return symlinkat(p, target, AT_FDCWD, linkpath);
}

Status Kernel::symlinkat(Proc& p, std::string_view target, int newdirfd,
                         std::string_view linkpath) {
  if (target.empty()) return Status(ENOENT);
  if (target.size() >= vn::kPathMax) return Status(ENAMETOOLONG);
  const std::uint32_t mode = rules().symlink_mode_umask ? 0777 & ~p.umask : 0777;
  return create_name(*this, p, newdirfd, linkpath, false,
                     [&](vn::Vnode& dvp, const vn::ComponentName& cn, vn::Vnode** vpp) {
                       auto va = creation_attr(*this, p, dvp, vn::VType::VLNK, mode);
                       if (!va.ok()) return va.status();
                       return vn::vop_symlink(dvp, cn, *va, target, vpp);
                     });
}

Result<std::string> Kernel::readlink(Proc& p, std::string_view path, std::size_t bufsiz) {
  return readlinkat(p, AT_FDCWD, path, bufsiz);
}

Result<std::string> Kernel::readlinkat(Proc& p, int dirfd, std::string_view path,
                                       std::size_t bufsiz) {
  if (bufsiz == 0) return Status(EINVAL);
  Nameidata nd;
  // Linux: an empty path reads the link an O_PATH descriptor names.
  VN_TRY(namei(p, dirfd, path, dirfd != AT_FDCWD ? kEmptyPath : 0, &nd));
  std::string target;
  Status s = vn::kOk;
  if (nd.vp->type != vn::VType::VLNK) {
    s = Status(EINVAL);
  } else {
    vn::VnLock lock(*nd.vp, vn::LK_SH);
    s = vn::vop_readlink(*nd.vp, &target);
  }
  nd.release();
  if (!s.ok()) return s;
  if (target.size() > bufsiz) target.resize(bufsiz);  // readlink(2) truncates silently
  return target;
}

Status Kernel::mknod(Proc& p, std::string_view path, std::uint32_t mode, std::uint64_t dev) {
  return mknodat(p, AT_FDCWD, path, mode, dev);
}

Status Kernel::mknodat(Proc& p, int dirfd, std::string_view path, std::uint32_t mode,
                       std::uint64_t dev) {
  vn::VType type;
  switch (mode & S_IFMT) {
    case 0:
    case S_IFREG: type = vn::VType::VREG; break;
    case S_IFIFO: type = vn::VType::VFIFO; break;
    case S_IFCHR: type = vn::VType::VCHR; break;
    case S_IFBLK: type = vn::VType::VBLK; break;
    case S_IFSOCK: type = vn::VType::VSOCK; break;
    default: return Status(EINVAL);
  }
  const bool device = type == vn::VType::VCHR || type == vn::VType::VBLK;
  return create_name(*this, p, dirfd, path, false,
                     [&](vn::Vnode& dvp, const vn::ComponentName& cn, vn::Vnode** vpp) {
                       if (device && !p.cred.is_root()) return Status(EPERM);
                       auto va = creation_attr(*this, p, dvp, type, (mode & 07777) & ~p.umask);
                       if (!va.ok()) return va.status();
                       va->rdev = device ? dev : 0;
                       return type == vn::VType::VREG ? vn::vop_create(dvp, cn, *va, vpp)
                                                      : vn::vop_mknod(dvp, cn, *va, vpp);
                     });
}

Status Kernel::mkfifo(Proc& p, std::string_view path, std::uint32_t mode) {
  return mknod(p, path, S_IFIFO | (mode & 07777), 0);
}

// unp_bind / unix_bind: the socket's inode mode is 0777, less the umask.
Status Kernel::bind_unix(Proc& p, std::string_view path) {
  const Status s = mknod(p, path, S_IFSOCK | 0777, 0);
  return s.err() == EEXIST ? Status(EADDRINUSE) : s;
}

Status Kernel::connect_unix(Proc& p, std::string_view path) {
  Nameidata nd;
  VN_TRY(namei(p, AT_FDCWD, path, kFollow, &nd));
  vn::Vnode& vp = *nd.vp;
  const int not_socket = vp.type == vn::VType::VSOCK ? 0 : rules().connect_nonsocket_errno;
  Status s = not_socket == ENOTSOCK ? Status(ENOTSOCK) : vn::kOk;
  if (s.ok()) {
    vn::VnLock lock(vp, vn::LK_SH);
    s = vn::vop_access(vp, vn::kAccWrite, p.cred);
  }
  if (s.ok()) s = Status(ECONNREFUSED);  // not a socket (Linux), or no listener
  return s;                              // drops nd.vp
}

Status Kernel::link(Proc& p, std::string_view oldpath, std::string_view newpath) {
  // link(2) on a symlink is the personality difference of the PERFUSE paper.
  const int flags = rules().link_follows_symlink ? AT_SYMLINK_FOLLOW : 0;
  return linkat(p, AT_FDCWD, oldpath, AT_FDCWD, newpath, flags);
}

Status Kernel::linkat(Proc& p, int olddirfd, std::string_view oldpath, int newdirfd,
                      std::string_view newpath, int flags) {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) return Status(EINVAL);
  Nameidata ond;
  VN_TRY(namei(p, olddirfd, oldpath,
               ((flags & AT_SYMLINK_FOLLOW) != 0 ? kFollow : 0) |
                   ((flags & AT_EMPTY_PATH) != 0 ? kEmptyPath : 0),
               &ond));
  vn::Vnode& vp = *ond.vp;
  if (vp.type == vn::VType::VDIR) return Status(EPERM);  // drops ond.vp
  Status s = create_name(*this, p, newdirfd, newpath, false,
                         [&](vn::Vnode& dvp, const vn::ComponentName& cn, vn::Vnode** vpp) {
                           if (&dvp.mount() != &vp.mount()) return Status(EXDEV);
                           vn::VnLock lock(vp, vn::LK_EX);
                           Status ls = vn::vop_link(dvp, vp, cn);
                           lock.unlock();
                           *vpp = nullptr;
                           return ls;
                         });
  return s;  // drops ond.vp
}

}  // namespace vfsim::vfs
