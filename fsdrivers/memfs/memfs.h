// memfs: a tmpfs-like in-memory file system (the detrempe of the puffs
// notes) behind the VOP vector. Regular files, directories, symlinks, hard
// links, fifos, sockets and device nodes; nlink, times on the machine's
// virtual clock, sizes, statvfs figures, extended attributes, and a size and
// an inode limit that answer ENOSPC.
//
// Files are made of vfs_vnops/vnops (memfs_vnops.cc), vfsops
// (memfs_vfsops.cc) and node bookkeeping (memfs_subr.cc), as NetBSD's tmpfs.
#pragma once

#include <cstdint>
#include <memory>

#include "pager/pager.h"
#include "sim/machine.h"
#include "vnode/fstype.h"
#include "vnode/vnode.h"

namespace vfsim::memfs {

struct MemfsOptions {
  std::uint64_t size_max_bytes = 0;  // 0: unlimited; counted in 4 KiB pages of file data
  std::uint64_t inodes_max = 0;      // 0: unlimited; the root counts as one
  std::uint32_t root_mode = 0755;
  vn::Uid root_uid = 0;
  vn::Gid root_gid = 0;
  // The machine's pager: file data lives in its page cache (pager_data.h).
  // Null: in a plain PageStore, outside any memory accounting.
  pager::Pager* pager = nullptr;
  // With a pager: 0 = anonymous pages with swap (tmpfs); N = a write-back
  // cache over a store of N blocks that runs out of space at page-out (the
  // msdosfs model).
  std::uint64_t backing_blocks = 0;
};

inline constexpr std::uint64_t kPageBytes = 4096;
inline constexpr std::uint64_t kRootIno = 2;

// A fresh, empty memfs instance; the VFS mounts it (vfs/mount.h).
[[nodiscard]] std::unique_ptr<vn::FileSystem> make_memfs(sim::Machine& m,
                                                         const MemfsOptions& options);

// The type "memfs" (memfs_fstype.cc). Mount options, all numbers: size_max
// (bytes), inodes_max, mode (of the root, octal "0755"), uid, gid,
// backing_blocks (MemfsOptions); any other key is EINVAL. File data goes to
// the MountEnv's pager when it has one.
[[nodiscard]] vn::FsType fstype();

}  // namespace vfsim::memfs
