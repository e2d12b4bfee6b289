// The scenario-level modules a program knows. The CLI and the tests build
// their Catalog from all_modules(); a layer that adds ops to scenarios adds
// one line to modules.cc.
#pragma once

#include "scenarios/registry.h"

namespace vfsim::scenarios {

// Every module, in the order their states start (and stop in reverse).
[[nodiscard]] ModuleList all_modules();

// The catalog of all_modules(), built once per process on first use. It is
// immutable afterwards, so sharing it between threads is safe.
[[nodiscard]] const Catalog& default_catalog();

}  // namespace vfsim::scenarios
