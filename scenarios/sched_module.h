// The built-in `sched` module: shared integer variables, named locks, sleep,
// wait channels and yields. It needs no file system, so it proves the engine
// and the explorer (lost updates, lock-order deadlocks, hangs) on its own.
#pragma once

#include <memory>

#include "scenarios/registry.h"

namespace vfsim::scenarios {

[[nodiscard]] std::shared_ptr<const Module> make_sched_module();

}  // namespace vfsim::scenarios
