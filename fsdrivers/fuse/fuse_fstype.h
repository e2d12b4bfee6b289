// "fuse" as a mountable file-system type, and what the fuse.mount scenario
// op mounts: one mount builds the whole PERFUSE stack from a typed
// configuration —
//
//   kernel stub (puffs::PuffsMount) ─puffs hop─► FUSE server process:
//      puffs server + perfused bridge ─/dev/fuse─► the daemon
//
// — where the server process is a vn::UserServer handed to the MountEnv
// (the World owns it until teardown), and the daemon is either a file
// system linked into this executable running in the machine's lwps
// (FuseMountSpec::fs) or an unmodified libfuse3 binary on the host
// (FuseMountSpec::exec, external.h: no determinism inside it).
//
// Which knob drives which part. The FUSE hop is what PERFUSE's socket was,
// so the transport knobs apply there: `transport` (its socket type),
// puffs.framing (how the daemon reads a stream: naive, or reassembling by
// fuse_in_header.len as hello_ll_uds does), puffs.rcvbuf_msgs, and the
// faults puffs.req_drop_at / req_drop_ppm (requests to the daemon) and
// puffs.reply_drop_at / reply_drop_ppm (its replies). Its buffers hold the
// largest request (1 MiB of data: /dev/fuse has no smaller limit), so
// puffs.rcvbuf_bytes does not apply. The puffs hop between the kernel stub
// and the bridge is what /dev/puffs is to perfused: reliable seqpacket.
// puffs.workers is the bridge's workers (perfused's threads),
// puffs.server_latency_us and puffs.server_crash_at apply to them;
// puffs.size_lock, puffs.reclaim_nlookup, puffs.timeout_ms and puffs.retry
// to the kernel stub; fuse.workers, fuse.size_serialise and
// fuse.forget_nlookup (fuse_config.h) to the daemon and the bridge.
//
// Mount options of the type (mount(2) with type "fuse"): fs=NAME or
// exec=/path, args="-s -o ro" (split at spaces), mountpoint=PATH, workers,
// size_serialise, forget_nlookup (the fuse.* knobs without "fuse."), and
// every puffs option above.
#pragma once

#include <memory>

#include "fsdrivers/fuse/fuse_config.h"
#include "fsdrivers/puffs/puffs_config.h"
#include "vnode/fstype.h"

namespace vfsim::fuse {

// Builds a FUSE mount (inside an lwp): the server process (started, owned
// by `env` from then on) and the kernel stub (returned). Both configs must
// pass check() and `spec` its own; ENODEV for a file system this
// executable does not have, EINVAL when the daemon refuses to start (the
// reason is in the trace as "fuse_mount_refused").
[[nodiscard]] vn::Result<std::unique_ptr<vn::FileSystem>> make_fuse(vn::MountEnv& env,
                                                                    const puffs::PuffsConfig& pc,
                                                                    const FuseConfig& fc,
                                                                    const FuseMountSpec& spec);

// The type "fuse" (options above).
[[nodiscard]] vn::FsType fstype();

// Whether this executable has the FUSE file system `name` (fs_registry.h).
[[nodiscard]] bool has_fs(std::string_view name);
// The names of the FUSE file systems linked here, comma-separated.
[[nodiscard]] std::string fs_names();

}  // namespace vfsim::fuse
