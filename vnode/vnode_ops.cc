// The CUSTOM defaults of the VOP vector (the others answer default_error(),
// like puffs' dummy ops: vnode/vnode.h) and the dead vnode ops of a
// reclaimed vnode.
#include "vnode/vnode.h"

namespace vfsim::vn {

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
