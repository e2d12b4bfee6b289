// The list of scenario modules. To add a layer's ops to scenarios, write its
// module in scenarios/modules/ (it gets the World, boot/world.h) and add it
// here (one line).
#include "scenarios/modules.h"

#include "scenarios/modules/fuse_module.h"
#include "scenarios/modules/pager_module.h"
#include "scenarios/modules/puffs_module.h"
#include "scenarios/modules/vfs_module.h"
#include "scenarios/sched_module.h"

namespace vfsim::scenarios {

ModuleList all_modules() {
  return {
      make_sched_module(),        pager::make_pager_module(), vfs::make_vfs_module(),
      puffs::make_puffs_module(), fuse::make_fuse_module(),
  };
}

const Catalog& default_catalog() {
  // A function-local constant built on first use: immutable state, not
  // mutable global state, and its construction is thread-safe.
  static const Catalog catalog(all_modules());
  return catalog;
}

}  // namespace vfsim::scenarios
