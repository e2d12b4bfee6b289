// The vnode pager, the one road between the page cache and a file system:
// the backing store of every vnode-backed page-cache object is the file
// system itself, reached through VOP_GETPAGES / VOP_PUTPAGES (NetBSD's
// uvm_vnodeops over genfs_getpages / genfs_putpages). A file system whose
// file data lives in the page cache (memfs with backing_blocks, puffs, ext2)
// gives each regular file's vnode an object with vnode_object() and
// implements getpages / putpages; nothing else implements pager::PagerOps
// for a vnode (tests/vnode_pager_road.sh checks it).
//
// Locks (the rule lives here and nowhere else):
// - VOP_GETPAGES runs only inside a VOP that already holds the vnode lock
//   (read or write paging in what it needs); VnodePager asserts it and takes
//   nothing.
// - VOP_PUTPAGES runs without taking the vnode lock, from any context (a
//   fsync that holds it, the syncer, the pagedaemon). The lwp holding the
//   vnode lock may be asleep for memory inside this very object (a write
//   that needs a new page), waiting for the pagedaemon to put the file's
//   other dirty pages: waiting for, or even try-locking, the vnode lock there
//   would leave it asleep for good. NetBSD's genfs_putpages likewise works
//   under the object lock, not the vnode lock. The page being put is busy
//   (writers wait), and the object holds the vnode until VOP_RECLAIM
//   destroys it, after putting the dirty pages.
// - So a file system's getpages / putpages must not take the vnode lock, and
//   may take only its own leaf locks that no lwp holds while it sleeps for
//   memory (ext2's volume lock; puffs takes none). In the pagedaemon's
//   context a KM_SLEEP allocation they make is the pager's business
//   (pager.pagedaemon_nosleep).
#pragma once

#include <string>

#include "pager/pager.h"
#include "vnode/vnode.h"

namespace vfsim::vn {

class VnodePager final : public pager::PagerOps {
 public:
  Status getpages(pager::PageObject& obj, std::uint64_t offset, std::span<std::byte> dst) override;
  Status putpages(pager::PageObject& obj, std::uint64_t offset,
                  std::span<const std::byte> src) override;
};

// The page-cache object of `vp` (a regular file), served by VOP_GETPAGES /
// VOP_PUTPAGES; its cookie is `vp`. `name` appears in the pager's trace
// events. The file system destroys it in VOP_RECLAIM.
[[nodiscard]] pager::PageObject& vnode_object(pager::Pager& pager, Vnode& vp, std::string name);

// The vnode a vnode-backed object belongs to; null for any other object.
[[nodiscard]] Vnode* object_vnode(const pager::PageObject& obj);

}  // namespace vfsim::vn
