// rename(2), renameat(2) and Linux's renameat2(2) with RENAME_NOREPLACE.
//
// The hard one (NetBSD genfs_rename.c; the FFS rename race kern/40948 was a
// rename whose source was removed half way). The steps:
//   1. namei both parents (unlocked, referenced); EXDEV across mounts;
//   2. take the mount's rename lock: no other rename can change the shape
//      of the tree now, so ancestry is stable;
//   3. walk ".." up from both parents to learn their ancestors;
//   4. lock the parents, ancestor first (unrelated: any order, safe under
//      the rename lock: see the lock order in vnode.h);
//   5. look both names up again under the locks: the source may be gone
//      (ENOENT) — this is where kern/40948 bit: a locking mistake in this
//      error branch, which the knob vfs.rename_lost_source_unlock=false puts
//      back — and the target may have appeared or vanished;
//   6. check every POSIX rule, lock the source and target, VOP_RENAME.
#include <fcntl.h>
#include <stdio.h>  // RENAME_NOREPLACE

#include <algorithm>

#include "vfs/namei.h"
#include "vfs/vfs_subr.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

namespace {

bool contains(const AncestorKeys& keys, std::uint64_t key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

struct RenameArgs {
  vn::Vnode& fdvp;
  std::string_view fname;
  vn::Vnode& tdvp;
  std::string_view tname;
  bool trailing_slash;
  const AncestorKeys& fanc;  // ancestors of fdvp, itself included
  const AncestorKeys& tanc;  // ancestors of tdvp, itself included
  bool noreplace = false;    // RENAME_NOREPLACE: an existing target is EEXIST
};

// Rules that need only the (immutable) types and the ancestry.
Status rename_shape_checks(const RenameArgs& a, vn::Vnode& fvp, vn::Vnode* tvp) {
  const bool fdir = fvp.type == vn::VType::VDIR;
  if (a.trailing_slash && !fdir) return Status(ENOTDIR);
  if (fdir && contains(a.tanc, fvp.key())) return Status(EINVAL);  // into itself
  if (tvp != nullptr) {
    const bool tdir = tvp->type == vn::VType::VDIR;
    if (tdir && contains(a.fanc, tvp->key())) return Status(ENOTEMPTY);  // holds the source
    if (fdir && !tdir) return Status(ENOTDIR);
    if (!fdir && tdir) return Status(EISDIR);
    if (tvp->mountedhere != nullptr) return Status(EBUSY);
  }
  if (fvp.mountedhere != nullptr) return Status(EBUSY);
  return vn::kOk;
}

// Rules that need attributes; fvp and tvp are locked.
Status rename_attr_checks(Proc& p, const RenameArgs& a, vn::Vnode& fvp, vn::Vnode* tvp) {
  // VOP_GETATTR straight into locals: no Result<Vattr> copies on this path.
  vn::Vattr fda, tda, fa;
  const Status fds = vn::vop_getattr(a.fdvp, &fda);
  const Status tds = vn::vop_getattr(a.tdvp, &tda);
  const Status fs = vn::vop_getattr(fvp, &fa);
  if (!fds.ok() || !tds.ok() || !fs.ok()) return Status(EIO);
  if (sticky_denies(p.cred, fda, fa)) return Status(EPERM);
  if (tvp != nullptr) {
    vn::Vattr ta;
    VN_TRY(vn::vop_getattr(*tvp, &ta));
    if (sticky_denies(p.cred, tda, ta)) return Status(EPERM);
  }
  if (fvp.type == vn::VType::VDIR && &a.fdvp != &a.tdvp) {
    return vn::vop_access(fvp, vn::kAccWrite, p.cred);  // its ".." changes
  }
  return vn::kOk;
}

// Steps 5 and 6, with both parents locked.
Status rename_locked(Kernel& k, Proc& p, const RenameArgs& a) {
  vn::Vnode* fvp = nullptr;
  vn::Vnode* tvp = nullptr;
  Status s = relookup(p, a.fdvp, a.fname, &fvp);
  if (s.ok() && fvp == nullptr) s = Status(ENOENT);
  if (s.err() == ENOENT && !k.options().rename_lost_source_unlock) {
    // kern/40948 as the kernel had it (vfs.rename_lost_source_unlock=false):
    // the error branch for a source removed during the window releases the
    // source directory itself, then takes the common exit below, which
    // releases it a second time: a panic on a lock this lwp no longer holds.
    vn::vn_unlock(a.fdvp);
  }
  if (s.ok()) s = relookup(p, a.tdvp, a.tname, &tvp);
  if (s.ok() && a.noreplace && tvp != nullptr) s = Status(EEXIST);
  const bool same_file = s.ok() && fvp == tvp;  // two names of one file: nothing to do
  if (s.ok() && !same_file) s = dir_writable(p, a.fdvp);
  if (s.ok() && !same_file) s = dir_writable(p, a.tdvp);
  if (s.ok() && !same_file) s = rename_shape_checks(a, *fvp, tvp);
  if (s.ok() && !same_file) {
    vn::vn_lock(*fvp, true);
    if (tvp != nullptr) vn::vn_lock(*tvp, true);
    s = rename_attr_checks(p, a, *fvp, tvp);
    if (s.ok()) {
      s = vn::vop_rename(a.fdvp, *fvp, {a.fname, p.cred}, a.tdvp, tvp, {a.tname, p.cred});
    }
    if (tvp != nullptr) vn::vn_unlock(*tvp);
    vn::vn_unlock(*fvp);
  }
  vn::vn_unlock(a.fdvp);
  if (&a.tdvp != &a.fdvp) vn::vn_unlock(a.tdvp);
  if (fvp != nullptr) k.vrele(*fvp);
  if (tvp != nullptr) k.vrele(*tvp);
  return s;
}

// Step 4: the parents, ancestor first.
void lock_parents(const RenameArgs& a) {
  if (&a.fdvp == &a.tdvp) {
    vn::vn_lock(a.fdvp, true);
  } else if (contains(a.fanc, a.tdvp.key())) {  // tdvp is above fdvp
    vn::vn_lock(a.tdvp, true);
    vn::vn_lock(a.fdvp, true);
  } else {  // fdvp above tdvp, or unrelated (free order under the rename lock)
    vn::vn_lock(a.fdvp, true);
    vn::vn_lock(a.tdvp, true);
  }
}

Status rename_dot_error(Kernel& k, const Nameidata& nd) {
  return Status(nd.last.empty() ? EBUSY : k.rules().rename_dot_errno);
}

}  // namespace

Status Kernel::ancestors(vn::Vnode& dvp, AncestorKeys* keys) {
  keys->clear();
  vn::VRef cur = vn::VRef::ref(dvp);
  while (!cur->is_root()) {
    keys->push_back(cur->key());
    vn::Vnode* parent = nullptr;
    vn::VnLock lock(*cur, vn::LK_SH);
    Status s = vn::vop_lookup(*cur, {"..", kernel_cred_}, &parent);
    lock.unlock();
    cur = vn::VRef::adopt(parent);  // drops the child; empty on an error
    if (!s.ok()) return s;          // a removed directory has no ".."
    VFSIM_KASSERT(machine_, keys->size() <= 1'000'000, "'..' chain does not reach the root");
  }
  keys->push_back(cur->key());
  cur.reset();
  return vn::kOk;
}

Status Kernel::rename(Proc& p, std::string_view from, std::string_view to) {
  return renameat(p, AT_FDCWD, from, AT_FDCWD, to);
}

Status Kernel::renameat(Proc& p, int fromdirfd, std::string_view from, int todirfd,
                        std::string_view to) {
  return renameat2(p, fromdirfd, from, todirfd, to, 0);
}

Status Kernel::renameat2(Proc& p, int fromdirfd, std::string_view from, int todirfd,
                         std::string_view to, unsigned flags) {
  if ((flags & ~static_cast<unsigned>(RENAME_NOREPLACE)) != 0) return Status(EINVAL);
  Nameidata fnd, tnd;
  VN_TRY(namei(p, fromdirfd, from, kWantParent, &fnd));
  Status s = namei(p, todirfd, to, kWantParent, &tnd);
  if (s.ok() && fnd.dvp == nullptr) s = rename_dot_error(*this, fnd);
  if (s.ok() && tnd.dvp == nullptr) s = rename_dot_error(*this, tnd);
  if (s.ok() && &fnd.dvp->mount() != &tnd.dvp->mount()) s = Status(EXDEV);
  if (s.ok()) {
    fnd.vp.reset();  // only hints: looked up again under the locks
    tnd.vp.reset();
    vn::Mount& mp = fnd.dvp->mount();
    mp.rename_lock.lock();
    AncestorKeys fanc, tanc;
    s = ancestors(*fnd.dvp, &fanc);
    if (s.ok()) s = ancestors(*tnd.dvp, &tanc);
    if (s.ok()) {
      RenameArgs a{*fnd.dvp,
                   fnd.last,
                   *tnd.dvp,
                   tnd.last,
                   fnd.trailing_slash || tnd.trailing_slash,
                   fanc,
                   tanc,
                   (flags & RENAME_NOREPLACE) != 0};
      machine_.sched_point("rename.window");  // kern/40948: the source may go here
      lock_parents(a);
      s = rename_locked(*this, p, a);
    }
    mp.rename_lock.unlock();
  }
  // fnd before tnd, as always (the end of the scope would drop tnd first).
  fnd.release();
  tnd.release();
  return s;
}

}  // namespace vfsim::vfs
