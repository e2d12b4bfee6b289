// The typed configuration of one machine's kernel: what the World (world.h)
// is built from. The scenario knobs build it once at load time
// (scenarios/modules/), ukfs and the tools fill it in directly; check() holds
// the rules that tie fields together, and every problem it finds names the
// knob that sets the field (the field comments below say which).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fsdrivers/fuse/fuse_config.h"
#include "fsdrivers/puffs/puffs_config.h"
#include "pager/types.h"
#include "vfs/personality.h"
#include "vnode/fstype.h"

namespace vfsim::boot {

// A configuration problem: the knob to blame and why.
struct ConfigIssue {
  std::string knob;
  std::string reason;
};

struct BootConfig {
  // --- the kernel (vfs::KernelOptions) -----------------------------------
  vfs::Personality personality = vfs::Personality::NetBSD;  // knob personality
  std::size_t desiredvnodes = 1024;                         // knob vfs.desiredvnodes
  bool rename_lost_source_unlock = true;                    // knob vfs.rename_lost_source_unlock

  // --- memory: the pager, or none (knobs pager.*; pager.pages 0 = none) ---
  std::optional<pager::PagerConfig> pager;

  // --- file systems -------------------------------------------------------
  // The types mount(2) knows, in this order (builtin_fs_types() by default).
  std::vector<vn::FsType> fs_types;
  // The root file system World::mount_root mounts (knobs memfs.size_max,
  // memfs.inodes_max, memfs.backing_blocks fill root_args for memfs).
  std::string root_type = "memfs";
  vn::MountArgs root_args;
  // What the scenario op puffs.mount mounts (knobs transport and puffs.*).
  puffs::PuffsConfig puffs;
  // The FUSE daemon and bridge of every fuse.mount (knobs fuse.*); the
  // transport of its /dev/fuse and its faults come from `puffs`
  // (fsdrivers/fuse/fuse_fstype.h says which knob drives which part).
  fuse::FuseConfig fuse;

  BootConfig();

  // Every rule between fields: vnodes, the pager's thresholds, puffs's
  // options. nullopt when the configuration can be booted.
  [[nodiscard]] std::optional<ConfigIssue> check() const;
};

// The knob that sets a puffs mount option ("workers" -> "puffs.workers",
// "transport" -> "transport").
[[nodiscard]] std::string puffs_knob(std::string_view option);

}  // namespace vfsim::boot
