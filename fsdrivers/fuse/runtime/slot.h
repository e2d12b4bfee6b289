// Which FUSE daemon process an lwp belongs to: the lwp's slot named
// kFuseSlotOwner holds its FuseDaemon (null for every other lwp). Foreign C code
// carries no context, so the shim finds the machine through the one
// sanctioned thread_local (sim::Machine::running_on_this_thread) and the
// process through the running lwp's slot.
#pragma once

#include "sim/machine.h"

namespace vfsim::fuse {

class FuseDaemon;

// The name under which the FUSE runtime takes its lwp slot of a machine.
inline constexpr std::string_view kFuseSlotOwner = "fuse.daemon";

// The daemon of the calling lwp; null outside a running machine, outside an
// lwp, or in an lwp of no daemon.
inline FuseDaemon* current_daemon() {
  sim::Machine* m = sim::Machine::running_on_this_thread();
  if (m == nullptr || !m->in_lwp()) return nullptr;
  return static_cast<FuseDaemon*>(m->current().slots[m->lwp_slot(kFuseSlotOwner).index]);
}

}  // namespace vfsim::fuse
