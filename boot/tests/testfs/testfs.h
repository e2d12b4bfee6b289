// testfs: a tiny read-only file system that exists only for the tests. It
// shows what a new file-system type needs: this folder, registered the way
// a driver registers (a vn::FsType from fstype()). Its root directory holds
// one regular file per mount option, NAME=CONTENT, in name order; every
// change answers EROFS.
#pragma once

#include "vnode/fstype.h"

namespace vfsim::testfs {

// The type "testfs".
[[nodiscard]] vn::FsType fstype();

}  // namespace vfsim::testfs
