// The `puffs` scenario module: the knobs of the puffs transport, which
// become the BootConfig's typed puffs::PuffsConfig (no text in between: the
// same check as a mount(2) of type puffs, fsdrivers/puffs/puffs_config.h),
// and one op, puffs.mount, that mounts memfs served through puffs (p2k) at a
// path of the World's kernel with that configuration.
//
// Knobs (the defaults are the fixed behaviour):
//   transport              seqpacket | dgram | stream      (seqpacket)
//   puffs.size_lock        serialise GETATTR replies with size changes (true)
//   puffs.reclaim_nlookup  RECLAIM carries the vnode's lookup count; the server
//                          frees a node when its count reaches zero (true)
//   puffs.timeout_ms       request timeout, 0 = wait forever (0)
//   puffs.retry            resends after a timeout; -1 = forever (0)
//   puffs.workers          server worker lwps (1)
//   puffs.framing          naive | reassemble: how the server reads a stream (naive)
//   puffs.rcvbuf_msgs      messages each socket end queues, 0 = any (0)
//   puffs.rcvbuf_bytes     bytes each socket end queues (65536)
//   puffs.server_latency_us  virtual time each server op takes (0)
//   puffs.req_drop_at, puffs.reply_drop_at  drop these messages ("3,5"; "")
//   puffs.server_crash_at  the server dies on its n-th request (0 = never)
//
// When the machine has a pager (pager.pages > 0), the kernel stub's message
// memory comes from its kmem with KM_SLEEP, so the pager's
// pager.pagedaemon_nosleep decides what happens in the pagedaemon.
#pragma once

#include <memory>

#include "scenarios/registry.h"

namespace vfsim::puffs {

[[nodiscard]] std::shared_ptr<const scenarios::Module> make_puffs_module();

}  // namespace vfsim::puffs
