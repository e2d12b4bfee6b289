// "puffs" as a mountable file-system type: one mount builds the whole
// transport from a PuffsConfig (puffs_config.h) — a userland server process
// (a socket pair of the chosen type, optionally fault-wrapped, and a
// libpuffs-style server with its worker lwps running p2k over a backend file
// system of any registered type) and the kernel stub that talks to it.
//
// The server process is a vn::UserServer handed to the MountEnv, which owns
// it until teardown: daemon lwps may still touch its socket while a run is
// unwound, so it outlives them. Its leak check (nodes still alive after a
// clean unmount) runs at true quiescence.
#pragma once

#include <memory>

#include "fsdrivers/puffs/puffs_config.h"
#include "fsdrivers/puffs/puffs_kernel.h"
#include "vnode/fstype.h"

namespace vfsim::puffs {

// Builds a puffs mount as `config` says: the server process (started, and
// owned by `env` from then on) and the kernel stub (returned, its reply
// reader started). Runs inside an lwp. `config` must pass check().
[[nodiscard]] vn::Result<std::unique_ptr<vn::FileSystem>> make_puffs(vn::MountEnv& env,
                                                                     const PuffsConfig& config);

// The type "puffs": parse_mount_options, then make_puffs; EINVAL for a bad
// option (the reason goes to the trace's kept text as "puffs_mount").
[[nodiscard]] vn::FsType fstype();

// The largest READ/WRITE payload for a socket whose buffers hold
// `rcvbuf_bytes` (PuffsMountOptions::max_io): half the smaller of the buffer
// and the server's read, leaving room for the message header.
[[nodiscard]] std::size_t max_io_for(std::uint64_t rcvbuf_bytes);

// Message memory from the pager's kmem, with KM_SLEEP (empty without one).
[[nodiscard]] MsgAlloc kmem_msg_alloc(pager::Pager* p);

}  // namespace vfsim::puffs
