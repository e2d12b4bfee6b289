// The `pager` scenario module: the machine's memory knobs, ops to look at
// and squeeze memory, and a fake file system for the pagedaemon deadlock.
//
// Knobs (all read by whoever builds the kernel, see pager_config_from):
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
#include <optional>

#include "pager/types.h"
#include "scenarios/registry.h"

namespace vfsim::pager {

class Pager;

// A module state that owns the machine's pager (the vfs module's, whose
// kernel owns it) implements this, so the pager ops can find it.
class PagerHost {
 public:
  virtual ~PagerHost() = default;
  [[nodiscard]] virtual Pager* machine_pager() = 0;
};

// The PagerConfig the knobs describe, or nothing when pager.pages is 0 or
// the pager module is not in the catalog.
[[nodiscard]] std::optional<PagerConfig> pager_config_from(const scenarios::Config& config);

[[nodiscard]] std::shared_ptr<const scenarios::Module> make_pager_module();

}  // namespace vfsim::pager
