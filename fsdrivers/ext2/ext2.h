// The ext2 file system driver: the VOP vector (vnode/vnode.h) over the ext2
// core library (volume.h), on a disk of the simulated machine (sim/blockdev.h).
//
//   VFS ──VOP──► Ext2Ops ──(volume lock)──► ext2::Volume ──► buffer cache
//                                                              │ BlockIo
//                                   DiskBlockIo ◄──────────────┘
//                                        │
//                          sim::FaultyDisk (optional) ──► FileDisk / MemDisk
//
// Metadata goes through the core's buffer cache; file data goes through one
// place, ext2_data.cc: with a pager (the machine has a memory model), the
// page cache, written back through VnodePager and VOP_PUTPAGES (blocks are
// allocated at write(2) time, so ENOSPC is still write's answer); without
// one, direct volume I/O.
// The image is untrusted input: a corrupt image refuses to mount with the
// core's one-line reason, and corrupt metadata met later answers EIO.
//
// Mount options (vfs MountArgs, all text):
//   image=PATH          the host image file (required unless made in memory);
//                       under a scenario, relative to the scenario file and
//                       seen through a private copy-on-write view per run
//                       (sim/host_images.h), so the host file never changes
//   ro=1                mount read-only
//   cache_blocks=N      metadata buffer-cache capacity (default 256)
//   test_panic=1        TEST ONLY: a lookup of an entry named
//                       vfsim-test-panic trips a driver assertion (the
//                       fault-isolation tests; docs/ext2.md)
//   read_eio_nth=K, write_eio_nth=K, torn_write_nth=K
//                       fault injection: the K-th read / write fails / tears
//   read_eio_ppm=P, write_eio_ppm=P, torn_write_ppm=P
//                       fault injection: each request with P per million
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/blockdev.h"
#include "vnode/fstype.h"
#include "vnode/vnode.h"

namespace vfsim::pager {
class Pager;
}  // namespace vfsim::pager

namespace vfsim::ext2drv {

struct Ext2Options {
  std::string image_path;                             // a host image file, or
  std::optional<std::vector<std::byte>> image_bytes;  // an image in memory
  bool read_only = false;
  std::size_t cache_blocks = 256;
  std::vector<sim::DiskFaultRule> faults;  // wrap the disk in a FaultyDisk
  sim::BlockDevOptions disk;               // limits and latency of the disk
  pager::Pager* pager = nullptr;           // the kernel's page cache, if any
  // TEST ONLY (mount option test_panic=1): a lookup that meets an entry
  // named vfsim-test-panic trips a driver assertion, as a driver bug met on
  // a malicious image would (ext2::MountOptions::test_panic_entry). For the
  // fault-isolation tests and scenarios; nothing else sets it.
  bool test_panic = false;
};

// Opens the disk and mounts the volume. On failure: the errno (EINVAL for
// "not an ext2 image we support", EIO for corrupt metadata, ENOENT/EACCES
// for the host file) and *reason, one line naming the image and the cause.
// Must run inside an lwp (mounting reads the disk).
[[nodiscard]] vn::Result<std::unique_ptr<vn::FileSystem>> make_ext2(sim::Machine& m,
                                                                    const Ext2Options& options,
                                                                    std::string* reason);

// Mount options as text (vnode/fstype.h).
using TextArgs = vn::MountArgs;

// Parses the text mount options above into Ext2Options; EINVAL and a reason
// for an unknown key or a malformed value.
[[nodiscard]] vn::Result<Ext2Options> ext2_options_from_args(const TextArgs& args,
                                                             std::string* reason);

// The mount-by-type factory: options from text, then make_ext2 (file data
// in `pager`'s page cache when given). The reason of a refused mount is
// recorded in the machine's trace as "ext2_mount".
[[nodiscard]] vn::Result<std::unique_ptr<vn::FileSystem>> make_ext2_from_args(
    sim::Machine& m, const TextArgs& args, pager::Pager* pager = nullptr);

// The type "ext2": make_ext2_from_args with the mount options above.
[[nodiscard]] vn::FsType fstype();

// What a tool learns about an image before running anything on it (the fs
// tools, makefs): whether it mounts (else the errno and the driver's one-line
// reason) and the newest atime/mtime/ctime of any inode reachable from the
// root, in seconds. Runs its own machine; mounts read-only.
struct ImageProbe {
  bool mounts = false;
  int err = 0;
  std::string reason;
  std::int64_t newest_time = 0;
};
[[nodiscard]] ImageProbe probe_image(const std::string& path);

// Counters of one mount, for tests and reports.
struct Ext2Stats {
  std::uint64_t volume_calls = 0;
  std::uint64_t disk_reads = 0, disk_writes = 0;
  std::uint64_t disk_faults = 0;
  std::uint32_t block_size = 0;
};
// The counters of an ext2 FileSystem (nullopt for another type).
std::optional<Ext2Stats> ext2_stats(const vn::FileSystem& fs);

}  // namespace vfsim::ext2drv
