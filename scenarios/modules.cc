// The list of scenario modules. To add a layer's ops to scenarios, add its
// module here (one line) and link its library to vfsim_scenarios.
#include "scenarios/modules.h"

#include "fsdrivers/puffs/scenario/puffs_module.h"
#include "pager/scenario/pager_module.h"
#include "scenarios/sched_module.h"
#include "vfs/scenario/vfs_module.h"

namespace vfsim::scenarios {

ModuleList all_modules() {
  return {
      make_sched_module(),
      pager::make_pager_module(),
      vfs::make_vfs_module(),
      puffs::make_puffs_module(),
  };
}

const Catalog& default_catalog() {
  // A function-local constant built on first use: immutable state, not
  // mutable global state, and its construction is thread-safe.
  static const Catalog catalog(all_modules());
  return catalog;
}

}  // namespace vfsim::scenarios
