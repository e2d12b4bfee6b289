// The file-system types the VFS knows by name (the mount-by-type table).
// A driver is added here with one register_fs_type() line; mount(2) and the
// scenario module then accept its name.
#pragma once

#include "vfs/kernel.h"

namespace vfsim::vfs {

// Registers "memfs" (options: size_max bytes, inodes_max, mode octal, uid, gid)
// and "ext2" (options: image=PATH, ro, cache_blocks, faults; fsdrivers/ext2/ext2.h)
// and "puffs" (memfs served through puffs; fsdrivers/puffs/puffs_fstype.h).
void register_builtin_fs_types(Kernel& k);

// Reads an unsigned number option ("0x10", "0644" octal, "42"); EINVAL if
// malformed, `def` if absent.
[[nodiscard]] Result<std::uint64_t> mount_arg_number(const MountArgs& args, std::string_view key,
                                                     std::uint64_t def);

}  // namespace vfsim::vfs
