// namei: the rules are listed in namei.h.
#include "vfs/namei.h"

#include <fcntl.h>

#include "vnode/vnode_if.h"

namespace vfsim::vfs {

void Nameidata::release(Kernel& k) {
  if (vp != nullptr) k.vrele(*vp);
  if (dvp != nullptr) k.vrele(*dvp);
  vp = dvp = nullptr;
}

Result<vn::Vnode*> Kernel::start_dir(Proc& p, int dirfd, std::string_view path) {
  vn::Vnode* vp = nullptr;
  if (!path.empty() && path[0] == '/') {
    vp = p.root;
  } else if (dirfd == AT_FDCWD) {
    vp = p.cwd;
  } else {
    auto f = getfile(p, dirfd);
    if (!f.ok()) return f.status();
    vp = (*f)->vp;
    vref(*vp);  // before putfile: a concurrent close may drop the file's reference
    putfile(**f);
    if (vp->type != vn::VType::VDIR) {
      vrele(*vp);
      return Status(ENOTDIR);
    }
    return vp;
  }
  vref(*vp);
  return vp;
}

// namei of "" with kEmptyPath: the descriptor's node (any type) or the cwd.
Status Kernel::empty_path(Proc& p, int dirfd, Nameidata* nd) {
  vn::Vnode* vp = p.cwd;
  if (dirfd != AT_FDCWD) {
    auto f = getfile(p, dirfd);
    if (!f.ok()) return f.status();
    vp = (*f)->vp;
    vref(*vp);  // before putfile, as start_dir
    putfile(**f);
  } else {
    vref(*vp);
  }
  nd->vp = vp;
  return vn::kOk;
}

// Replaces a directory something is mounted on by the mounted root, as often
// as mounts are stacked. Waits while such a mount is being unmounted.
Result<vn::Vnode*> Kernel::cross_into_mounts(vn::Vnode* vp) {
  while (vp->type == vn::VType::VDIR && vp->mountedhere != nullptr) {
    vn::Mount* mp = vp->mountedhere;
    if (mp->state() == vn::MountState::unmounting) {
      mount_change_.sleep("unmount");
      continue;
    }
    auto root = vcache_.get(*mp, mp->fs().root_key());
    if (!root.ok()) {
      vrele(*vp);
      return root.status();
    }
    vrele(*vp);
    vp = *root;
  }
  return vp;
}

// Looks `comp` up in `cur` (referenced, unlocked): search permission first,
// ".." across the root of a mount and at the process root, and into a mount
// on the result when `cross_mounts`. On success *child is referenced; `cur`
// may have been replaced (still referenced).
Status Kernel::lookup_component(Proc& p, vn::Vnode*& cur, std::string_view comp, vn::Vnode** child,
                                bool cross_mounts) {
  std::string_view name = comp;
  if (comp == "..") {
    if (cur == p.root) {
      name = ".";
    } else {
      while (cur->is_root() && cur->mount().covered != nullptr) {
        vn::Vnode* covered = cur->mount().covered;
        vref(*covered);
        vrele(*cur);
        cur = covered;
      }
    }
  }
  if (cur->type != vn::VType::VDIR) return Status(ENOTDIR);
  vn::vn_lock(*cur, false);
  vn::ComponentName cn{name, p.cred};
  Status s = vn::vop_access(*cur, vn::kAccExec, p.cred);
  if (s.ok()) s = vn::vop_lookup(*cur, cn, child);
  vn::vn_unlock(*cur);
  if (!s.ok()) return s;
  // The common case: no mount to cross.
  if ((*child)->mountedhere == nullptr || !cross_mounts) return vn::kOk;
  auto crossed = cross_into_mounts(*child);
  if (!crossed.ok()) {
    *child = nullptr;
    return crossed.status();
  }
  *child = *crossed;
  return vn::kOk;
}

namespace {

// Reads a symlink's target for expansion.
Status read_link(vn::Vnode& vp, std::string* target) {
  vn::vn_lock(vp, false);
  Status s = vn::vop_readlink(vp, target);
  vn::vn_unlock(vp);
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
Status Kernel::namei(Proc& p, int dirfd, std::string_view path, int flags, Nameidata* nd) {
  nd->dvp = nd->vp = nullptr;
  nd->last = {};
  nd->trailing_slash = nd->dot_last = false;
  if (path.empty()) {
    if ((flags & kEmptyPath) == 0 || (flags & kWantParent) != 0) return Status(ENOENT);
    return empty_path(p, dirfd, nd);
  }
  if (path.size() >= vn::kPathMax) return Status(ENAMETOOLONG);
  auto start = start_dir(p, dirfd, path);
  if (!start.ok()) return start.status();
  vn::Vnode* cur = *start;  // referenced
  std::string_view rest = path;
  int links = 0;
  for (;;) {
    rest.remove_prefix(leading_slashes(rest));
    if (rest.empty()) {  // "/" (or a symlink to it): the directory itself
      nd->vp = cur;
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
    if (comp.size() > vn::kNameMax) {
      vrele(*cur);
      return Status(ENAMETOOLONG);
    }
    const bool dot = comp == "." || comp == "..";
    vn::Vnode* child = nullptr;
    Status s = lookup_component(p, cur, comp, &child, !is_last || (flags & kNoCrossMount) == 0);
    const bool want_parent = is_last && (flags & kWantParent) != 0 && !dot;
    if (!s.ok() && !(want_parent && s.err() == ENOENT)) {
      vrele(*cur);
      return s;
    }
    if (child != nullptr && child->type == vn::VType::VLNK &&
        (!is_last || (flags & kFollow) != 0 || trailing)) {
      std::string target;
      Status ls = ++links > kSymlinkMax ? Status(ELOOP) : read_link(*child, &target);
      vrele(*child);
      if (!ls.ok()) {
        vrele(*cur);
        return ls;
      }
      if (target.size() + tail.size() >= vn::kPathMax) {  // tail keeps a trailing slash
        vrele(*cur);
        return Status(ENAMETOOLONG);
      }
      if (target[0] == '/') {
        vrele(*cur);
        cur = p.root;
        vref(*cur);
      }
      // `tail` may point into nd->expanded: append before replacing it.
      target.append(tail);
      nd->expanded.swap(target);
      rest = nd->expanded;
      continue;
    }
    if (child != nullptr && trailing && child->type != vn::VType::VDIR) {
      vrele(*child);
      vrele(*cur);
      return Status(ENOTDIR);
    }
    if (want_parent) {
      nd->dvp = cur;
      nd->vp = child;
      nd->last = comp;
      nd->trailing_slash = trailing;
      return vn::kOk;
    }
    vrele(*cur);
    cur = child;
    if (is_last) {
      nd->vp = cur;
      nd->last = comp;
      nd->trailing_slash = trailing;
      nd->dot_last = dot;
      return vn::kOk;
    }
    rest = tail.substr(slashes);
  }
}

}  // namespace vfsim::vfs
