// Attribute calls: the stat family, chmod, chown, utimensat, access and
// statvfs. Each has a vnode-level core shared by its path and fd forms.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/namei.h"
#include "vfs/vfs_subr.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

namespace {

// Runs `fn` on the vnode a path names (following a final symlink or not).
// `at_flags` may hold AT_EMPTY_PATH: then "" names dirfd's node itself.
template <class T, class Fn>
Result<T> on_path(Kernel& k, Proc& p, int dirfd, std::string_view path, bool follow, Fn fn,
                  int at_flags = 0) {
  Nameidata nd;
  const int empty = (at_flags & AT_EMPTY_PATH) != 0 ? kEmptyPath : 0;
  VN_TRY(k.namei(p, dirfd, path, (follow ? kFollow : 0) | empty, &nd));
  Result<T> r = fn(*nd.vp);
  nd.release();
  return r;
}

// Runs `fn` on the vnode of an open descriptor.
template <class T, class Fn>
Result<T> on_fd(Kernel& k, Proc& p, int fd, Fn fn) {
  auto f = k.getfile(p, fd);
  if (!f.ok()) return f.status();
  Result<T> r = fn(*(*f)->vp);
  k.putfile(**f);
  return r;
}

// stat(2) of a referenced, unlocked vnode, straight from the attributes
// into the Stat, without a Result<Vattr> in between.
Result<Stat> stat_vnode(Kernel& k, vn::Vnode& vp) {
  vn::Vattr va;
  VN_TRY(k.getattr(vp, &va));
  return to_stat(va);
}

// Status has no value to carry: a Result<bool> that is true on success.
Result<bool> as_result(Status s) {
  if (!s.ok()) return s;
  return true;
}

}  // namespace

Result<Stat> Kernel::stat(Proc& p, std::string_view path) { return fstatat(p, AT_FDCWD, path, 0); }

Result<Stat> Kernel::lstat(Proc& p, std::string_view path) {
  return fstatat(p, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
}

Result<Stat> Kernel::fstatat(Proc& p, int dirfd, std::string_view path, int flags) {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return Status(EINVAL);
  return on_path<Stat>(
      *this, p, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0,
      [this](vn::Vnode& vp) { return stat_vnode(*this, vp); }, flags);
}

Result<Stat> Kernel::fstat(Proc& p, int fd) {
  return on_fd<Stat>(*this, p, fd, [this](vn::Vnode& vp) { return stat_vnode(*this, vp); });
}

// chmod: the owner or root. For others than root (genfs_can_chmod / Linux's
// setattr_prepare, by personality): the sticky bit on a non-directory is
// EFTYPE (NetBSD) or allowed; S_ISGID on a file of a group the caller is not
// in is EPERM (NetBSD) or silently dropped (Linux).
static Status chmod_vnode(Kernel& k, Proc& p, vn::Vnode& vp, std::uint32_t mode) {
  vn::vn_lock(vp, true);
  auto va = k.getattr_locked(vp);
  Status s = va.status();
  if (s.ok() && !p.cred.is_root() && p.cred.uid != va->uid) s = Status(EPERM);
  mode &= vn::kModeMask;
  if (s.ok() && !p.cred.is_root()) {
    if (k.rules().chmod_sticky_file_eftype && vp.type != vn::VType::VDIR &&
        (mode & vn::kSticky) != 0) {
      s = Status(kEFTYPE);
    } else if ((mode & vn::kSetGid) != 0 && !p.cred.groupmember(va->gid)) {
      if (k.rules().chmod_sgid_nonmember_eperm) s = Status(EPERM);
      else mode &= ~vn::kSetGid;
    }
  }
  if (s.ok()) {
    vn::SetAttr sa;
    sa.mode = mode;
    s = vn::vop_setattr(vp, sa, p.cred);
  }
  vn::vn_unlock(vp);
  return s;
}

Status Kernel::chmod(Proc& p, std::string_view path, std::uint32_t mode) {
  return on_path<bool>(*this, p, AT_FDCWD, path, true,
                       [&](vn::Vnode& vp) { return as_result(chmod_vnode(*this, p, vp, mode)); })
      .status();
}

Status Kernel::fchmod(Proc& p, int fd, std::uint32_t mode) {
  return on_fd<bool>(*this, p, fd,
                     [&](vn::Vnode& vp) { return as_result(chmod_vnode(*this, p, vp, mode)); })
      .status();
}

// chown: root changes anything; the owner may only change the group, to a
// group it belongs to. Which set-id bits of a non-directory it clears is the
// personality's (chown_kills_setid_always): NetBSD clears S_ISUID and
// S_ISGID on a non-root chown, and chown(-1, -1) changes nothing and asks
// nothing (POSIX: no ownership needed for a no-op); Linux clears S_ISUID and
// S_ISGID-with-group-execute on every chown, root's and (-1, -1) included,
// which then needs ownership.
static Status chown_vnode(Kernel& k, Proc& p, vn::Vnode& vp, vn::Uid uid, vn::Gid gid) {
  const bool always = k.rules().chown_kills_setid_always;
  const bool noop = uid == static_cast<vn::Uid>(-1) && gid == static_cast<vn::Gid>(-1);
  if (noop && !always) return vn::kOk;
  vn::vn_lock(vp, true);
  auto va = k.getattr_locked(vp);
  Status s = va.status();
  if (s.ok()) {
    const int kill_flags =
        always ? vn::kIoKillPriv | vn::kIoKillSgidIfGexec : k.kill_priv_flags(p.cred);
    const std::uint32_t kill =
        vp.type == vn::VType::VDIR ? 0 : vn::kill_priv_bits(va->mode, kill_flags);
    const vn::Uid new_uid = uid == static_cast<vn::Uid>(-1) ? va->uid : uid;
    const vn::Gid new_gid = gid == static_cast<vn::Gid>(-1) ? va->gid : gid;
    if (noop) {
      // Linux: only the bits to clear make chown(-1, -1) do anything.
      if (kill != 0 && !p.cred.is_root() && p.cred.uid != va->uid) s = Status(EPERM);
    } else if (!p.cred.is_root() && (p.cred.uid != va->uid || new_uid != va->uid ||
                                     (new_gid != va->gid && !p.cred.groupmember(new_gid)))) {
      s = Status(EPERM);
    }
    if (s.ok() && (!noop || kill != 0)) {
      vn::SetAttr sa;
      if (!noop) {
        sa.uid = new_uid;
        sa.gid = new_gid;
      }
      if (kill != 0) sa.mode = va->mode & ~kill;
      s = vn::vop_setattr(vp, sa, p.cred);
    }
  }
  vn::vn_unlock(vp);
  return s;
}

Status Kernel::chown(Proc& p, std::string_view path, vn::Uid uid, vn::Gid gid) {
  return on_path<bool>(
             *this, p, AT_FDCWD, path, true,
             [&](vn::Vnode& vp) { return as_result(chown_vnode(*this, p, vp, uid, gid)); })
      .status();
}

Status Kernel::lchown(Proc& p, std::string_view path, vn::Uid uid, vn::Gid gid) {
  return on_path<bool>(
             *this, p, AT_FDCWD, path, false,
             [&](vn::Vnode& vp) { return as_result(chown_vnode(*this, p, vp, uid, gid)); })
      .status();
}

Status Kernel::fchown(Proc& p, int fd, vn::Uid uid, vn::Gid gid) {
  return on_fd<bool>(*this, p, fd,
                     [&](vn::Vnode& vp) { return as_result(chown_vnode(*this, p, vp, uid, gid)); })
      .status();
}

namespace {

bool valid_nsec(std::int64_t nsec) {
  return nsec == UTIME_NOW || nsec == UTIME_OMIT || (nsec >= 0 && nsec < 1'000'000'000);
}

}  // namespace

// utimensat: setting "now" needs ownership or write permission (EACCES);
// setting explicit times needs ownership (EPERM). Negative times: EINVAL.
Status Kernel::utimensat(Proc& p, int dirfd, std::string_view path, const Timespec* times,
                         int flags) {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return Status(EINVAL);
  const Timespec now_both[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  const Timespec* t = times != nullptr ? times : now_both;
  for (int i = 0; i < 2; ++i) {
    if (!valid_nsec(t[i].nsec)) return Status(EINVAL);
    if (t[i].nsec != UTIME_NOW && t[i].nsec != UTIME_OMIT && t[i].sec < 0) return Status(EINVAL);
  }
  auto as_time = [&](const Timespec& ts) -> std::optional<sim::VTime> {
    if (ts.nsec == UTIME_OMIT) return std::nullopt;
    if (ts.nsec == UTIME_NOW) return machine_.now();
    return static_cast<sim::VTime>(ts.sec) * sim::kSecond + static_cast<sim::VTime>(ts.nsec);
  };
  const bool only_now_or_omit = (t[0].nsec == UTIME_NOW || t[0].nsec == UTIME_OMIT) &&
                                (t[1].nsec == UTIME_NOW || t[1].nsec == UTIME_OMIT);
  return on_path<bool>(
             *this, p, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0,
             [&](vn::Vnode& vp) -> Result<bool> {
               if (t[0].nsec == UTIME_OMIT && t[1].nsec == UTIME_OMIT) return true;
               vn::vn_lock(vp, true);
               auto va = getattr_locked(vp);
               Status s = va.status();
               const bool owner = s.ok() && (p.cred.is_root() || p.cred.uid == va->uid);
               if (s.ok() && !owner) {
                 s = only_now_or_omit ? vn::vop_access(vp, vn::kAccWrite, p.cred) : Status(EPERM);
               }
               if (s.ok()) {
                 vn::SetAttr sa;
                 sa.atime = as_time(t[0]);
                 sa.mtime = as_time(t[1]);
                 s = vn::vop_setattr(vp, sa, p.cred);
               }
               vn::vn_unlock(vp);
               return as_result(s);
             },
             flags)
      .status();
}

Status Kernel::access(Proc& p, std::string_view path, int mode) {
  return faccessat(p, AT_FDCWD, path, mode, 0);
}

Status Kernel::faccessat(Proc& p, int dirfd, std::string_view path, int mode, int flags) {
  if ((mode & ~(R_OK | W_OK | X_OK)) != 0) return Status(EINVAL);
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return Status(EINVAL);
  return on_path<bool>(
             *this, p, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0,
             [&](vn::Vnode& vp) -> Result<bool> {
               if (mode == F_OK) return true;
               vn::vn_lock(vp, false);
               Status s = vn::vop_access(vp, mode, p.cred);  // R/W/X_OK = kAcc*
               vn::vn_unlock(vp);
               return as_result(s);
             },
             flags)
      .status();
}

namespace {

Result<vn::StatVfs> statvfs_vnode(vn::Vnode& vp) {
  vn::StatVfs out;
  VN_TRY(vp.mount().fs().statvfs(&out));
  return out;
}

}  // namespace

Result<vn::StatVfs> Kernel::statvfs(Proc& p, std::string_view path) {
  return on_path<vn::StatVfs>(*this, p, AT_FDCWD, path, true, statvfs_vnode);
}

Result<vn::StatVfs> Kernel::fstatvfs(Proc& p, int fd) {
  return on_fd<vn::StatVfs>(*this, p, fd, statvfs_vnode);
}

}  // namespace vfsim::vfs
