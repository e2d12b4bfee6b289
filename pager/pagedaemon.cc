// The pagedaemon: woken when free memory drops below freemin (or an
// allocator sleeps for memory), it scans the LRU queue oldest first, frees
// clean pages and puts dirty ones, until free memory reaches freetarg. A
// page-out that fails leaves the page dirty and the scan moves on. A scan
// that frees nothing is reported in the trace and followed by a nap (with
// backoff) before the next try: the allocation a page-out needed may succeed
// later, once other reclaim work freed memory (PERFUSE paper, 4.4).
#include <algorithm>

#include "pager/pager.h"

namespace vfsim::pager {

namespace {
constexpr sim::VTime kNapFirst = 10 * sim::kMillisecond;
constexpr sim::VTime kNapMax = sim::kSecond;
}  // namespace

void Pager::pagedaemon_main() {
  PagerLock g(*this);
  sim::VTime nap = kNapFirst;
  for (;;) {
    while (phys_.free_count() >= freemin_ && !mem_chan_.has_sleepers())
      pd_chan_.sleep(lock_, "pgdaemon");
    // Freed pages woke the memory sleepers already (free_cache_page_locked).
    // A scan is work in progress (pages busy, page-outs in flight): the run
    // does not end in the middle of one. Its naps are idle.
    std::size_t freed = 0;
    {
      sim::DaemonWork work(m_);
      freed = scan_locked(g);
    }
    if (freed != 0) {
      nap = kNapFirst;
      continue;
    }
    ++st_.fruitless_scans;
    m_.event("pagedaemon", "scan freed nothing: free " + std::to_string(phys_.free_count()) +
                               ", dirty " + std::to_string(dirty_total_) + ", kmem " +
                               std::to_string(phys_.kmem_count()));
    // A nap that allocators' pokes do not cut short: they would only make
    // the pagedaemon scan the same unfreeable pages again at once.
    g.unlock();
    m_.sleep_for(nap);
    g.lock();
    nap = std::min(nap * 2, kNapMax);
  }
}

// One pass over the LRU queue as it was when the pass began; a page that was
// freed and reused since (its generation changed) is skipped.
std::size_t Pager::scan_locked(PagerLock& g) {
  ++st_.scans;
  std::size_t freed = 0;
  // Scan to freetarg, or further when a sleeping allocation wants more.
  if (!mem_chan_.has_sleepers()) mem_wanted_ = 0;
  const std::size_t target = std::max(freetarg_, std::min(mem_wanted_, phys_.total()));
  for (const auto& [frame, gen] : phys_.lru_snapshot()) {
    if (phys_.free_count() >= target) break;
    Page& pg = phys_.page(frame);
    if (pg.gen != gen || pg.obj == nullptr || pg.obj->dying_) continue;
    if (pg.state == PageState::clean) {
      free_cache_page_locked(pg);
      ++freed;
    } else if (pg.state == PageState::dirty) {
      bool dropped = false;
      const Status e = pageout_locked(g, pg, &dropped);
      if (dropped) {
        ++freed;
      } else if (e.ok() && pg.gen == gen && pg.state == PageState::clean) {
        free_cache_page_locked(pg);
        ++freed;
      }
    }
  }
  st_.pages_reclaimed += freed;
  return freed;
}

}  // namespace vfsim::pager
