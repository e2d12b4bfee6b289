// The configuration of FUSE mounts, typed, as puffs_config.h is for puffs:
// the knobs of the FUSE daemon and the perfused bridge (scenario knobs
// fuse.*, which the World keeps in BootConfig::fuse), and what one mount
// names (FuseMountSpec: a registered file system or a host binary, and its
// argv). check() holds every rule; the scenario loader and a mount(2) of
// type "fuse" call the same one.
//
//   fuse.workers         lwps of the daemon's multi-threaded loop, 1 to 64 (1)
//   fuse.size_serialise  the bridge serialises GETATTR against size changes
//                        (true: the daemon-side half of the PERFUSE fix)
//   fuse.forget_nlookup  FORGET carries the node's lookup count (true);
//                        false: FORGET(1), the historic shortcut
//
// The transport of the FUSE hop (/dev/fuse, a socket pair) and its faults
// are the puffs knobs a FUSE mount reuses (fuse_fstype.h says which).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fsdrivers/puffs/puffs_config.h"

namespace vfsim::fuse {

struct FuseConfig {
  std::int64_t workers = 1;
  bool size_serialise = true;
  bool forget_nlookup = true;

  // Each problem names the option (without the "fuse." of its knob).
  [[nodiscard]] std::optional<puffs::OptionError> check() const;
};

// What one FUSE mount runs. Exactly one of `fs` and `exec` is set.
struct FuseMountSpec {
  // A file system linked into this executable (fs_registry.h): it runs in
  // the machine's lwps, deterministically.
  std::string fs;
  // Or an unmodified libfuse3 binary on the host, served over a real
  // SOCK_SEQPACKET socket pair (no determinism inside it: external.h).
  std::string exec;
  // Arguments between argv[0] and the mount point ("-s", "-o", "hard_remove").
  std::vector<std::string> argv;
  // The path the daemon is told it is mounted on (in-machine daemons).
  std::string mountpoint = "/fuse";
  // An external daemon's working directory (its relative paths, an image
  // named in argv, are relative to it); "" = vfsim's.
  std::string cwd;

  // "" when the spec can run, else one line: exactly one of fs/exec, and
  // the options a daemon inside the machine cannot have (fuse_daemon.h).
  [[nodiscard]] std::string check() const;
};

// Options that need real threads or host clocks, refused with one line
// ("" when `args` can run inside the machine): -o remember, -o intr,
// -o clone_fd, -o modules=.
[[nodiscard]] std::string refuse_args(const std::vector<std::string>& args);

// The knob of a FUSE option ("workers" -> "fuse.workers").
[[nodiscard]] std::string fuse_knob(std::string_view option);

}  // namespace vfsim::fuse
