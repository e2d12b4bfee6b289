// Helpers the syscall files share: attributes of new nodes, the sticky-bit
// rule, converting attributes to stat(2), and looking a name up again under
// its directory's lock.
#pragma once

#include "vfs/kernel.h"

namespace vfsim::vfs {

// The attributes a new node in `dvp` (locked) gets: mode & ~umask (the
// caller applies umask), the caller's uid, and the group the personality
// says (personality.h). Fails only if dvp's attributes cannot be read.
[[nodiscard]] Result<vn::Vattr> creation_attr(Kernel& k, Proc& p, vn::Vnode& dvp, vn::VType type,
                                              std::uint32_t mode);

// Sticky directories: only the owner of the file, of the directory, or root
// may remove or rename an entry (EPERM otherwise).
bool sticky_denies(const vn::Cred& cred, const vn::Vattr& dir, const vn::Vattr& file);

// The S_IF* bits of a vnode type.
std::uint32_t type_bits(vn::VType t);
Stat to_stat(const vn::Vattr& va);

// Looks `name` up in `dvp`, which the caller holds locked exclusively.
// ENOENT is not an error here: *vpp is then null.
[[nodiscard]] Status relookup(Proc& p, vn::Vnode& dvp, std::string_view name, vn::Vnode** vpp);

// Checks write and search permission on a directory the caller holds locked.
[[nodiscard]] Status dir_writable(Proc& p, vn::Vnode& dvp);

}  // namespace vfsim::vfs
