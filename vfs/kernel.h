// The VFS of one machine: processes and their fd tables, open files, the
// mount table with its mount-by-type table, namei, and the system calls.
//
// Every system call takes the calling process explicitly and returns a
// [[nodiscard]] Status or Result with the errno POSIX specifies; it must run
// inside an lwp of the machine. Paths follow namei's rules (namei.cc):
// NAME_MAX 255 and PATH_MAX 1024 (ENAMETOOLONG), at most 32 symlinks (ELOOP).
// Flag and mode values are the host's <fcntl.h> / <sys/stat.h> names.
//
// The kernel names no file-system driver: whoever builds it (the World,
// boot/world.h) registers the types, and hands it the machine's pager.
//
// Lifetime: build the Kernel inside or before Machine::run(), keep it until
// run() returned; shutdown() (inside an lwp) closes every process and
// unmounts every file system, after which the vcache must be empty.
#pragma once

#include <fcntl.h>

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pager/pager.h"
#include "sim/sync.h"
#include "vfs/personality.h"
#include "vnode/fstype.h"
#include "vnode/vcache.h"
#include "vnode/vref.h"

namespace vfsim::vfs {

using vn::Result;
using vn::Status;

// Options a file system gets at mount time, as text ("size_max" -> "65536").
using MountArgs = vn::MountArgs;
// A mount-by-type table entry: builds the type's file system from its mount
// options (whoever registers it binds what else it needs: boot/world.h).
using FsFactory = std::function<Result<std::unique_ptr<vn::FileSystem>>(const MountArgs&)>;
// Builds the file system of one mount(2), once the mount point passed its checks.
using FsMaker = std::function<Result<std::unique_ptr<vn::FileSystem>>()>;

struct Proc;

// The FREAD / FWRITE bits (vn::kFRead, vn::kFWrite) of open(2) flags with a
// valid access mode, as VOP_OPEN, VOP_CLOSE and the fifo table take them.
inline int open_fflags(int flags) {
  if ((flags & O_PATH) != 0) return 0;  // names a node; neither reads nor writes
  const int acc = flags & O_ACCMODE;
  return (acc != O_WRONLY ? vn::kFRead : 0) | (acc != O_RDONLY ? vn::kFWrite : 0);
}

struct OpenFile {
  std::uint64_t id = 0;
  vn::Vnode* vp = nullptr;   // referenced while the file is open
  int flags = 0;             // O_ACCMODE bits, O_APPEND
  std::uint64_t offset = 0;  // [v] of vp
  std::uint32_t refs = 0;    // fd table entries + calls in progress
  int fflags() const { return open_fflags(flags); }
  bool readable() const { return (fflags() & vn::kFRead) != 0; }
  bool writable() const { return (fflags() & vn::kFWrite) != 0; }
};

struct Proc {
  int pid = 0;
  std::string name;
  vn::Cred cred;
  std::uint32_t umask = 022;
  vn::Vnode* cwd = nullptr;    // referenced
  vn::Vnode* root = nullptr;   // referenced (chroot)
  std::vector<OpenFile*> fds;  // index = fd; null = free
  bool exited = false;
  int fd_max = 1024;  // RLIMIT_NOFILE: descriptors from 0 to fd_max - 1 (EMFILE beyond)
};

inline constexpr int kFdMax = 1024;  // the default Proc::fd_max

// stat(2) as vfsim reports it. mode carries the S_IF* type bits.
struct Stat {
  std::uint64_t dev = 0, ino = 0;
  std::uint32_t mode = 0, nlink = 0, uid = 0, gid = 0;
  std::uint64_t rdev = 0, size = 0, blocks = 0, blksize = 0;
  sim::VTime atime = 0, mtime = 0, ctime = 0, birthtime = 0;
};

// utimensat(2) times: nsec may be UTIME_NOW or UTIME_OMIT.
struct Timespec {
  std::int64_t sec = 0;
  std::int64_t nsec = 0;
};

struct KernelOptions {
  Personality personality = Personality::NetBSD;
  std::size_t desiredvnodes = 1024;
  // The machine's pager (pager/), owned by whoever built the kernel (the
  // World, boot/world.h), or null: no memory model.
  pager::Pager* pager = nullptr;
  // Knob vfs.rename_lost_source_unlock, the fix of PR kern/40948 (the FFS
  // rename race of the rump paper): when rename's source vanished during the
  // window before the parents are locked, the error branch releases exactly
  // what it locked. Off: the historic branch, which releases the source
  // directory twice (syscalls_rename.cc).
  bool rename_lost_source_unlock = true;
};

struct Nameidata;
class FifoTable;

// Vnode keys from a directory up to its mount's root. Inline room for
// ordinary depths: rename(2) builds two of these every call.
using AncestorKeys = boost::container::small_vector<std::uint64_t, 16>;

class Kernel {
 public:
  Kernel(sim::Machine& m, KernelOptions options);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  sim::Machine& machine() const { return machine_; }
  vn::Vcache& vcache() { return vcache_; }
  const PersonalityRules& rules() const { return *rules_; }
  // The VOP_WRITE flags that make a write by `cred` clear S_ISUID/S_ISGID
  // (vn::kIoKillPriv...): none for root.
  int kill_priv_flags(const vn::Cred& cred) const {
    if (cred.is_root()) return 0;
    return vn::kIoKillPriv | (rules_->kill_sgid_needs_group_exec ? vn::kIoKillSgidIfGexec : 0);
  }
  // The machine's pager, or null (KernelOptions::pager).
  pager::Pager* pager() const { return options_.pager; }
  Personality personality() const { return options_.personality; }
  const KernelOptions& options() const { return options_; }

  // --- file-system types and mounts (mount.cc) ---------------------------
  void register_fs_type(std::string name, FsFactory factory);
  // Mounts the root file system; before any process exists. Loads its root
  // vnode (the kernel's own reference, NetBSD's rootvnode): a root that
  // cannot be loaded (a puffs server that died at once, an unreadable root
  // inode) fails the mount with that errno, and the file system is
  // unmounted again.
  [[nodiscard]] Status mount_root(std::string_view fstype, const MountArgs& args);
  [[nodiscard]] Status mount(Proc& p, std::string_view fstype, std::string_view path,
                             const MountArgs& args);
  // mount(2) of the file system `make` builds (ENODEV and so on from it);
  // the type table is not asked. Same checks and order as mount().
  [[nodiscard]] Status mount_with(Proc& p, std::string_view path, const FsMaker& make);
  // unmount(2). `path` names the mounted file system: its root, or the
  // directory it covers (the last component does not cross into the mount,
  // so the mount of a dead server, whose root is revoked, can be unmounted).
  [[nodiscard]] Status unmount(Proc& p, std::string_view path, bool force = false);
  vn::Mount* root_mount() const { return root_mount_; }
  std::size_t mount_count() const { return mounts_.size(); }

  // --- processes (proc.cc) ---------------------------------------------
  Proc& proc_create(std::string name, vn::Cred cred, std::uint32_t umask = 022);
  // Closes every descriptor and releases cwd and root.
  void proc_exit(Proc& p);
  // The process the calling lwp belongs to (the kernel's lwp slot), or null.
  Proc* current_proc() const;
  void attach_current_lwp(Proc& p);
  Proc* proc_by_name(std::string_view name);
  // Exits every process and unmounts every file system, innermost first; one
  // whose unmount fails (a disk write error) is unmounted by force, as
  // NetBSD's vfs_unmountall does (trace event vfs_shutdown).
  [[nodiscard]] Status shutdown();
  // True once shutdown() succeeded: the vcache is empty from then on.
  bool is_shut_down() const { return shut_down_; }

  // --- files and descriptors (syscalls_file.cc) ---------------------------
  [[nodiscard]] Result<int> open(Proc& p, std::string_view path, int flags, std::uint32_t mode = 0);
  [[nodiscard]] Result<int> openat(Proc& p, int dirfd, std::string_view path, int flags,
                                   std::uint32_t mode = 0);
  [[nodiscard]] Status close(Proc& p, int fd);
  [[nodiscard]] Result<std::string> read(Proc& p, int fd, std::size_t len);
  [[nodiscard]] Result<std::size_t> write(Proc& p, int fd, std::string_view data);
  [[nodiscard]] Result<std::string> pread(Proc& p, int fd, std::size_t len, std::int64_t offset);
  [[nodiscard]] Result<std::size_t> pwrite(Proc& p, int fd, std::string_view data,
                                           std::int64_t offset);
  // open(2) of a vnode the caller holds, for a file server that names nodes
  // rather than paths (vfsim mount): the checks, VOP_OPEN and O_TRUNC of
  // open(2) as p's credentials, as if a path had led to `vp` (O_CREAT,
  // O_EXCL and O_DIRECTORY on a non-directory are errors). With O_PATH (as
  // Linux's), a descriptor that only names the node: no access check and no
  // VOP_OPEN, any type (a symlink too); it serves as the directory of the
  // *at calls and, with AT_EMPTY_PATH or an empty path, as the node itself
  // (fstatat, utimensat, faccessat, linkat, readlinkat), and fchmod, fchown,
  // fstat, fstatvfs and the f*xattr calls accept it (Linux answers EBADF
  // there: this kernel's file server needs them); read, write, getdents,
  // ftruncate and fsync answer EBADF. Does not take `vp`'s reference: the
  // open file gets one of its own.
  [[nodiscard]] Result<int> open_vnode(Proc& p, vn::Vnode& vp, int flags);
  // Moves descriptor `fd` of `from` into `to` (SCM_RIGHTS as one call):
  // the new descriptor in `to`, `fd` closed in `from` without VOP_CLOSE.
  [[nodiscard]] Result<int> fd_pass(Proc& from, int fd, Proc& to);
  // A new descriptor in `to` for the open file of `from`'s `fd` (SCM_RIGHTS
  // with the sender keeping its own): both name one open file, with one
  // offset; the file is closed (VOP_CLOSE) when the last of them closes.
  [[nodiscard]] Result<int> fd_share(Proc& from, int fd, Proc& to);
  [[nodiscard]] Result<std::int64_t> lseek(Proc& p, int fd, std::int64_t offset, int whence);
  [[nodiscard]] Status fsync(Proc& p, int fd);
  [[nodiscard]] Status truncate(Proc& p, std::string_view path, std::int64_t length);
  [[nodiscard]] Status ftruncate(Proc& p, int fd, std::int64_t length);
  // Up to `max` entries from the descriptor's position; empty at the end.
  [[nodiscard]] Result<std::vector<vn::Dirent>> getdents(Proc& p, int fd, std::size_t max = 64);
  [[nodiscard]] Status chdir(Proc& p, std::string_view path);

  // --- names (syscalls_name.cc) ------------------------------------------
  [[nodiscard]] Status mkdir(Proc& p, std::string_view path, std::uint32_t mode);
  [[nodiscard]] Status mkdirat(Proc& p, int dirfd, std::string_view path, std::uint32_t mode);
  [[nodiscard]] Status rmdir(Proc& p, std::string_view path);
  [[nodiscard]] Status unlink(Proc& p, std::string_view path);
  [[nodiscard]] Status unlinkat(Proc& p, int dirfd, std::string_view path, int flags);
  [[nodiscard]] Status link(Proc& p, std::string_view oldpath, std::string_view newpath);
  [[nodiscard]] Status linkat(Proc& p, int olddirfd, std::string_view oldpath, int newdirfd,
                              std::string_view newpath, int flags);
  [[nodiscard]] Status symlink(Proc& p, std::string_view target, std::string_view linkpath);
  [[nodiscard]] Status symlinkat(Proc& p, std::string_view target, int newdirfd,
                                 std::string_view linkpath);
  [[nodiscard]] Result<std::string> readlink(Proc& p, std::string_view path,
                                             std::size_t bufsiz = 1024);
  [[nodiscard]] Result<std::string> readlinkat(Proc& p, int dirfd, std::string_view path,
                                               std::size_t bufsiz = 1024);
  [[nodiscard]] Status rename(Proc& p, std::string_view from, std::string_view to);
  [[nodiscard]] Status renameat(Proc& p, int fromdirfd, std::string_view from, int todirfd,
                                std::string_view to);
  // Linux's renameat2: RENAME_NOREPLACE fails with EEXIST when `to` exists
  // (decided with both directories locked); RENAME_EXCHANGE, RENAME_WHITEOUT
  // and unknown flags are EINVAL (not supported).
  [[nodiscard]] Status renameat2(Proc& p, int fromdirfd, std::string_view from, int todirfd,
                                 std::string_view to, unsigned flags);
  // mode carries the S_IF* type (S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK, S_IFREG or 0).
  [[nodiscard]] Status mknod(Proc& p, std::string_view path, std::uint32_t mode, std::uint64_t dev);
  [[nodiscard]] Status mknodat(Proc& p, int dirfd, std::string_view path, std::uint32_t mode,
                               std::uint64_t dev);
  [[nodiscard]] Status mkfifo(Proc& p, std::string_view path, std::uint32_t mode);
  // bind(2) of an AF_UNIX socket to `path`: a socket node (VSOCK, mode 0777
  // & ~umask) with that one name; EADDRINUSE when the name exists. The
  // socket itself is not modelled: the node stays, bound to no one.
  [[nodiscard]] Status bind_unix(Proc& p, std::string_view path);
  // connect(2) of an AF_UNIX socket to `path`: nothing ever listens, so a
  // socket node the caller may write answers ECONNREFUSED; a node that is
  // not a socket answers the personality's errno (connect_nonsocket_errno).
  [[nodiscard]] Status connect_unix(Proc& p, std::string_view path);

  // --- attributes (syscalls_attr.cc) -------------------------------------
  [[nodiscard]] Result<Stat> stat(Proc& p, std::string_view path);
  [[nodiscard]] Result<Stat> lstat(Proc& p, std::string_view path);
  [[nodiscard]] Result<Stat> fstat(Proc& p, int fd);
  [[nodiscard]] Result<Stat> fstatat(Proc& p, int dirfd, std::string_view path, int flags);
  [[nodiscard]] Status chmod(Proc& p, std::string_view path, std::uint32_t mode);
  [[nodiscard]] Status fchmod(Proc& p, int fd, std::uint32_t mode);
  // uid / gid of -1 (as unsigned) leave that field unchanged.
  [[nodiscard]] Status chown(Proc& p, std::string_view path, vn::Uid uid, vn::Gid gid);
  [[nodiscard]] Status fchown(Proc& p, int fd, vn::Uid uid, vn::Gid gid);
  [[nodiscard]] Status lchown(Proc& p, std::string_view path, vn::Uid uid, vn::Gid gid);
  // times: null for "both now"; else {atime, mtime}.
  [[nodiscard]] Status utimensat(Proc& p, int dirfd, std::string_view path, const Timespec* times,
                                 int flags);
  [[nodiscard]] Status access(Proc& p, std::string_view path, int mode);
  [[nodiscard]] Status faccessat(Proc& p, int dirfd, std::string_view path, int mode, int flags);
  [[nodiscard]] Result<vn::StatVfs> statvfs(Proc& p, std::string_view path);
  [[nodiscard]] Result<vn::StatVfs> fstatvfs(Proc& p, int fd);

  // --- extended attributes (xattr.cc) ------------------------------------
  // Linux API: the namespace comes from the name's prefix (user., trusted.,
  // system., security.); `follow` false is the l* variant.
  [[nodiscard]] Status setxattr(Proc& p, std::string_view path, std::string_view name,
                                std::string_view value, int flags, bool follow = true);
  [[nodiscard]] Result<std::string> getxattr(Proc& p, std::string_view path, std::string_view name,
                                             std::size_t size = 0, bool follow = true);
  [[nodiscard]] Result<std::vector<std::string>> listxattr(Proc& p, std::string_view path,
                                                           std::size_t size = 0,
                                                           bool follow = true);
  [[nodiscard]] Status removexattr(Proc& p, std::string_view path, std::string_view name,
                                   bool follow = true);
  [[nodiscard]] Status fsetxattr(Proc& p, int fd, std::string_view name, std::string_view value,
                                 int flags);
  [[nodiscard]] Result<std::string> fgetxattr(Proc& p, int fd, std::string_view name,
                                              std::size_t size = 0);
  [[nodiscard]] Result<std::vector<std::string>> flistxattr(Proc& p, int fd, std::size_t size = 0);
  [[nodiscard]] Status fremovexattr(Proc& p, int fd, std::string_view name);
  // BSD API (extattr_*_file; `follow` false is the *_link variant):
  // namespace 1 = user, 2 = system.
  [[nodiscard]] Result<std::size_t> extattr_set_file(Proc& p, std::string_view path,
                                                     int attrnamespace, std::string_view name,
                                                     std::string_view data, bool follow = true);
  [[nodiscard]] Result<std::string> extattr_get_file(Proc& p, std::string_view path,
                                                     int attrnamespace, std::string_view name,
                                                     bool follow = true);
  [[nodiscard]] Status extattr_delete_file(Proc& p, std::string_view path, int attrnamespace,
                                           std::string_view name, bool follow = true);
  [[nodiscard]] Result<std::vector<std::string>> extattr_list_file(Proc& p, std::string_view path,
                                                                   int attrnamespace,
                                                                   bool follow = true);

  // --- checks -----------------------------------------------------------
  // At teardown: every vnode's use count must equal the references the
  // kernel can name (open files, cwd and root of live processes, covered
  // mount points); one line per vnode that has more. Called in an lwp, it
  // first waits for quiescence (sim::Machine::quiesce): a reference or hold
  // of a daemon in the middle of its work, or of an lwp woken but not yet
  // run, is not a leak.
  [[nodiscard]] std::vector<std::string> unexplained_references();
  // Invariants of the VFS's own tables; "" when they hold.
  [[nodiscard]] std::string check_invariants() const;

  // --- for the syscall files --------------------------------------------
  // namei (namei.h) from `dirfd` (AT_FDCWD: the cwd) for relative paths.
  [[nodiscard]] Status namei(Proc& p, int dirfd, std::string_view path, int flags, Nameidata* nd);
  // The referenced directory a relative path starts from; EBADF, ENOTDIR.
  [[nodiscard]] Result<vn::Vnode*> start_dir(Proc& p, int dirfd, std::string_view path);
  [[nodiscard]] Result<OpenFile*> getfile(Proc& p, int fd);
  void putfile(OpenFile& f);
  void vrele(vn::Vnode& vp) { vcache_.vrele(vp); }
  void vref(vn::Vnode& vp) { vcache_.vref(vp); }
  [[nodiscard]] Result<vn::Vattr> getattr_locked(vn::Vnode& vp);
  [[nodiscard]] Result<vn::Vattr> getattr(vn::Vnode& vp);
  // The same into *va, for hot paths (stat) that need no Result copy.
  [[nodiscard]] Status getattr(vn::Vnode& vp, vn::Vattr* va);
  // Walks ".." from `dvp` to the root of its mount: *keys becomes the keys
  // of every directory on the way, `dvp` included (for rename's ancestry
  // checks).
  [[nodiscard]] Status ancestors(vn::Vnode& dvp, AncestorKeys* keys);
  // The open fifos' buffers and reader/writer counts (vfs/fifo.h).
  FifoTable& fifos() { return *fifos_; }

 private:
  // namei's walk; namei() asserts its exit contract around it.
  [[nodiscard]] Status namei_walk(Proc& p, int dirfd, std::string_view path, int flags,
                                  Nameidata* nd);
  [[nodiscard]] Status cross_into_mounts(vn::VRef& vp);
  [[nodiscard]] Status empty_path(Proc& p, int dirfd, Nameidata* nd);
  [[nodiscard]] Result<int> open_finish(Proc& p, vn::Vnode& vp, std::string_view path, int flags,
                                        bool created);
  [[nodiscard]] Status lookup_component(Proc& p, vn::VRef& cur, std::string_view comp,
                                        vn::VRef* child, bool cross_mounts);
  // The last reference went: VOP_CLOSE; returns its error (a kept
  // write-back error), which close(2) reports when it dropped that reference.
  [[nodiscard]] Status file_release(OpenFile& f);
  [[nodiscard]] Status unmount_mount(vn::Mount& mp, bool force);
  [[nodiscard]] Result<int> fd_alloc(Proc& p, OpenFile& f);
  // A new open file with the next id, holding one reference (the caller's).
  OpenFile& file_alloc(vn::Vnode& vp, int flags);
  // The open file with this id, or null.
  const OpenFile* find_file(std::uint64_t id) const;

  sim::Machine& machine_;
  const sim::LwpSlot proc_slot_;  // Lwp::slots: the lwp's Proc
  const vn::Cred kernel_cred_{};  // root: for the kernel's own lookups
  KernelOptions options_;
  const PersonalityRules* rules_;
  vn::Vcache vcache_;
  std::map<std::string, FsFactory, std::less<>> fs_types_;
  std::map<std::uint32_t, std::unique_ptr<vn::Mount>> mounts_;  // by id
  // Force-unmounted with vnodes still referenced: dead, then gone once the
  // last of them is freed; freed with the kernel.
  std::vector<std::unique_ptr<vn::Mount>> dead_mounts_;
  vn::Mount* root_mount_ = nullptr;
  // NetBSD's rootvnode: the root file system's root, referenced by the
  // kernel from the first process on until shutdown, so a process created
  // after a forced reclaim still gets it (dead: every lookup ENXIO).
  vn::Vnode* rootvnode_ = nullptr;
  std::uint32_t next_mount_id_ = 1;
  bool shut_down_ = false;
  sim::WaitChannel mount_change_;               // woken when an unmount finishes or fails
  std::map<int, std::unique_ptr<Proc>> procs_;  // by pid
  int next_pid_ = 1;
  // The open files in id order: ids only grow, so a new file goes last. A
  // released file leaves its slot empty (file null) until more than half
  // the slots are empty and they are squeezed out: releasing one of many
  // open files (a FUSE server holds one per node the host looked up) costs
  // no shift of every later slot.
  struct FileSlot {
    std::uint64_t id = 0;
    std::unique_ptr<OpenFile> file;  // null: released
  };
  std::vector<FileSlot> files_;
  std::size_t released_slots_ = 0;
  // Released OpenFile objects (id 0), reused by the next open(2) so that an
  // open allocates nothing once the kernel has seen as many files at once.
  std::vector<std::unique_ptr<OpenFile>> spare_files_;
  std::uint64_t next_file_id_ = 1;
  // Open fifos by (mount id, file-system key); empty once every file is closed.
  std::unique_ptr<FifoTable> fifos_;
};

}  // namespace vfsim::vfs
