// The syncer: every syncer_period of virtual time it puts the dirty pages of
// every object with a backing store (in creation order). Anonymous pages are
// not its business: like tmpfs pages they only go to swap under pressure. With nothing dirty it
// sleeps without a timer until a page is dirtied, so an idle machine has no pending timer and a
// stuck one is seen as stuck (deadlock or hang) instead of ticking on. Errors are not reported
// here: write-back errors stay on their object for the next fsync/close, transient ones are retried
// on the next pass.
#include "pager/pager.h"

namespace vfsim::pager {

void Pager::syncer_main() {
  PagerLock g(*this);
  for (;;) {
    while (dirty_backed_ == 0) {
      syncer_idle_ = true;
      syncer_chan_.sleep(lock_, "syncer idle");
      syncer_idle_ = false;
    }
    syncer_chan_.sleep(lock_, "syncer", cfg_.syncer_period);
    sim::DaemonWork work(m_);  // a pass in progress: page-outs in flight
    syncer_pass_locked(g);
  }
}

void Pager::syncer_pass_locked(PagerLock& g) {
  std::uint64_t next = 0;
  for (;;) {
    auto it = objects_.lower_bound(next);
    while (it != objects_.end() &&
           (it->second->anonymous() || it->second->dirty_ == 0 || it->second->dying_))
      ++it;
    if (it == objects_.end()) return;
    next = it->first + 1;
    // Errors stay on the object (kept) or are retried next pass (transient).
    (void)flush_locked(g, *it->second);
  }
}

}  // namespace vfsim::pager
