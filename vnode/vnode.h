// struct vnode, the VOP vector every file system implements, and the mount
// a vnode belongs to.
//
// ---------------------------------------------------------------------------
// Lock order of the kernel (the one place it is written down)
// ---------------------------------------------------------------------------
//   1. Mount::rename_lock      (taken by rename(2) only, before any vnode lock;
//                               it serialises every rename on a mount, so the
//                               shape of the directory tree cannot change
//                               under a rename while it checks ancestry)
//   2. directory vnode locks   ancestor before descendant; two directories
//                               that are not related (rename's fdvp and tdvp)
//                               only while holding (1), which makes their
//                               order free: no one else holds two unrelated
//                               directories at once
//   3. non-directory vnode locks  after every directory lock the op needs
//                               (files are leaves: no one holds a file and
//                               then waits for a directory)
//   -  the vcache interlock    innermost, never held across a scheduling
//                               point (see vcache.h)
//   -  a fifo's mutex          (vfs/fifo.h) a leaf of its own: taken with
//                               no vnode lock held (fifo I/O and the wait in
//                               open(2) run unlocked) and never held while
//                               taking another lock
// namei() holds at most one vnode lock at a time (the directory it looks a
// name up in), so a path walk never waits for a lock while holding another.
// An lwp only ever locks a vnode it holds a use reference on; so a vnode with
// usecount 0 is unlocked, except by the vcache itself while it runs
// VOP_INACTIVE or VOP_RECLAIM.
//
// ---------------------------------------------------------------------------
// Which lock protects what
// ---------------------------------------------------------------------------
//   [i] immutable once the vnode left LOADING     [c] vcache interlock
//   [v] Vnode::lock (shared to read, exclusive to change)
//   [m] mount table (vfs/mount.cc), changed only with the covered vnode's
//       lock held exclusively
//
// The life cycle (state, usecount, holdcount, the lists) is drawn in
// vcache.h, next to the code that changes it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/sync.h"
#include "vnode/result.h"
#include "vnode/vattr.h"
#include "vnode/vop_list.h"

namespace vfsim::vn {

class Mount;
class Vnode;
class Vcache;

// The last component of a path, as a VOP sees it.
struct ComponentName {
  std::string_view name;
  const Cred& cred;
};

// ioflag bits of VOP_READ / VOP_WRITE.
inline constexpr int kIoAppend = 1;  // write at end of file (O_APPEND)
inline constexpr int kIoSync = 2;    // O_SYNC: write through
// The writer is not root: a write that stores bytes clears S_ISUID and
// S_ISGID (kill_priv_bits), as the file system writes (FUSE's
// FUSE_WRITE_KILL_SUIDGID, NetBSD's ffs_write).
inline constexpr int kIoKillPriv = 4;
inline constexpr int kIoKillSgidIfGexec = 8;  // with kIoKillPriv: S_ISGID only if g+x (Linux)

// The bits of `mode` that a write or chown by a non-root caller clears,
// given kIoKillPriv / kIoKillSgidIfGexec in `flags`; 0 without kIoKillPriv.
inline std::uint32_t kill_priv_bits(std::uint32_t mode, int flags) {
  if ((flags & kIoKillPriv) == 0) return 0;
  std::uint32_t bits = kSetUid;
  if ((flags & kIoKillSgidIfGexec) == 0 || (mode & 010) != 0) bits |= kSetGid;
  return mode & bits;
}

// fflags of VOP_OPEN / VOP_CLOSE.
inline constexpr int kFRead = 1;
inline constexpr int kFWrite = 2;

// The VOP vector. A file system derives from it and overrides the ops it
// supports; every other op answers default_error() — EOPNOTSUPP, like puffs'
// dummy ops. Vnodes are identified to the file system by their key (an inode
// number, a puffs cookie) and carry the file system's node in Vnode::data.
//
// Contract of every op (the VOP wrappers in vnode_if.h assert the locks):
//   op            locks held on entry                    result vnodes
//   lookup        dvp (shared ok)                        *vpp referenced, unlocked;
//                                                        ENOENT if absent; "." and
//                                                        ".." are the fs's to answer
//   create/mknod/ dvp exclusive; the name is absent     *vpp referenced, unlocked
//   mkdir/symlink (the VFS looked it up under the lock)
//   remove/rmdir  dvp, vp exclusive
//   link          dvp, vp exclusive; dvp and vp on one mount
//   rename        fdvp, fvp, tdvp, tvp (if any) exclusive; one mount; the
//                 VFS has checked every POSIX rule that needs no fs data
//   open/close/access/getattr/read/readdir/readlink/getextattr/listextattr
//                 vp (shared ok)
//   setattr/write/fsync/setextattr/deleteextattr
//                 vp exclusive
//   getpages      vp (shared ok), inside the read/write that pages in;
//                 the page is busy (called by VnodePager only)
//   putpages      no vnode lock (the page is busy; the lock's holder may be
//                 asleep for memory on this file): see vnode_pager.h
//   inactive      vp exclusive, usecount 0 (called by the vcache)
//   reclaim       vp exclusive, usecount 0 unless forced; must drop
//                 Vnode::data (called by the vcache)
//
// What some ops mean beyond their names:
//   access        acc: kAccRead | kAccWrite | kAccExec; EACCES when denied
//   read          appends up to `len` bytes from `offset` to *out; short at
//                 end of file
//   write         writes `data` at *offset (at end of file with kIoAppend,
//                 which updates *offset first), advances *offset past what it
//                 wrote and sets *written to that count. A write that stored
//                 some bytes and then met an error (the file system full, a
//                 disk error, the largest file size) stops there and returns
//                 kOk with the short count, as write(2) does; one that stored
//                 nothing returns the errno (ENOSPC, EIO, EFBIG), *written 0
//   readdir       entries from `cookie` on ("." and ".." first), at most `max`
//   inactive      the last reference went away; *recycle = true asks the
//                 vcache to reclaim the vnode now (e.g. the file has no names
//                 left). Default: keep
//   reclaim       forget the vnode: release Vnode::data. Default: nothing
//   getpages/     page I/O for the pager: `offset` page-aligned, whole pages;
//   putpages      bytes past the end of file read as zero and are not
//                 written back past it
//   *extattr      `name` is the stored name (prefix kept, see vfs/xattr.cc);
//                 the VFS checked permission and name length
//
// The list of VOPs, their parameters and lock contracts is written once, in
// vnode/vop_list.h; the methods below are generated from it.
class VnodeOps {
 public:
  // The types the VOP list's parameters name, visible by these names in a
  // file system's vector too (VFSIM_VOP_OVERRIDES below), whatever its
  // namespace.
  using Vnode = ::vfsim::vn::Vnode;
  using ComponentName = ::vfsim::vn::ComponentName;
  using Vattr = ::vfsim::vn::Vattr;
  using SetAttr = ::vfsim::vn::SetAttr;
  using Cred = ::vfsim::vn::Cred;
  using Dirent = ::vfsim::vn::Dirent;
  using XattrNs = ::vfsim::vn::XattrNs;
  using Status = ::vfsim::vn::Status;

  virtual ~VnodeOps() = default;
  // What an op the file system does not implement answers.
  virtual int default_error() const { return EOPNOTSUPP; }

  // One virtual method per VOP; UNSUPPORTED ones answer default_error(),
  // CUSTOM ones have their own default. Every default is defined out of
  // line (vnode_ops.cc): a body visible here lets the compiler guess it as
  // the target at every call through the vector (speculative
  // devirtualization), a compare and a branch in each VOP wrapper that
  // always miss for a file system that implements the op.
#define VFSIM_VOP_DECLARE_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  virtual Status name params;
  VFSIM_VOP_LIST(VFSIM_VOP_DECLARE_, _)
#undef VFSIM_VOP_DECLARE_

 protected:
  Status unsupported() const { return Status(default_error()); }

 private:
  template <class... A>
  Status unsupported_with(A&&...) const {
    return unsupported();
  }
};

// Inside a file system's VnodeOps subclass that implements every VOP (memfs,
// ext2): declares one override per entry of the VOP list, so a new VOP is a
// link error in each such vector until it is written there.
#define VFSIM_VOP_OVERRIDE_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  Status name params override;
#define VFSIM_VOP_OVERRIDES VFSIM_VOP_LIST(VFSIM_VOP_OVERRIDE_, _)

// The ops of a vnode whose file system is gone (forced unmount): everything
// answers ENXIO, inactive and reclaim succeed.
VnodeOps& dead_vnode_ops();

// The vfsops of one mounted file system instance. Made by the factory in
// the VFS's mount-by-type table (vfs/mount.h).
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Called by the VFS once the Mount exists, before any other op: the file
  // system reaches its vnodes through `vcache` (lookup calls vcache.get).
  void bind(Mount& mp, Vcache& vcache) {
    mount_ = &mp;
    vcache_ = &vcache;
  }
  Mount& mount() const { return *mount_; }
  Vcache& vcache() const { return *vcache_; }
  // False until bind(): a file system driven without a VFS (unit tests).
  bool bound() const { return mount_ != nullptr; }

  virtual std::string_view type_name() const = 0;
  // The key of the root directory.
  virtual std::uint64_t root_key() const = 0;
  // Fills a LOADING vnode for `key`: Vnode::type, ::op and ::data. May sleep.
  // ENOENT if there is no such node.
  virtual Status loadvnode(Vnode& vp, std::uint64_t key) = 0;
  virtual Status statvfs(StatVfs* out) = 0;
  virtual Status sync() { return kOk; }
  // Called after the vcache reclaimed every vnode of the mount.
  virtual Status unmount(bool force) { return kOk; }

 private:
  Mount* mount_ = nullptr;
  Vcache* vcache_ = nullptr;
};

// A mount's life. Every change goes through mount_state_change(mp, from,
// to), which asserts `from`, the edge, and the lock:
//
//      mount(2)                      flush + VFS_UNMOUNT ok,
//         │                          no vnode left
//         ▼        unmount(2)      ┌──────────────────────────────────┐
//   ┌─────────┐ ───────────────►┌──┴─────────┐                         ▼
//   │ MOUNTED │                 │ UNMOUNTING │                     ┌──────┐
//   └─────────┘ ◄───────────────└──┬─────────┘                     │ GONE │
//                unmount failed    │ forced, vnodes still          └──────┘
//                (EBUSY, ...)      │ referenced                        ▲
//                                  ▼                                   │
//                              ┌──────┐    its last vnode is freed     │
//                              │ DEAD │ ───────────────────────────────┘
//                              └──────┘
//
// The edges out of MOUNTED and UNMOUNTING are taken with the covered vnode
// locked exclusively (the root file system has none: shutdown takes them);
// DEAD → GONE is taken by the vcache under its interlock, when it frees the
// mount's last vnode.
enum class MountState : std::uint8_t {
  mounted,     // in the mount table; namei crosses into it
  unmounting,  // unmount in progress: namei waits, a vnode released now is reclaimed
  dead,        // out of the table; only dead (reclaimed) vnodes, still referenced, remain
  gone,        // no vnode left: freed by the VFS (a dead one with the kernel)
};
const char* mount_state_name(MountState s);

// A mounted file system. Owned by the VFS mount table; the vcache only reads
// its id and state and calls its FileSystem.
class Mount {
 public:
  Mount(sim::Machine& m, std::uint32_t id, std::unique_ptr<FileSystem> fs);
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  std::uint32_t id() const { return id_; }  // [i]
  FileSystem& fs() const { return *fs_; }   // [i]
  sim::Machine& machine() const { return machine_; }

  MountState state() const { return state_; }  // [m], DEAD → GONE [c]

  Vnode* covered = nullptr;   // [m] referenced while mounted; null for "/"
  std::string path;           // [m] where it is mounted, for reports
  std::uint64_t nvnodes = 0;  // [c] vnodes of this mount in the vcache
  sim::Mutex rename_lock;     // lock order (1)

 private:
  friend void mount_state_change(Mount& mp, MountState from, MountState to);
  MountState state_ = MountState::mounted;
  sim::Machine& machine_;
  std::uint32_t id_;
  std::unique_ptr<FileSystem> fs_;
};

// The one way a mount changes state (the diagram above).
void mount_state_change(Mount& mp, MountState from, MountState to);

// The vnode life-cycle states; the transitions are drawn in vcache.h.
enum class VState : std::uint8_t {
  loading,     // being filled by FileSystem::loadvnode; others wait
  active,      // usecount > 0, on the active list
  inactive,    // last reference gone, VOP_INACTIVE running; others wait
  cached,      // usecount 0, on the free list (LRU), revivable by vcache get
  reclaiming,  // VOP_RECLAIM running; others wait and then look up again
  reclaimed,   // out of the hash; freed when its use and hold counts are 0
};
const char* vstate_name(VState s);

// Which vcache list a vnode is on: at most one, by construction.
enum class VList : std::uint8_t { none, active, free };

class Vnode {
 public:
  Vnode(sim::Machine& m, Vcache& vc, Mount& mp, std::uint64_t key, std::uint64_t serial);
  Vnode(const Vnode&) = delete;
  Vnode& operator=(const Vnode&) = delete;

  Mount& mount() const { return *mount_; }     // [i]
  Vcache& vcache() const { return *vcache_; }  // [i] the cache that made it (VRef's vrele)
  std::uint64_t key() const { return key_; }   // [i]
  // Allocation order in the machine: used for stable lock orders and
  // reports, never a pointer value.
  std::uint64_t serial() const { return serial_; }  // [i]
  sim::Machine& machine() const { return lock.machine(); }
  bool is_root() const;  // [i]
  bool is_dir() const { return type == VType::VDIR; }
  std::string describe() const;  // "m1:17 (VREG, active, use 1)"

  VType type = VType::VNON;  // [i] set by loadvnode
  VnodeOps* op = nullptr;    // [i] set by loadvnode; dead ops once reclaimed
  void* data = nullptr;      // [v] the file system's node; null once reclaimed

  // Life cycle, all [c].
  VState state = VState::loading;
  std::uint32_t usecount = 0;   // references that may use and lock the vnode
  std::uint32_t holdcount = 0;  // references that only keep the memory
  VList list = VList::none;
  std::uint64_t lru_seq = 0;  // position on the free list

  // The vcache's own links, [c]; nothing else touches them. Intrusive, so a
  // vnode going inactive and back allocates nothing.
  struct Links {
    Vnode* prev = nullptr;
    Vnode* next = nullptr;
  };
  Links all_links;             // every vnode, in serial order
  Links free_links;            // the free list, least recently used first
  Vnode* hash_next = nullptr;  // the hash chain

  Mount* mountedhere = nullptr;  // [m] a file system mounted on this directory
  sim::RwLock lock;              // the vnode lock, order (2)/(3)

 private:
  Vcache* vcache_;
  Mount* mount_;
  std::uint64_t key_;
  std::uint64_t serial_;
};

// Locks a vnode; shared or exclusive. The vnode must be referenced.
void vn_lock(Vnode& vp, bool exclusive);
void vn_unlock(Vnode& vp);
inline bool vn_locked_exclusive(const Vnode& vp) { return vp.lock.held_exclusive_by_me(); }
inline bool vn_locked(const Vnode& vp) { return vp.lock.held_by_me(); }

// The permission check every file system shares (NetBSD genfs_can_access):
// owner, group or other bits; root may read and write anything and execute
// anything with at least one execute bit or that is a directory.
Status vaccess(VType type, std::uint32_t mode, Uid uid, Gid gid, int acc, const Cred& cred);

}  // namespace vfsim::vn
