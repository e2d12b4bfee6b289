// Page-out and everything built on it: fsync, the kept write-back error,
// truncation.
#include <cstring>
#include <utility>
#include <vector>

#include "pager/pager.h"

namespace vfsim::pager {

namespace {
std::uint64_t page_of(std::uint64_t off) { return off & ~std::uint64_t{kPageSize - 1}; }
}  // namespace

// Writes one dirty page back: to its swap slot (anonymous) or with
// PagerOps::putpages. The page is busy and the lock dropped around the I/O.
// *dropped is set when the page was freed (the historic msdosfs behaviour).
Status Pager::pageout_locked(PagerLock& g, Page& pg, bool* dropped) {
  PageObject& obj = *pg.obj;
  const std::uint64_t off = pg.offset;
  if (obj.anonymous() && !obj.swap_slots_.contains(off)) {
    const auto slot = swap_.alloc();
    if (!slot) {
      ++st_.pageout_errors;
      return Status(ENOMEM);  // no swap left: the page stays dirty and resident
    }
    obj.swap_slots_.emplace(off, *slot);
  }
  state_change(pg, PageState::dirty, PageState::busy_out);
  pg.busy_owner = m_.current_id();
  phys_.lru_remove(pg);
  g.unlock();
  Status e;
  if (obj.ops_ != nullptr) {
    m_.sched_point("pageout");
    e = obj.ops_->putpages(obj, off, std::span<const std::byte>(pg.data, kPageSize));
  } else {
    m_.sched_point("swap_out");
  }
  g.lock();
  if (e.ok() && obj.anonymous()) {
    std::memcpy(swap_.data(obj.swap_slots_.at(off)).data(), pg.data, kPageSize);
  }
  finish_pageout_locked(pg, e, dropped);
  return *dropped ? kOk : e;  // the historic drop ignores the error
}

void Pager::finish_pageout_locked(Page& pg, Status e, bool* dropped) {
  PageObject& obj = *pg.obj;
  ++st_.pageouts;
  pg.busy_owner = sim::kNoLwp;
  if (e.ok()) {
    state_change(pg, PageState::busy_out, PageState::clean);
    phys_.lru_insert(pg);
  } else if (is_transient(e) || cfg_.writeback_errors_kept) {
    ++st_.pageout_errors;
    if (!is_transient(e)) {
      ++st_.writeback_errors;
      if (obj.wb_error_.ok()) obj.wb_error_ = e;
      m_.event("pager", "write-back error " + std::to_string(e.err()) + " on '" + obj.name() +
                            "' at " + std::to_string(pg.offset) + ", kept");
    }
    state_change(pg, PageState::busy_out, PageState::dirty);
    phys_.lru_insert(pg);
  } else {
    // pager.writeback_errors_kept=false: the error is ignored and the data
    // dropped from the page cache, as msdosfs did before revision 1.53.
    ++st_.pageout_errors;
    ++st_.writeback_dropped;
    m_.event("pager", "write-back error " + std::to_string(e.err()) + " on '" + obj.name() +
                          "' at " + std::to_string(pg.offset) + " ignored, page dropped");
    free_cache_page_locked(pg);
    *dropped = true;
  }
  obj.busy_chan_->wakeup_quiet();
}

// Puts every dirty page of obj, in offset order, waiting for pages someone
// else is putting. Returns the first error.
Status Pager::flush_locked(PagerLock& g, PageObject& obj) {
  ++obj.holds_;
  Status first;
  std::uint64_t cursor = 0;
  for (;;) {
    auto it = obj.pages_.lower_bound(cursor);
    while (it != obj.pages_.end()) {
      const PageState s = phys_.page(it->second).state;
      if (s == PageState::dirty || s == PageState::busy_out) break;
      ++it;
    }
    if (it == obj.pages_.end()) break;
    Page& pg = phys_.page(it->second);
    if (pg.state == PageState::busy_out) {
      obj.busy_chan_->sleep(lock_, "fsync_busy");
      continue;
    }
    cursor = it->first + kPageSize;
    bool dropped = false;
    const Status e = pageout_locked(g, pg, &dropped);
    if (!e.ok() && first.ok()) first = e;
  }
  --obj.holds_;
  if (obj.holds_ == 0 && obj.dying_) obj.busy_chan_->wakeup_quiet();
  return first;
}

Status Pager::fsync(PageObject& obj) {
  PagerLock g(*this);
  const Status first = flush_locked(g, obj);
  const Status kept = std::exchange(obj.wb_error_, kOk);
  return !kept.ok() ? kept : first;
}

Status Pager::take_error(PageObject& obj) {
  PagerLock g(*this);
  return std::exchange(obj.wb_error_, kOk);
}

Status Pager::truncate(PageObject& obj, std::uint64_t size) {
  PagerLock g(*this);
  const std::uint64_t tail_page = page_of(size);
  while (has_busy_locked(obj, tail_page)) obj.busy_chan_->sleep(lock_, "trunc_busy");
  const std::uint64_t keep_end = page_of(size + kPageSize - 1);
  std::vector<std::uint64_t> gone;
  for (auto it = obj.pages_.lower_bound(keep_end); it != obj.pages_.end(); ++it)
    gone.push_back(it->first);
  for (auto it = obj.swap_slots_.lower_bound(keep_end); it != obj.swap_slots_.end(); ++it)
    gone.push_back(it->first);
  for (std::uint64_t off : gone) drop_offset_locked(obj, off);
  if (size % kPageSize != 0) zero_tail_locked(g, obj, size);
  return kOk;
}

// Zeros the bytes of the last page past `size`, so a later extension reads
// zeros there.
void Pager::zero_tail_locked(PagerLock& g, PageObject& obj, std::uint64_t size) {
  (void)g;
  const std::uint64_t pgoff = page_of(size);
  const std::size_t in = static_cast<std::size_t>(size - pgoff);
  if (auto it = obj.pages_.find(pgoff); it != obj.pages_.end()) {
    Page& pg = phys_.page(it->second);
    std::memset(pg.data + in, 0, kPageSize - in);
    if (pg.state == PageState::clean) {
      state_change(pg, PageState::clean, PageState::dirty);
      note_dirty_locked(obj);
    }
  } else if (auto s = obj.swap_slots_.find(pgoff); s != obj.swap_slots_.end()) {
    std::memset(swap_.data(s->second).data() + in, 0, kPageSize - in);
  }
}

// Forgets the page and the swap slot at `off` (either may be absent).
void Pager::drop_offset_locked(PageObject& obj, std::uint64_t off) {
  bool had = false;
  if (auto s = obj.swap_slots_.find(off); s != obj.swap_slots_.end()) {
    swap_.free(s->second);
    obj.swap_slots_.erase(s);
    had = true;
  }
  if (auto p = obj.pages_.find(off); p != obj.pages_.end()) {
    Page& pg = phys_.page(p->second);
    VFSIM_KASSERT(m_, !is_busy(pg.state), "dropping a busy page");
    free_cache_page_locked(pg);
    had = true;
  }
  if (obj.anonymous() && had) --anon_pages_;
}

}  // namespace vfsim::pager

namespace vfsim::pager {

// Drops the clean pages of [offset, offset + len) (whole pages that touch
// the range), after the busy ones there are done. Dirty pages stay: they
// are newer than the backing store and a later flush writes them.
Status Pager::invalidate(PageObject& obj, std::uint64_t offset, std::uint64_t len) {
  PagerLock g(*this);
  const std::uint64_t from = page_of(offset);
  const std::uint64_t to = len > UINT64_MAX - offset ? UINT64_MAX : offset + len;
  for (;;) {
    bool busy = false;
    for (auto it = obj.pages_.lower_bound(from); it != obj.pages_.end() && it->first < to; ++it) {
      busy = busy || is_busy(phys_.page(it->second).state);
    }
    if (!busy) break;
    obj.busy_chan_->sleep(lock_, "inval_busy");
  }
  std::vector<std::uint64_t> gone;
  for (auto it = obj.pages_.lower_bound(from); it != obj.pages_.end() && it->first < to; ++it) {
    if (phys_.page(it->second).state == PageState::clean) gone.push_back(it->first);
  }
  for (std::uint64_t off : gone) drop_offset_locked(obj, off);
  return kOk;
}

// The cached bytes from `offset` on, as long as pages are resident and
// valid, at most `len` of them.
std::string Pager::peek(PageObject& obj, std::uint64_t offset, std::size_t len) {
  PagerLock g(*this);
  std::string out;
  while (out.size() < len) {
    const std::uint64_t at = offset + out.size();
    auto it = obj.pages_.find(page_of(at));
    if (it == obj.pages_.end()) break;
    const Page& pg = phys_.page(it->second);
    if (pg.state == PageState::busy_in) break;
    const std::size_t in = static_cast<std::size_t>(at - page_of(at));
    const std::size_t n = std::min(kPageSize - in, len - out.size());
    out.append(reinterpret_cast<const char*>(pg.data) + in, n);
  }
  return out;
}

}  // namespace vfsim::pager
