// p2k, puffs-to-kernel: serves any vfsim kernel file system (memfs now,
// ext2 later) through puffs, like NetBSD's libp2k under the rump_* file
// servers. The served file system lives in the server's own small kernel —
// its own vcache and mount, as a rump kernel would give it — and p2k turns
// each puffs request into the VOP it stands for, taking the vnode locks the
// VOP contract (vnode.h) asks for.
//
// A p2k node holds one use reference on its backend vnode; the cookie map
// keys nodes by the backend vnode's key, so a file has one cookie at a time.
// The RECLAIM that frees a node (the framework's lookup count reached zero)
// drops the reference.
#pragma once

#include <memory>

#include "fsdrivers/puffs/puffs_server.h"
#include "vnode/vcache.h"
#include "vnode/vnode.h"

namespace vfsim::puffs {

class P2k : public PuffsOps {
 public:
  // Mounts `fs` in the server's own kernel (mount id `mount_id`).
  P2k(sim::Machine& m, std::unique_ptr<vn::FileSystem> fs, std::uint32_t mount_id = 1000);
  ~P2k() override;

  // Registers the root node with `server` (from an lwp: loading may sleep).
  [[nodiscard]] vn::Status attach(Server& server);
  // Drops every node's reference and unmounts the backend (from an lwp).
  void detach(Server& server);

  vn::Mount& backend() { return *mount_; }
  vn::Vcache& backend_vcache() { return vcache_; }

#define VFSIM_P2K_DECLARE(name) \
  vn::Status name(OpCtx& c, const ArgsOf<PuffsOp::name>& a, Reply* rp) override;
  VFSIM_PUFFS_OPS(VFSIM_P2K_DECLARE)
#undef VFSIM_P2K_DECLARE

 private:
  vn::Status answer_node(OpCtx& c, vn::Status s, vn::Vnode* vp, Reply* rp);

  vn::Vcache vcache_;
  std::unique_ptr<vn::Mount> mount_;
  bool detached_ = false;
};

}  // namespace vfsim::puffs
