// The `fuse` scenario module: FUSE file systems mounted in the World's
// kernel through the PERFUSE stack (fsdrivers/fuse/fuse_fstype.h), and the
// knobs of the daemon and the bridge, which become BootConfig::fuse.
//
// Knobs (the defaults are the fixed behaviour):
//   fuse.workers         lwps of the daemon's multi-threaded loop (1)
//   fuse.size_serialise  the bridge serialises GETATTR against size changes (true)
//   fuse.forget_nlookup  FORGET carries the node's lookup count (true)
//   fuse.options         "-o" options given to every daemon ("": none), e.g.
//                        "hard_remove" or "notify_from_thread"
// The FUSE hop's transport and faults are the puffs knobs (transport,
// puffs.framing, puffs.rcvbuf_msgs, puffs.req_drop_at, ...).
//
// One op:
//   fuse.mount {"path": "/fuse", "fs": "NAME", "argv": ["-s"]}
//       mounts the FUSE file system NAME linked into this vfsim (its main
//       runs in the machine's lwps) at path (made if missing);
//   fuse.mount {"path": "/fuse", "exec": "/usr/bin/squashfuse", "argv": [...]}
//       runs an unmodified libfuse3 binary on the host instead, with its
//       working directory the scenario file's (no determinism inside it:
//       every report says so).
// An unknown fs, a refused option, or an exec that is not there is a load
// error. Scenarios that call fuse.mount explore their jobs as processes
// (one machine per process may run foreign code: isolation.h).
#pragma once

#include <memory>

#include "scenarios/registry.h"

namespace vfsim::fuse {

[[nodiscard]] std::shared_ptr<const scenarios::Module> make_fuse_module();

}  // namespace vfsim::fuse
