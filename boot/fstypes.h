// The file-system types a machine knows unless told otherwise. Each driver
// describes itself (memfs::fstype(), ...; vnode/fstype.h); this list is the
// one place that names them all.
//
// Adding a file-system type: write the driver in its own folder under
// fsdrivers/ with a `vn::FsType fstype()` of its own, then add one line to
// builtin_fs_types() (fstypes.cc) and its library to vfsim_boot
// (boot/CMakeLists.txt). Nothing else outside its folder changes.
#pragma once

#include <vector>

#include "vnode/fstype.h"

namespace vfsim::boot {

// memfs, ext2, puffs.
[[nodiscard]] std::vector<vn::FsType> builtin_fs_types();

}  // namespace vfsim::boot
