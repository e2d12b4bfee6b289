// The `vfs` scenario module: the VFS system calls as scenario ops, the
// personality and vnode-cache knobs, and the memfs root file system.
//
// Knobs: personality (netbsd|linux), vfs.desiredvnodes, memfs.size_max,
// memfs.inodes_max. Ops are named after the calls (open, link, rename, ...;
// `vfsim ops` lists them) plus fs.read_file for whole-file checks. Paths are
// strings, flags names ("O_CREAT,O_WRONLY"), modes octal strings ("0644") or
// integers, descriptors registers ("$fd"). stat-like ops return a record:
// {"type": "reg"|"dir"|"lnk"|..., "mode", "nlink", "size", "uid", "gid", "ino"}.
#pragma once

#include <memory>

#include "scenarios/registry.h"

namespace vfsim::vfs {

[[nodiscard]] std::shared_ptr<const scenarios::Module> make_vfs_module();

}  // namespace vfsim::vfs
