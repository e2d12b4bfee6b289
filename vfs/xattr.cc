// Extended attributes, both APIs, mapped as the PERFUSE paper describes
// (section 4.1.1): the BSD API names a namespace by integer (user, system);
// the Linux API by a name prefix. Names with the trusted., system. and
// security. prefixes are stored in the system namespace, everything else in
// the user namespace, and the prefix is kept in the stored name, so the
// Linux API returns every name exactly as it was given. The BSD API uses
// (namespace, name) as stored: extattr_get_file(user, "user.a") reads what
// setxattr("user.a") wrote. An unknown Linux prefix is the one personality
// difference here (personality.h).
//
// Permissions: the system namespace is root's (EPERM); the user namespace
// needs read or write permission on the file (EACCES) and exists only on
// regular files and directories (EPERM). Missing attribute: ENODATA (which
// is ENOATTR on NetBSD). Value over 64 KiB: E2BIG.
#include <fcntl.h>
#include <sys/xattr.h>

#include "vfs/namei.h"
#include "vfs/vfs_subr.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

namespace {

struct XattrName {
  vn::XattrNs ns;
  std::string stored;
};

bool has_prefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The Linux API's name: ERANGE for empty or too long, EINVAL for a bare
// prefix, the namespace by prefix.
Result<XattrName> linux_name(const PersonalityRules& rules, std::string_view name) {
  if (name.empty() || name.size() > vn::kXattrNameMax) return Status(ERANGE);
  for (std::string_view sys : {"trusted.", "system.", "security."}) {
    if (has_prefix(name, sys)) {
      if (name.size() == sys.size()) return Status(EINVAL);
      return XattrName{vn::XattrNs::system, std::string(name)};
    }
  }
  if (has_prefix(name, "user.")) {
    if (name.size() == 5) return Status(EINVAL);
  } else if (!rules.xattr_unknown_prefix_is_user) {
    return Status(EOPNOTSUPP);
  }
  return XattrName{vn::XattrNs::user, std::string(name)};
}

// The BSD API's (namespace, name).
Result<XattrName> bsd_name(int attrnamespace, std::string_view name) {
  if (attrnamespace != 1 && attrnamespace != 2) return Status(EINVAL);
  if (name.empty()) return Status(EINVAL);
  if (name.size() > vn::kXattrNameMax) return Status(ENAMETOOLONG);
  return XattrName{static_cast<vn::XattrNs>(attrnamespace), std::string(name)};
}

// Permission to read or write attributes of `ns` on vp (locked).
Status xattr_permission(Proc& p, vn::Vnode& vp, vn::XattrNs ns, bool write) {
  if (ns == vn::XattrNs::system) return p.cred.is_root() ? vn::kOk : Status(EPERM);
  if (vp.type != vn::VType::VREG && vp.type != vn::VType::VDIR) return Status(EPERM);
  return vn::vop_access(vp, write ? vn::kAccWrite : vn::kAccRead, p.cred);
}

// Runs `fn` with the vnode named by path (or fd when path is null) locked.
// A template rather than a std::function, which would allocate for the
// callers' lambdas.
template <class VnodeFn>
Status with_vnode(Kernel& k, Proc& p, const std::string_view* path, int fd, bool follow,
                  bool exclusive, const VnodeFn& fn) {
  Nameidata nd;
  OpenFile* f = nullptr;
  vn::Vnode* vp = nullptr;
  if (path != nullptr) {
    VN_TRY(k.namei(p, AT_FDCWD, *path, follow ? kFollow : 0, &nd));
    vp = nd.vp.get();
  } else {
    auto fr = k.getfile(p, fd);
    if (!fr.ok()) return fr.status();
    f = *fr;
    vp = f->vp;
  }
  vn::vn_lock(*vp, exclusive);
  Status s = fn(*vp);
  vn::vn_unlock(*vp);
  if (f != nullptr) k.putfile(*f);
  nd.release();
  return s;
}

Status set_attr(Kernel& k, Proc& p, const std::string_view* path, int fd, bool follow,
                const Result<XattrName>& name, std::string_view value, int vflags) {
  if (!name.ok()) return name.status();
  if (value.size() > vn::kXattrSizeMax) return Status(E2BIG);
  return with_vnode(k, p, path, fd, follow, true, [&](vn::Vnode& vp) {
    VN_TRY(xattr_permission(p, vp, name->ns, true));
    return vn::vop_setextattr(vp, name->ns, name->stored, value, vflags);
  });
}

Result<std::string> get_attr(Kernel& k, Proc& p, const std::string_view* path, int fd, bool follow,
                             const Result<XattrName>& name) {
  if (!name.ok()) return name.status();
  std::string value;
  Status s = with_vnode(k, p, path, fd, follow, false, [&](vn::Vnode& vp) {
    VN_TRY(xattr_permission(p, vp, name->ns, false));
    return vn::vop_getextattr(vp, name->ns, name->stored, &value);
  });
  if (!s.ok()) return s;
  return value;
}

int linux_set_flags(int flags) {
  return ((flags & XATTR_CREATE) != 0 ? vn::kXattrCreate : 0) |
         ((flags & XATTR_REPLACE) != 0 ? vn::kXattrReplace : 0);
}

}  // namespace

Status Kernel::setxattr(Proc& p, std::string_view path, std::string_view name,
                        std::string_view value, int flags, bool follow) {
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) return Status(EINVAL);
  return set_attr(*this, p, &path, -1, follow, linux_name(rules(), name), value,
                  linux_set_flags(flags));
}

Status Kernel::fsetxattr(Proc& p, int fd, std::string_view name, std::string_view value,
                         int flags) {
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) return Status(EINVAL);
  return set_attr(*this, p, nullptr, fd, true, linux_name(rules(), name), value,
                  linux_set_flags(flags));
}

// getxattr: with size 0 the whole value is returned (the caller learns its
// length); a value longer than a non-zero size is ERANGE.
Result<std::string> Kernel::getxattr(Proc& p, std::string_view path, std::string_view name,
                                     std::size_t size, bool follow) {
  auto v = get_attr(*this, p, &path, -1, follow, linux_name(rules(), name));
  if (v.ok() && size != 0 && v->size() > size) return Status(ERANGE);
  return v;
}

Result<std::string> Kernel::fgetxattr(Proc& p, int fd, std::string_view name, std::size_t size) {
  auto v = get_attr(*this, p, nullptr, fd, true, linux_name(rules(), name));
  if (v.ok() && size != 0 && v->size() > size) return Status(ERANGE);
  return v;
}

// listxattr: user names, then (for root) system names, each as stored; a
// list longer than a non-zero size (names plus NULs) is ERANGE.
namespace {

Result<std::vector<std::string>> list_attrs(Kernel& k, Proc& p, const std::string_view* path,
                                            int fd, std::size_t size, bool follow) {
  std::vector<std::string> names;
  Status s = with_vnode(k, p, path, fd, follow, false, [&](vn::Vnode& vp) {
    VN_TRY(vn::vop_listextattr(vp, vn::XattrNs::user, &names));
    if (p.cred.is_root()) VN_TRY(vn::vop_listextattr(vp, vn::XattrNs::system, &names));
    return vn::kOk;
  });
  if (!s.ok()) return s;
  std::size_t total = 0;
  for (const auto& n : names) total += n.size() + 1;
  if (size != 0 && total > size) return Status(ERANGE);
  return names;
}

Status remove_attr(Kernel& k, Proc& p, const std::string_view* path, int fd, bool follow,
                   const Result<XattrName>& xn) {
  if (!xn.ok()) return xn.status();
  return with_vnode(k, p, path, fd, follow, true, [&](vn::Vnode& vp) {
    VN_TRY(xattr_permission(p, vp, xn->ns, true));
    return vn::vop_deleteextattr(vp, xn->ns, xn->stored);
  });
}

}  // namespace

Result<std::vector<std::string>> Kernel::listxattr(Proc& p, std::string_view path, std::size_t size,
                                                   bool follow) {
  return list_attrs(*this, p, &path, -1, size, follow);
}

Result<std::vector<std::string>> Kernel::flistxattr(Proc& p, int fd, std::size_t size) {
  return list_attrs(*this, p, nullptr, fd, size, true);
}

Status Kernel::removexattr(Proc& p, std::string_view path, std::string_view name, bool follow) {
  return remove_attr(*this, p, &path, -1, follow, linux_name(rules(), name));
}

Status Kernel::fremovexattr(Proc& p, int fd, std::string_view name) {
  return remove_attr(*this, p, nullptr, fd, true, linux_name(rules(), name));
}

Result<std::size_t> Kernel::extattr_set_file(Proc& p, std::string_view path, int attrnamespace,
                                             std::string_view name, std::string_view data,
                                             bool follow) {
  VN_TRY(set_attr(*this, p, &path, -1, follow, bsd_name(attrnamespace, name), data, 0));
  return data.size();
}

Result<std::string> Kernel::extattr_get_file(Proc& p, std::string_view path, int attrnamespace,
                                             std::string_view name, bool follow) {
  return get_attr(*this, p, &path, -1, follow, bsd_name(attrnamespace, name));
}

Status Kernel::extattr_delete_file(Proc& p, std::string_view path, int attrnamespace,
                                   std::string_view name, bool follow) {
  auto xn = bsd_name(attrnamespace, name);
  if (!xn.ok()) return xn.status();
  return with_vnode(*this, p, &path, -1, follow, true, [&](vn::Vnode& vp) {
    VN_TRY(xattr_permission(p, vp, xn->ns, true));
    return vn::vop_deleteextattr(vp, xn->ns, xn->stored);
  });
}

Result<std::vector<std::string>> Kernel::extattr_list_file(Proc& p, std::string_view path,
                                                           int attrnamespace, bool follow) {
  if (attrnamespace != 1 && attrnamespace != 2) return Status(EINVAL);
  const auto ns = static_cast<vn::XattrNs>(attrnamespace);
  std::vector<std::string> names;
  Status s = with_vnode(*this, p, &path, -1, follow, false, [&](vn::Vnode& vp) {
    VN_TRY(xattr_permission(p, vp, ns, false));
    return vn::vop_listextattr(vp, ns, &names);
  });
  if (!s.ok()) return s;
  return names;
}

}  // namespace vfsim::vfs
