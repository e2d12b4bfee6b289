// The `pager` scenario module: the machine's memory knobs, ops to look at
// and squeeze memory, and a fake file system for the pagedaemon deadlock.
//
// Knobs (they become the BootConfig's pager; the World builds it):
//   pager.pages             physical pages of 4 KiB; 0 (default) = no memory
//                           model: memfs keeps file data in plain maps and no
//                           pagedaemon or syncer lwp exists, so scenarios
//                           about other things keep their schedules
//   pager.swap_slots        swap for memfs pages (256)
//   pager.freemin, pager.freetarg   pagedaemon thresholds (0 = pages/32, /16)
//   pager.syncer_period_ms  syncer period in virtual ms (100; 0 = no syncer)
//   pager.pagedaemon_nosleep        (true) the PERFUSE fix
//   pager.writeback_errors_kept     (true) the msdosfs fix
//   pager.kmem_fail_nth     fail the k-th allocation (0 = never)
//   pager.kmem_fail_p       fail each allocation with this probability (0)
//
// Ops: pager.stats (a record of the counters), pager.check (the accounting
// invariant), pager.wire / pager.unwire (take memory away), and the fake
// file system: pager.fake_create, pager.fake_write, pager.fake_fsync,
// pager.fake_destroy (a file whose putpages allocates a message with
// KM_SLEEP, as the puffs kernel stub does).
#pragma once

#include <memory>

#include "scenarios/registry.h"

namespace vfsim::pager {

// The module; its knobs become BootConfig::pager (Module::configure).
[[nodiscard]] std::shared_ptr<const scenarios::Module> make_pager_module();

}  // namespace vfsim::pager
