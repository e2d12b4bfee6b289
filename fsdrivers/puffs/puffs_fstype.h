// "puffs" as a mountable file-system type: one mount builds the whole
// transport — a socket pair of the chosen type (optionally fault-wrapped),
// a userspace server (p2k over a fresh backend file system, memfs now) with
// its worker lwps, and the kernel stub — from the mount options:
//
//   transport        seqpacket | dgram | stream          (default seqpacket)
//   size_lock        true | false                         (default true)
//   reclaim_nlookup  true | false: lookup counts in RECLAIM (default true)
//   timeout_ms       request timeout, 0 = none            (default 0)
//   retry            resends after a timeout, or "forever" (default 0)
//   workers          server worker lwps                    (default 1)
//   framing          naive | reassemble (server, stream)   (default naive)
//   rcvbuf_bytes     receive buffer of each end            (default 65536)
//   rcvbuf_msgs      most queued messages per end, 0 = any (default 0)
//   server_latency_us  virtual time each server op takes   (default 0)
//   req_drop_at / reply_drop_at   drop these messages (comma list, 1-based)
//   req_drop_ppm / reply_drop_ppm drop with this chance per million
//   server_crash_at  the server dies on its n-th request  (default 0 = never)
//   backend          memfs                                 (default memfs)
//
// The pieces live until the machine is destroyed (a leak check owns them),
// because daemon lwps may still touch the socket while a run is unwound.
// The leak check reports server nodes still alive after a clean unmount.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "fsdrivers/puffs/puffs_kernel.h"
#include "sim/machine.h"
#include "vnode/vnode.h"

namespace vfsim::puffs {

using MountOptions = std::map<std::string, std::string, std::less<>>;

// The factory the VFS's mount-by-type table takes (vfs::FsFactory).
[[nodiscard]] vn::Result<std::unique_ptr<vn::FileSystem>> make_puffs_from_args(
    sim::Machine& m, const MountOptions& args);

// The same with the machine's pager: message memory from its kmem and a
// page cache for regular files (null: neither).
[[nodiscard]] vn::Result<std::unique_ptr<vn::FileSystem>> make_puffs(sim::Machine& m,
                                                                     const MountOptions& args,
                                                                     pager::Pager* pager);

}  // namespace vfsim::puffs
