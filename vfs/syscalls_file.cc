// open(2) and the calls on open files: read, write, pread, pwrite, lseek,
// fsync, truncate, ftruncate, getdents. Fifos are served by the kernel's
// fifo table (vfs/fifo.h: open may wait, read and write block, pread, pwrite
// and lseek are ESPIPE), and the times a fifo read or write marks are set
// here. No device driver is configured, so opening a character or block
// device is ENXIO, as NetBSD answers for a major without a driver; opening a
// socket node is the personality's errno.
#include <fcntl.h>
#include <unistd.h>

#include "vfs/fifo.h"
#include "vfs/namei.h"
#include "vfs/vfs_subr.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

namespace {

// What open(O_CREAT) found or made: a referenced, unlocked vnode.
struct Opened {
  vn::Vnode* vp = nullptr;
  bool created = false;
};

}  // namespace

// open(O_CREAT): look the name up under the directory's lock and create it
// when absent. O_EXCL and O_NOFOLLOW do not follow a final symlink.
static Result<Opened> open_create(Kernel& k, Proc& p, int dirfd, std::string_view path, int flags,
                                  std::uint32_t mode) {
  Nameidata nd;
  const bool follow = (flags & (O_EXCL | O_NOFOLLOW)) == 0;
  VN_TRY(k.namei(p, dirfd, path, kWantParent | (follow ? kFollow : 0), &nd));
  if (nd.dvp == nullptr) {                             // "/", "." or "..": an existing directory
    if ((flags & O_EXCL) != 0) return Status(EEXIST);  // drops nd.vp
    return Opened{nd.vp.release(), false};
  }
  vn::Vnode& dvp = *nd.dvp;
  nd.vp.reset();  // only a hint; looked up again below
  vn::VnLock dlock(dvp, vn::LK_EX);
  bool created = false;
  vn::Vnode* found = nullptr;
  Status s = relookup(p, dvp, nd.last, &found);
  if (s.ok() && found == nullptr) {
    s = nd.trailing_slash ? Status(EISDIR) : dir_writable(p, dvp);
    if (s.ok()) {
      auto va = creation_attr(k, p, dvp, vn::VType::VREG, mode & ~p.umask);
      s = va.ok() ? vn::vop_create(dvp, {nd.last, p.cred}, *va, &found) : va.status();
      created = s.ok();
    }
  } else if (s.ok() && (flags & O_EXCL) != 0) {
    s = Status(EEXIST);
  }
  vn::VRef vp = vn::VRef::adopt(found);
  dlock.unlock();
  nd.dvp.reset();
  if (!s.ok()) return s;  // drops vp
  if (vp->type == vn::VType::VDIR && vp->mountedhere != nullptr) {
    // A mount point found under the lock: open the mounted root instead.
    vp.reset();
    Nameidata again;
    VN_TRY(k.namei(p, dirfd, path, kFollow, &again));
    vp = std::move(again.vp);
  }
  return Opened{vp.release(), created};  // the caller owns the reference
}

// Truncates the locked regular file `vp` to `length` for `p`: with the
// personality's truncate_kills_setid, a non-root caller's truncation also
// clears S_ISUID/S_ISGID by the write rule (Linux: even of an empty file).
static Status truncate_locked(Kernel& k, Proc& p, vn::Vnode& vp, std::uint64_t length) {
  vn::SetAttr sa;
  sa.size = length;
  if (k.rules().truncate_kills_setid && !p.cred.is_root()) {
    auto va = k.getattr_locked(vp);
    if (!va.ok()) return va.status();
    const std::uint32_t kill = vn::kill_priv_bits(va->mode, k.kill_priv_flags(p.cred));
    if (kill != 0) sa.mode = va->mode & ~kill;
  }
  return vn::vop_setattr(vp, sa, p.cred);
}

// The checks and VOP_OPEN / O_TRUNC of open(2) on a referenced vnode.
static Status open_checks(Kernel& k, Proc& p, vn::Vnode& vp, int flags, bool created) {
  const int acc = flags & O_ACCMODE;
  if (vp.type == vn::VType::VLNK) return Status(ELOOP);  // O_NOFOLLOW on a symlink
  if ((flags & O_DIRECTORY) != 0 && vp.type != vn::VType::VDIR) return Status(ENOTDIR);
  if (vp.type == vn::VType::VDIR && (acc != O_RDONLY || (flags & O_TRUNC) != 0)) {
    return Status(EISDIR);
  }
  // Before the permission check under both: NetBSD's vn_open refuses VSOCK
  // outright, Linux's may_open does it ahead of inode_permission.
  if (vp.type == vn::VType::VSOCK) return Status(k.rules().socket_open_errno);
  const bool device = vp.type == vn::VType::VCHR || vp.type == vn::VType::VBLK;
  const bool trunc = (flags & O_TRUNC) != 0 && vp.type == vn::VType::VREG && !created;
  vn::vn_lock(vp, trunc);
  Status s = vn::kOk;
  if (!created) {
    int want = 0;
    if (acc == O_RDONLY || acc == O_RDWR) want |= vn::kAccRead;
    if (acc == O_WRONLY || acc == O_RDWR || trunc) want |= vn::kAccWrite;
    if (want != 0) s = vn::vop_access(vp, want, p.cred);
  }
  // The device's own open (spec_open) comes after the permission check; no
  // major has a driver.
  if (s.ok() && device) s = Status(ENXIO);
  if (s.ok()) s = vn::vop_open(vp, open_fflags(flags), p.cred);
  if (s.ok() && trunc) s = truncate_locked(k, p, vp, 0);
  vn::vn_unlock(vp);
  return s;
}

Result<int> Kernel::open(Proc& p, std::string_view path, int flags, std::uint32_t mode) {
  return openat(p, AT_FDCWD, path, flags, mode);
}

Result<int> Kernel::openat(Proc& p, int dirfd, std::string_view path, int flags,
                           std::uint32_t mode) {
  if ((flags & O_ACCMODE) == O_ACCMODE) return Status(EINVAL);
  if ((flags & O_PATH) != 0) {  // names the node only (Linux): no checks, no VOP_OPEN
    Nameidata nd;
    VN_TRY(namei(p, dirfd, path, (flags & O_NOFOLLOW) != 0 ? 0 : kFollow, &nd));
    if ((flags & O_DIRECTORY) != 0 && nd.vp->type != vn::VType::VDIR) {
      return Status(ENOTDIR);  // drops nd.vp
    }
    OpenFile& f = file_alloc(*nd.vp.release(), O_PATH);  // takes nd.vp's reference
    auto fd = fd_alloc(p, f);
    putfile(f);
    return fd;
  }
  Opened o;
  if ((flags & O_CREAT) != 0) {
    auto r = open_create(*this, p, dirfd, path, flags, mode);
    if (!r.ok()) return r.status();
    o = *r;
  } else {
    Nameidata nd;
    VN_TRY(namei(p, dirfd, path, (flags & O_NOFOLLOW) != 0 ? 0 : kFollow, &nd));
    o.vp = nd.vp.release();
  }
  return open_finish(p, *o.vp, path, flags, o.created);  // takes the reference
}

// The rest of open(2) on a referenced vnode: the checks, the fifo's part, a
// new open file and descriptor; releases vp's reference on failure.
Result<int> Kernel::open_finish(Proc& p, vn::Vnode& vp, std::string_view path, int flags,
                                bool created) {
  Opened o{&vp, created};
  Status s = open_checks(*this, p, *o.vp, flags, o.created);
  if (s.ok() && o.vp->type == vn::VType::VFIFO) {
    // fifofs' part: may wait for the other side, with no vnode lock held.
    s = fifos_->open(*o.vp, path, open_fflags(flags), (flags & O_NONBLOCK) != 0);
    if (!s.ok()) {
      vn::vn_lock(*o.vp, false);
      (void)vn::vop_close(*o.vp, open_fflags(flags), p.cred);  // undoes VOP_OPEN only
      vn::vn_unlock(*o.vp);
    }
  }
  if (!s.ok()) {
    vrele(*o.vp);
    return s;
  }
  // The open file takes o.vp's reference.
  OpenFile& f = file_alloc(*o.vp, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
  auto fd = fd_alloc(p, f);
  putfile(f);
  return fd;
}

namespace {

// Regular files carry data through their file system, fifos through the
// kernel's fifo table; directories answer EISDIR. Devices and sockets
// cannot be opened, so no open file reaches the last line.
Status io_type_check(const vn::Vnode& vp) {
  if (vp.type == vn::VType::VDIR) return Status(EISDIR);
  if (vp.type != vn::VType::VREG && vp.type != vn::VType::VFIFO) return Status(EOPNOTSUPP);
  return vn::kOk;
}

bool nonblocking(const OpenFile& f) { return (f.flags & O_NONBLOCK) != 0; }

enum class FifoIo : std::uint8_t { read, write };

// The times fifo I/O marks, POSIX's: a read of more than zero bytes st_atime
// alone, a write of more than zero bytes st_mtime and st_ctime. The fifo
// table moved the data under its leaf mutex with no vnode lock held; the
// times are the file system's, so they go through VOP_SETATTR afterwards,
// under the fifo vnode's exclusive lock with no other lock held (a
// non-directory lock alone: the lock order in vnode.h), as NetBSD's
// ufsfifo_read / ufsfifo_write mark the inode around fifofs. A file system
// that cannot record them (mounted read-only, gone) leaves them be: the
// data has moved, and the call's result stands.
void mark_fifo_times(Kernel& k, vn::Vnode& vp, FifoIo io, const vn::Cred& cred) {
  vn::vn_lock(vp, true);
  vn::SetAttr sa;
  if (io == FifoIo::read) {
    sa.atime = k.machine().now();
    sa.mark_ctime = false;
  } else {
    sa.mtime = k.machine().now();  // and ctime, as every change
  }
  (void)vn::vop_setattr(vp, sa, cred);
  vn::vn_unlock(vp);
}

}  // namespace

// read / pread: `offset` null means "at the file's offset, and advance it".
static Result<std::string> do_read(Kernel& k, Proc& p, int fd, std::size_t len,
                                   const std::int64_t* offset) {
  auto fr = k.getfile(p, fd);
  if (!fr.ok()) return fr.status();
  OpenFile& f = **fr;
  Status s = !f.readable()                                         ? Status(EBADF)
             : offset != nullptr && f.vp->type == vn::VType::VFIFO ? Status(ESPIPE)
                                                                   : io_type_check(*f.vp);
  std::string out;
  if (s.ok() && f.vp->type == vn::VType::VFIFO) {
    auto r = k.fifos().read(*f.vp, len, nonblocking(f));
    if (r.ok() && !r->empty()) mark_fifo_times(k, *f.vp, FifoIo::read, p.cred);
    k.putfile(f);
    return r;
  }
  if (s.ok()) {
    vn::vn_lock(*f.vp, false);
    const std::uint64_t at = offset != nullptr ? static_cast<std::uint64_t>(*offset) : f.offset;
    s = vn::vop_read(*f.vp, at, len, &out, 0);
    if (s.ok() && offset == nullptr) f.offset = at + out.size();
    vn::vn_unlock(*f.vp);
  }
  k.putfile(f);
  if (!s.ok()) return s;
  return out;
}

static Result<std::size_t> do_write(Kernel& k, Proc& p, int fd, std::string_view data,
                                    const std::int64_t* offset) {
  auto fr = k.getfile(p, fd);
  if (!fr.ok()) return fr.status();
  OpenFile& f = **fr;
  std::size_t written = 0;
  Status s = !f.writable()                                         ? Status(EBADF)
             : offset != nullptr && f.vp->type == vn::VType::VFIFO ? Status(ESPIPE)
                                                                   : io_type_check(*f.vp);
  if (s.ok() && f.vp->type == vn::VType::VFIFO) {
    auto r = k.fifos().write(*f.vp, data, nonblocking(f), k.rules());
    if (r.ok() && *r > 0) mark_fifo_times(k, *f.vp, FifoIo::write, p.cred);
    k.putfile(f);
    return r;
  }
  if (s.ok()) {
    vn::vn_lock(*f.vp, true);
    std::uint64_t at = offset != nullptr ? static_cast<std::uint64_t>(*offset) : f.offset;
    const int ioflag = ((f.flags & O_APPEND) != 0 ? vn::kIoAppend : 0) | k.kill_priv_flags(p.cred);
    s = vn::vop_write(*f.vp, &at, data, ioflag, &written);
    if (s.ok() && offset == nullptr) f.offset = at;
    vn::vn_unlock(*f.vp);
  }
  k.putfile(f);
  if (!s.ok()) return s;
  return written;  // short when the file system stopped early (ENOSPC, EIO)
}

Result<std::string> Kernel::read(Proc& p, int fd, std::size_t len) {
  return do_read(*this, p, fd, len, nullptr);
}

Result<std::size_t> Kernel::write(Proc& p, int fd, std::string_view data) {
  return do_write(*this, p, fd, data, nullptr);
}

Result<std::string> Kernel::pread(Proc& p, int fd, std::size_t len, std::int64_t offset) {
  if (offset < 0) return Status(EINVAL);
  return do_read(*this, p, fd, len, &offset);
}

Result<std::size_t> Kernel::pwrite(Proc& p, int fd, std::string_view data, std::int64_t offset) {
  if (offset < 0) return Status(EINVAL);
  return do_write(*this, p, fd, data, &offset);
}

Result<int> Kernel::open_vnode(Proc& p, vn::Vnode& vp, int flags) {
  if ((flags & (O_CREAT | O_EXCL)) != 0 || (flags & O_ACCMODE) == O_ACCMODE) {
    return Status(EINVAL);
  }
  vref(vp);  // the open file's own reference
  if ((flags & O_PATH) != 0) {
    OpenFile& f = file_alloc(vp, O_PATH);
    auto fd = fd_alloc(p, f);
    putfile(f);
    return fd;
  }
  return open_finish(p, vp, "", flags, false);
}

Result<std::int64_t> Kernel::lseek(Proc& p, int fd, std::int64_t offset, int whence) {
  auto fr = getfile(p, fd);
  if (!fr.ok()) return fr.status();
  OpenFile& f = **fr;
  std::int64_t base = 0;
  Status s = vn::kOk;
  if (f.vp->type == vn::VType::VFIFO || f.vp->type == vn::VType::VSOCK) {
    s = Status(ESPIPE);
  } else if (whence == SEEK_CUR) {
    base = static_cast<std::int64_t>(f.offset);
  } else if (whence == SEEK_END) {
    auto va = getattr(*f.vp);
    s = va.status();
    if (s.ok()) base = static_cast<std::int64_t>(va->size);
  } else if (whence != SEEK_SET) {
    s = Status(EINVAL);
  }
  if (s.ok() && (offset < 0 ? base < -offset : false)) s = Status(EINVAL);
  if (s.ok()) f.offset = static_cast<std::uint64_t>(base + offset);
  const std::uint64_t result = f.offset;
  putfile(f);
  if (!s.ok()) return s;
  return static_cast<std::int64_t>(result);
}

Status Kernel::fsync(Proc& p, int fd) {
  auto fr = getfile(p, fd);
  if (!fr.ok()) return fr.status();
  if (((*fr)->flags & O_PATH) != 0) {
    putfile(**fr);
    return Status(EBADF);
  }
  vn::vn_lock(*(*fr)->vp, true);
  Status s = vn::vop_fsync(*(*fr)->vp);
  vn::vn_unlock(*(*fr)->vp);
  putfile(**fr);
  return s;
}

// truncate / ftruncate on a referenced vnode; `check_access` for the path form.
static Status truncate_vnode(Kernel& k, Proc& p, vn::Vnode& vp, std::int64_t length,
                             bool check_access) {
  if (vp.type == vn::VType::VDIR) return Status(EISDIR);
  if (vp.type != vn::VType::VREG) return Status(EINVAL);
  vn::vn_lock(vp, true);
  Status s = check_access ? vn::vop_access(vp, vn::kAccWrite, p.cred) : vn::kOk;
  if (s.ok()) s = truncate_locked(k, p, vp, static_cast<std::uint64_t>(length));
  vn::vn_unlock(vp);
  return s;
}

Status Kernel::truncate(Proc& p, std::string_view path, std::int64_t length) {
  if (length < 0) return Status(EINVAL);
  Nameidata nd;
  VN_TRY(namei(p, AT_FDCWD, path, kFollow, &nd));
  Status s = truncate_vnode(*this, p, *nd.vp, length, true);
  nd.release();
  return s;
}

Status Kernel::ftruncate(Proc& p, int fd, std::int64_t length) {
  if (length < 0) return Status(EINVAL);
  auto fr = getfile(p, fd);
  if (!fr.ok()) return fr.status();
  Status s =
      (*fr)->writable() ? truncate_vnode(*this, p, *(*fr)->vp, length, false) : Status(EINVAL);
  putfile(**fr);
  return s;
}

Result<std::vector<vn::Dirent>> Kernel::getdents(Proc& p, int fd, std::size_t max) {
  auto fr = getfile(p, fd);
  if (!fr.ok()) return fr.status();
  OpenFile& f = **fr;
  std::vector<vn::Dirent> out;
  Status s = (f.flags & O_PATH) != 0         ? Status(EBADF)
             : f.vp->type != vn::VType::VDIR ? Status(ENOTDIR)
                                             : vn::kOk;
  if (s.ok() && max == 0) s = Status(EINVAL);
  if (s.ok()) {
    vn::vn_lock(*f.vp, false);
    bool eof = false;
    s = vn::vop_readdir(*f.vp, f.offset, max, &out, &eof);
    if (s.ok() && !out.empty()) f.offset = out.back().cookie;
    vn::vn_unlock(*f.vp);
  }
  putfile(f);
  if (!s.ok()) return s;
  return out;
}

}  // namespace vfsim::vfs
