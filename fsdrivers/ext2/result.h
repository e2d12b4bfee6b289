// Error values and internal assertions for the ext2 core: the kernel's own
// (sim/errno.h, sim/assert.h), which need no Machine, so the core still
// builds and runs without the simulator.
//
// File-system errors are values (CONVENTIONS §8): every operation returns a
// Status or a Result<T> carrying a host errno. Internal invariants are checked
// with VFSIM_ASSERT, which throws sim::PanicError in every build type; inside
// a machine the driver turns it into a `panic` (Ext2Mount::call). Data read
// from an image is never asserted: it is checked and answered with EIO.
#pragma once

#include <cerrno>

#include "sim/assert.h"
#include "sim/errno.h"

namespace vfsim::ext2 {

using sim::kOk;
using sim::Result;
using sim::Status;

// The core's spellings of the propagation helpers, kept so call sites stay
// one line long: EXT2_TRY(status); EXT2_TRY_ASSIGN(auto x, result);
#define EXT2_TRY(expr) VFSIM_TRY(expr)
#define EXT2_TRY_ASSIGN(lhs, expr) VFSIM_TRY_ASSIGN(lhs, expr)

inline Status corrupt() { return Status(EIO); }

}  // namespace vfsim::ext2
