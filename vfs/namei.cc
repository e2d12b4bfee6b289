// namei: the rules are listed in namei.h.
#include "vfs/namei.h"

#include <fcntl.h>

#include "vnode/vnode_if.h"

namespace vfsim::vfs {

namespace {

// A vnode namei hands back: referenced, and not locked by the caller (the
// common case, no holder at all, is tested first).
bool returned_ok(const vn::Vnode& vp) {
  return vp.usecount > 0 && (!vp.lock.held() || !vp.lock.held_by_me());
}

// The contract of namei.h, as one test.
bool exit_ok(const Status& s, int flags, const Nameidata& nd) {
  if (!s.ok()) return !nd.vp && !nd.dvp;
  const bool shape = (flags & kWantParent) == 0 ? nd.vp && !nd.dvp
                     : nd.dvp                   ? !nd.dot_last
                                                : nd.vp && nd.dot_last;
  return shape && (!nd.vp || returned_ok(*nd.vp)) && (!nd.dvp || returned_ok(*nd.dvp));
}

// What a failed exit check reports: which rule, and the Nameidata.
[[gnu::cold]] std::string describe_exit(const Status& s, int flags, const Nameidata& nd) {
  std::string out;
  if (!s.ok()) {
    out = "holds a reference after an error";
  } else if ((nd.vp && !returned_ok(*nd.vp)) || (nd.dvp && !returned_ok(*nd.dvp))) {
    out = "a result is unreferenced or locked";
  } else {
    out = "results not as the flags ask";
  }
  out += ": namei(flags " + std::to_string(flags) + ") returned errno " + std::to_string(s.err()) +
         ", dvp ";
  out += nd.dvp ? nd.dvp->describe() : "none";
  out += ", vp ";
  out += nd.vp ? nd.vp->describe() : "none";
  out += ", last \"" + std::string(nd.last) + "\"";
  return out;
}

}  // namespace

void namei_assert_exit(sim::Machine& m, const Status& s, int flags, const Nameidata& nd) {
  VFSIM_KASSERT(m, exit_ok(s, flags, nd), "namei exit: " + describe_exit(s, flags, nd));
}

Result<vn::Vnode*> Kernel::start_dir(Proc& p, int dirfd, std::string_view path) {
  if (!path.empty() && path[0] == '/') {
    vref(*p.root);
    return p.root;
  }
  if (dirfd == AT_FDCWD) {
    vref(*p.cwd);
    return p.cwd;
  }
  auto f = getfile(p, dirfd);
  if (!f.ok()) return f.status();
  // Before putfile: a concurrent close may drop the file's reference.
  vn::VRef vp = vn::VRef::ref(*(*f)->vp);
  putfile(**f);
  if (vp->type != vn::VType::VDIR) {
    vp.reset();
    return Status(ENOTDIR);
  }
  return vp.release();
}

// namei of "" with kEmptyPath: the descriptor's node (any type) or the cwd.
Status Kernel::empty_path(Proc& p, int dirfd, Nameidata* nd) {
  if (dirfd == AT_FDCWD) {
    nd->vp = vn::VRef::ref(*p.cwd);
    return vn::kOk;
  }
  auto f = getfile(p, dirfd);
  if (!f.ok()) return f.status();
  nd->vp = vn::VRef::ref(*(*f)->vp);  // before putfile, as start_dir
  putfile(**f);
  return vn::kOk;
}

// Replaces a directory something is mounted on by the mounted root, as often
// as mounts are stacked. Waits while such a mount is being unmounted. On an
// error `vp` is dropped.
Status Kernel::cross_into_mounts(vn::VRef& vp) {
  while (vp->type == vn::VType::VDIR && vp->mountedhere != nullptr) {
    vn::Mount* mp = vp->mountedhere;
    if (mp->state() == vn::MountState::unmounting) {
      mount_change_.sleep("unmount");
      continue;
    }
    auto root = vcache_.get(*mp, mp->fs().root_key());
    if (!root.ok()) {
      vp.reset();
      return root.status();
    }
    vp = vn::VRef::adopt(**root);  // drops the covered directory
  }
  return vn::kOk;
}

// Looks `comp` up in `cur` (referenced, unlocked): search permission first,
// ".." across the root of a mount and at the process root, and into a mount
// on the result when `cross_mounts`. On success *child (empty on entry)
// holds the result; `cur` may have been replaced (still referenced). On an
// error *child is empty. Holds `cur`'s lock, shared, only around the VOPs.
// Inlined into the walk, its only caller: a call per component is a
// noticeable share of namei's cost.
[[gnu::always_inline]] inline Status Kernel::lookup_component(Proc& p, vn::VRef& cur,
                                                              std::string_view comp,
                                                              vn::VRef* child, bool cross_mounts) {
  std::string_view name = comp;
  if (comp == "..") {
    if (cur == p.root) {
      name = ".";
    } else {
      while (cur->is_root() && cur->mount().covered != nullptr) {
        cur = vn::VRef::ref(*cur->mount().covered);  // vref, then vrele the old
      }
    }
  }
  if (cur->type != vn::VType::VDIR) return Status(ENOTDIR);
  vn::ComponentName cn{name, p.cred};
  vn::Vnode* found = nullptr;
  vn::VnLock lock(*cur, vn::LK_SH);
  Status s = vn::vop_access(*cur, vn::kAccExec, p.cred);
  if (s.ok()) s = vn::vop_lookup(*cur, cn, &found);
  lock.unlock();
  if (!s.ok()) return s;
  *child = vn::VRef::adopt(*found);
  // The common case: no mount to cross.
  if (found->mountedhere == nullptr || !cross_mounts) return vn::kOk;
  return cross_into_mounts(*child);
}

namespace {

// Reads a symlink's target for expansion.
Status read_link(vn::Vnode& vp, std::string* target) {
  vn::VnLock lock(vp, vn::LK_SH);
  Status s = vn::vop_readlink(vp, target);
  lock.unlock();
  if (s.ok() && target->empty()) return Status(ENOENT);
  return s;
}

// The number of '/' at the start of `s`.
std::size_t leading_slashes(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] == '/') ++n;
  return n;
}

}  // namespace

// The walk keeps `rest`, the part of the path still to look up, as a view:
// into `path` until a symlink is expanded, then into nd->expanded. Only an
// expansion builds a string; components are views into `rest`.
//
// Every reference the walk takes is a VRef and every lock a VnLock, so an
// early return drops what it holds. The order of the vrele calls is the
// order of the hand-written code this replaced (they are scheduling points):
// where two go at one return, the inner scope's `child` goes before `cur`.
[[gnu::always_inline]] inline Status Kernel::namei_walk(Proc& p, int dirfd, std::string_view path,
                                                        int flags, Nameidata* nd) {
  if (path.empty()) {
    if ((flags & kEmptyPath) == 0 || (flags & kWantParent) != 0) return Status(ENOENT);
    return empty_path(p, dirfd, nd);
  }
  if (path.size() >= vn::kPathMax) return Status(ENAMETOOLONG);
  vn::VRef cur;
  if (path[0] == '/') {  // start_dir's common cases, inline
    cur = vn::VRef::ref(*p.root);
  } else if (dirfd == AT_FDCWD) {
    cur = vn::VRef::ref(*p.cwd);
  } else {
    auto start = start_dir(p, dirfd, path);
    if (!start.ok()) return start.status();
    cur = vn::VRef::adopt(**start);
  }
  std::string_view rest = path;
  int links = 0;
  for (;;) {
    rest.remove_prefix(leading_slashes(rest));
    if (rest.empty()) {  // "/" (or a symlink to it): the directory itself
      nd->vp = std::move(cur);
      nd->dot_last = true;
      return vn::kOk;
    }
    std::size_t end = 0;
    while (end < rest.size() && rest[end] != '/') ++end;
    const std::string_view comp = rest.substr(0, end);
    const std::string_view tail = rest.substr(end);  // from the slash after comp on
    const std::size_t slashes = leading_slashes(tail);
    const bool is_last = slashes == tail.size();
    const bool trailing = is_last && !tail.empty();
    if (comp.size() > vn::kNameMax) return Status(ENAMETOOLONG);
    const bool dot = comp == "." || comp == "..";
    vn::VRef child;
    Status s = lookup_component(p, cur, comp, &child, !is_last || (flags & kNoCrossMount) == 0);
    const bool want_parent = is_last && (flags & kWantParent) != 0 && !dot;
    if (!s.ok() && !(want_parent && s.err() == ENOENT)) return s;
    if (child && child->type == vn::VType::VLNK &&
        (!is_last || (flags & kFollow) != 0 || trailing)) {
      std::string target;
      Status ls = ++links > kSymlinkMax ? Status(ELOOP) : read_link(*child, &target);
      child.reset();
      if (!ls.ok()) return ls;
      if (target.size() + tail.size() >= vn::kPathMax) {  // tail keeps a trailing slash
        return Status(ENAMETOOLONG);
      }
      if (target[0] == '/') {
        cur.reset();  // before the vref, as the walk always did
        cur = vn::VRef::ref(*p.root);
      }
      // `tail` may point into nd->expanded: append before replacing it.
      target.append(tail);
      nd->expanded.swap(target);
      rest = nd->expanded;
      continue;
    }
    if (child && trailing && child->type != vn::VType::VDIR) {
      return Status(ENOTDIR);  // drops child, then cur
    }
    if (want_parent) {
      nd->dvp = std::move(cur);
      nd->vp = std::move(child);
      nd->last = comp;
      nd->trailing_slash = trailing;
      return vn::kOk;
    }
    cur = std::move(child);  // drops the directory
    if (is_last) {
      nd->vp = std::move(cur);
      nd->last = comp;
      nd->trailing_slash = trailing;
      nd->dot_last = dot;
      return vn::kOk;
    }
    rest = tail.substr(slashes);
  }
}

Status Kernel::namei(Proc& p, int dirfd, std::string_view path, int flags, Nameidata* nd) {
  VFSIM_KASSERT(machine_, !nd->vp && !nd->dvp, "namei into a Nameidata that holds references");
  nd->last = {};
  nd->trailing_slash = nd->dot_last = false;
  const Status s = namei_walk(p, dirfd, path, flags, nd);
  // After the walk's scope: what it dropped on the way out is gone.
  VFSIM_KASSERT(machine_, exit_ok(s, flags, *nd), "namei exit: " + describe_exit(s, flags, *nd));
  return s;
}

}  // namespace vfsim::vfs
