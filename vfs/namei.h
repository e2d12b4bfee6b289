// namei: path name to vnode. The rules, in the order they apply:
//   - "" is ENOENT (with kEmptyPath: the start itself); a path of
//     PATH_MAX (1024) bytes or more, or a component longer than NAME_MAX
//     (255), is ENAMETOOLONG;
//   - an absolute path starts at the process root, a relative one at the
//     start directory (cwd or an *at descriptor);
//   - every directory searched needs search (x) permission: EACCES;
//   - a component that is not the last must be a directory: ENOTDIR, and
//     must exist: ENOENT;
//   - ".." at the process root stays there; ".." at the root of a mount
//     goes to the directory it covers first; a directory a file system is
//     mounted on is replaced by that file system's root (not as the last
//     component with kNoCrossMount);
//   - symlinks are followed in the middle of a path always, at the end with
//     kFollow or when a trailing slash follows; more than 32 expansions is
//     ELOOP; an empty link is ENOENT;
//   - a trailing slash requires the last component to be a directory
//     (ENOTDIR) once it exists.
// namei holds at most one vnode lock at a time (lock order, vnode.h).
//
// The contract at namei's exit, asserted at every return
// (namei_assert_exit below, a kernel assertion: a violation is a panic):
//   on entry      `nd` holds nothing (a fresh Nameidata); the caller holds
//                 no lock on a vnode the walk may meet (namei locks each
//                 directory it searches, so it would wait for itself).
//   on success    the result vnodes are referenced, each by one VRef in
//                 `nd`, and UNLOCKED: no flag asks namei for a locked leaf
//                 or parent (NetBSD's LOCKLEAF / LOCKPARENT), because every
//                 caller that locks redoes the lookup under its own lock
//                 anyway (the result is a hint there) or locks in a shared
//                 helper (getattr, setattr, truncate).
//                   without kWantParent: vp set, dvp empty, `last` the last
//                     component ("" for "/");
//                   with kWantParent: dvp set (then vp is the entry or
//                     empty when the name is absent, and `last` is a name
//                     other than "." and "..": dot_last false), or dvp empty
//                     and vp set with dot_last (the path ends in "/", "."
//                     or "..").
//   on error      `nd` holds nothing, and namei holds nothing it took: every
//                 reference it took is dropped and every lock it took is
//                 released on the way out (VRef / VnLock, vnode/vref.h).
// The caller owns what `nd` holds: it is dropped when `nd` goes out of
// scope (vp first, then dvp) or earlier with release(); a caller that keeps
// a vnode takes it with nd.vp.release().
#pragma once

#include <string>
#include <string_view>

#include "vfs/kernel.h"
#include "vnode/vref.h"

namespace vfsim::vfs {

inline constexpr int kFollow = 1;      // follow a symlink as the last component
inline constexpr int kWantParent = 2;  // return the parent and the last name
// Do not cross into a file system mounted on the last component: a covered
// directory comes back itself (unmount(2): NetBSD's NOCROSSMOUNT).
inline constexpr int kNoCrossMount = 4;
// An empty path names the start itself: the descriptor's node, of any type
// (Linux's AT_EMPTY_PATH), or the cwd. Not with kWantParent.
inline constexpr int kEmptyPath = 8;
inline constexpr int kSymlinkMax = 32;

struct Nameidata {
  Nameidata() = default;
  // `last` may point into `expanded`: a copy would point into the original.
  Nameidata(const Nameidata&) = delete;
  Nameidata& operator=(const Nameidata&) = delete;

  // With kWantParent: the directory holding `last`, referenced and unlocked;
  // empty when the path names no entry to create or remove ("/", or a last
  // component of "." or "..": then vp is that directory and dot_last is set).
  // Declared before vp: vp is dropped first when the Nameidata goes.
  vn::VRef dvp;
  // The named vnode, referenced and unlocked; with kWantParent it may be
  // empty (the name does not exist) and is only a hint: the caller looks the
  // name up again with dvp locked.
  vn::VRef vp;
  // The last component: a view into the path given to namei (which the
  // caller keeps for the whole call) or, after a symlink, into `expanded`.
  std::string_view last;
  bool trailing_slash = false;
  bool dot_last = false;
  // The path as rewritten by the latest symlink expansion; namei builds it
  // only when it follows a link, so most lookups copy no string at all.
  std::string expanded;

  // Drops the references namei returned now: vp, then dvp.
  void release() {
    vp.reset();
    dvp.reset();
  }
};

// The exit contract above, for a namei(flags) that returned `s` into `nd`:
// a kernel assertion on `m`. Called by namei at every return; public so a
// test can show that a violation panics.
void namei_assert_exit(sim::Machine& m, const Status& s, int flags, const Nameidata& nd);

}  // namespace vfsim::vfs
