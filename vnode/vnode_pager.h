// The vnode pager: the backing store of a vnode's page-cache object is the
// file system itself, reached through VOP_GETPAGES / VOP_PUTPAGES (NetBSD's
// uvm_vnodeops over genfs_getpages / genfs_putpages). A file system whose
// data lives elsewhere (on an image, behind a puffs server) gives each vnode
// an object with vnode_object() and implements getpages / putpages.
//
// The VOPs want the vnode locked exclusively:
// - a caller that holds it (the read/write/fsync paths lock the vnode before
//   entering the page cache) calls through directly;
// - the pagedaemon only try-locks: the lock's holder may itself be waiting
//   for memory that only the pagedaemon can free, so waiting could deadlock
//   (NetBSD's uvm_pdaemon.c try-locks for the same reason). A vnode that is
//   locked answers EAGAIN, a transient error: the page stays dirty and the
//   pagedaemon moves on;
// - anyone else (the syncer) waits for the lock.
// A vnode with pages must stay referenced until its object is destroyed: the
// file system destroys it in VOP_RECLAIM, after putting the dirty pages.
#pragma once

#include "pager/pager.h"
#include "vnode/vnode.h"

namespace vfsim::vn {

class VnodePager final : public pager::PagerOps {
 public:
  Status getpages(pager::PageObject& obj, std::uint64_t offset, std::span<std::byte> dst) override;
  Status putpages(pager::PageObject& obj, std::uint64_t offset,
                  std::span<const std::byte> src) override;
};

// A page-cache object for `vp` served by `pager_ops`; its cookie is `vp`.
[[nodiscard]] pager::PageObject& vnode_object(pager::Pager& pager, VnodePager& pager_ops,
                                              Vnode& vp);

}  // namespace vfsim::vn
