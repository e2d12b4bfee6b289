// The default VOP vector (every op answers default_error(), like puffs'
// dummy ops) and the dead vnode ops of a reclaimed vnode.
#include "vnode/vnode.h"

namespace vfsim::vn {

Status VnodeOps::lookup(Vnode&, const ComponentName&, Vnode**) { return unsupported(); }
Status VnodeOps::create(Vnode&, const ComponentName&, const Vattr&, Vnode**) {
  return unsupported();
}
Status VnodeOps::mknod(Vnode&, const ComponentName&, const Vattr&, Vnode**) {
  return unsupported();
}
Status VnodeOps::mkdir(Vnode&, const ComponentName&, const Vattr&, Vnode**) {
  return unsupported();
}
Status VnodeOps::symlink(Vnode&, const ComponentName&, const Vattr&, std::string_view, Vnode**) {
  return unsupported();
}
Status VnodeOps::open(Vnode&, int, const Cred&) { return unsupported(); }
Status VnodeOps::close(Vnode&, int, const Cred&) { return unsupported(); }
Status VnodeOps::access(Vnode&, int, const Cred&) { return unsupported(); }
Status VnodeOps::getattr(Vnode&, Vattr*) { return unsupported(); }
Status VnodeOps::setattr(Vnode&, const SetAttr&, const Cred&) { return unsupported(); }
Status VnodeOps::read(Vnode&, std::uint64_t, std::size_t, std::string*, int) {
  return unsupported();
}
Status VnodeOps::write(Vnode&, std::uint64_t*, std::string_view, int, std::size_t*) {
  return unsupported();
}
Status VnodeOps::fsync(Vnode&) { return unsupported(); }
Status VnodeOps::remove(Vnode&, Vnode&, const ComponentName&) { return unsupported(); }
Status VnodeOps::link(Vnode&, Vnode&, const ComponentName&) { return unsupported(); }
Status VnodeOps::rename(Vnode&, Vnode&, const ComponentName&, Vnode&, Vnode*,
                        const ComponentName&) {
  return unsupported();
}
Status VnodeOps::rmdir(Vnode&, Vnode&, const ComponentName&) { return unsupported(); }
Status VnodeOps::readdir(Vnode&, std::uint64_t, std::size_t, std::vector<Dirent>*, bool*) {
  return unsupported();
}
Status VnodeOps::readlink(Vnode&, std::string*) { return unsupported(); }
Status VnodeOps::inactive(Vnode&, bool* recycle) {
  *recycle = false;
  return kOk;
}
Status VnodeOps::reclaim(Vnode& vp) {
  vp.data = nullptr;
  return kOk;
}
Status VnodeOps::getpages(Vnode&, std::uint64_t, std::span<std::byte>) { return unsupported(); }
Status VnodeOps::putpages(Vnode&, std::uint64_t, std::span<const std::byte>) {
  return unsupported();
}
Status VnodeOps::getextattr(Vnode&, XattrNs, std::string_view, std::string*) {
  return unsupported();
}
Status VnodeOps::setextattr(Vnode&, XattrNs, std::string_view, std::string_view, int) {
  return unsupported();
}
Status VnodeOps::listextattr(Vnode&, XattrNs, std::vector<std::string>*) { return unsupported(); }
Status VnodeOps::deleteextattr(Vnode&, XattrNs, std::string_view) { return unsupported(); }

namespace {

class DeadOps final : public VnodeOps {
 public:
  int default_error() const override { return ENXIO; }
};

}  // namespace

VnodeOps& dead_vnode_ops() {
  // Stateless and immutable: one shared instance is safe across machines
  // and threads.
  static DeadOps ops;
  return ops;
}

}  // namespace vfsim::vn
