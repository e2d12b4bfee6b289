// Errors are values (CONVENTIONS.md §8): every kernel path in vnode/, vfs/
// and the drivers returns a Status (0 or an errno) or a Result<T> (a value or
// an errno). They are the one errno result type of sim/errno.h, under the
// vnode layer's spellings.
#pragma once

#include "sim/errno.h"
#include "sim/machine.h"

namespace vfsim::vn {

using sim::kOk;
using sim::Result;
using sim::Status;

}  // namespace vfsim::vn

// Propagation helper: returns the errno of `expr` when it is not 0.
#define VN_TRY(expr) VFSIM_TRY(expr)
