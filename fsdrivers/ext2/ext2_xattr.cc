// ext2 extended attributes. The VFS hands names over as it stores them
// (vfs/xattr.cc): in the user namespace "user.foo" from the Linux API or
// "foo" from the BSD API; in the system namespace "trusted.x", "security.x"
// or a bare BSD name. The image keeps (name index, suffix) pairs, as Linux
// writes them, so images stay readable by e2fsprogs and Linux:
//   user ns    "user.foo" or "foo"          → index 1 (user.)     "foo"
//   system ns  "trusted.x" / "security.x"   → index 4 / 6          "x"
//              a bare BSD name "x"          → index 4 (trusted.)   "x"
//              "system.*" (ACLs)            → EOPNOTSUPP
// Listing returns the Linux form ("user.foo", "trusted.x").
#include "fsdrivers/ext2/ext2_node.h"

namespace vfsim::ext2drv {

using ext2::Volume;
using vn::kOk;
using vn::Status;
using vn::Vnode;
using vn::XattrNs;

namespace {

bool has_prefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The core's name ("user.foo") for the VFS's (namespace, name).
vn::Result<std::string> disk_name(XattrNs ns, std::string_view name) {
  if (ns == XattrNs::user) {
    return has_prefix(name, "user.") ? std::string(name) : "user." + std::string(name);
  }
  if (has_prefix(name, "trusted.") || has_prefix(name, "security.")) return std::string(name);
  if (has_prefix(name, "system.") || has_prefix(name, "user.")) return Status(EOPNOTSUPP);
  return "trusted." + std::string(name);
}

XattrNs ns_of(std::string_view disk) {
  return has_prefix(disk, "user.") ? XattrNs::user : XattrNs::system;
}

}  // namespace

Status Ext2Ops::getextattr(Vnode& vp, XattrNs ns, std::string_view name, std::string* value) {
  auto dn = disk_name(ns, name);
  if (!dn.ok()) return dn.status();
  const std::uint32_t ino = fs_.ino_of(vp);
  auto r = fs_.call([&](Volume& v) { return v.getextattr(ino, *dn); });
  if (!r.ok()) return Status(r.err());
  value->assign(reinterpret_cast<const char*>(r->data()), r->size());
  return kOk;
}

Status Ext2Ops::setextattr(Vnode& vp, XattrNs ns, std::string_view name, std::string_view value,
                           int flags) {
  auto dn = disk_name(ns, name);
  if (!dn.ok()) return dn.status();
  const std::uint32_t ino = fs_.ino_of(vp);
  ext2::XattrFlag f = ext2::XattrFlag::Any;
  if ((flags & vn::kXattrCreate) != 0) f = ext2::XattrFlag::Create;
  if ((flags & vn::kXattrReplace) != 0) f = ext2::XattrFlag::Replace;
  const auto bytes = std::as_bytes(std::span(value.data(), value.size()));
  return to_vn(
      fs_.call([&](Volume& v) { return v.setextattr(ino, *dn, bytes, fs_.now_time(), f); }));
}

Status Ext2Ops::listextattr(Vnode& vp, XattrNs ns, std::vector<std::string>* names) {
  const std::uint32_t ino = fs_.ino_of(vp);
  auto r = fs_.call([ino](Volume& v) { return v.listextattr(ino); });
  if (!r.ok()) return Status(r.err());
  for (std::string& n : *r) {
    if (ns_of(n) == ns) names->push_back(std::move(n));
  }
  return kOk;
}

Status Ext2Ops::deleteextattr(Vnode& vp, XattrNs ns, std::string_view name) {
  auto dn = disk_name(ns, name);
  if (!dn.ok()) return dn.status();
  const std::uint32_t ino = fs_.ino_of(vp);
  return to_vn(fs_.call([&](Volume& v) { return v.deleteextattr(ino, *dn, fs_.now_time()); }));
}

}  // namespace vfsim::ext2drv
