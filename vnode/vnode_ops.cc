// The defaults of the VOP vector, out of line (vnode/vnode.h says why): the
// UNSUPPORTED ones, generated from the VOP list, answer default_error() like
// puffs' dummy ops; the CUSTOM ones are written here. And the dead vnode ops
// of a reclaimed vnode.
#include "vnode/vnode.h"

namespace vfsim::vn {

#define VFSIM_VOP_DEFAULT_UNSUPPORTED(name, params, args) \
  Status VnodeOps::name params { return unsupported_with args; }
#define VFSIM_VOP_DEFAULT_CUSTOM(name, params, args)
#define VFSIM_VOP_DEFINE_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  VFSIM_VOP_DEFAULT_##dflt(name, params, args)
VFSIM_VOP_LIST(VFSIM_VOP_DEFINE_, _)
#undef VFSIM_VOP_DEFINE_
#undef VFSIM_VOP_DEFAULT_CUSTOM
#undef VFSIM_VOP_DEFAULT_UNSUPPORTED

Status VnodeOps::inactive(Vnode&, bool* recycle) {
  *recycle = false;
  return kOk;
}
Status VnodeOps::reclaim(Vnode& vp) {
  vp.data = nullptr;
  return kOk;
}

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
