// read and write through the page cache: finding a page, making a new one,
// paging one in.
#include <algorithm>
#include <cstring>

#include "pager/pager.h"

namespace vfsim::pager {

namespace {
std::uint64_t page_of(std::uint64_t off) { return off & ~std::uint64_t{kPageSize - 1}; }
}  // namespace

// Keeps destroy_object waiting while a read or write works on the object
// (it may sleep for memory holding no busy page). No scheduling point.
class ObjectHold {
 public:
  explicit ObjectHold(PageObject& obj) : obj_(obj) { ++obj_.holds_; }
  ~ObjectHold() {
    if (--obj_.holds_ == 0 && obj_.dying_) obj_.busy_chan_->wakeup_quiet();
  }
  ObjectHold(const ObjectHold&) = delete;
  ObjectHold& operator=(const ObjectHold&) = delete;

 private:
  PageObject& obj_;
};

Status Pager::read(PageObject& obj, std::uint64_t offset, std::span<std::byte> dst) {
  PagerLock g(*this);
  VFSIM_KASSERT(m_, !obj.dying_, "read of page object '" + obj.name() + "' being destroyed");
  ObjectHold hold(obj);
  std::size_t done = 0;
  while (done < dst.size()) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t pgoff = page_of(pos);
    const std::size_t in = static_cast<std::size_t>(pos - pgoff);
    const std::size_t n = std::min(kPageSize - in, dst.size() - done);
    Page* pg = nullptr;
    const Status e = get_page_locked(g, obj, pgoff, Access::read, KM_SLEEP, &pg);
    if (!e.ok()) return e;
    if (pg == nullptr) {
      std::memset(dst.data() + done, 0, n);  // an anonymous hole
    } else {
      std::memcpy(dst.data() + done, pg->data + in, n);
      phys_.lru_touch(*pg);
    }
    done += n;
  }
  return kOk;
}

Status Pager::write(PageObject& obj, std::uint64_t offset, std::span<const std::byte> src, Km flag,
                    std::size_t* written) {
  PagerLock g(*this);
  VFSIM_KASSERT(m_, !obj.dying_, "write of page object '" + obj.name() + "' being destroyed");
  ObjectHold hold(obj);
  std::size_t done = 0;
  Status e;
  while (done < src.size()) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t pgoff = page_of(pos);
    const std::size_t in = static_cast<std::size_t>(pos - pgoff);
    const std::size_t n = std::min(kPageSize - in, src.size() - done);
    const Access access = n == kPageSize ? Access::write_whole : Access::write_part;
    Page* pg = nullptr;
    e = get_page_locked(g, obj, pgoff, access, flag, &pg);
    if (!e.ok()) break;
    VFSIM_KASSERT(m_, pg != nullptr && !is_busy(pg->state), "write got no usable page");
    if (pg->state == PageState::clean) {
      state_change(*pg, PageState::clean, PageState::dirty);
      note_dirty_locked(obj);
    }
    std::memcpy(pg->data + in, src.data() + done, n);
    phys_.lru_touch(*pg);
    done += n;
  }
  if (written != nullptr) *written = done;
  return e;
}

// Finds or makes the page at pgoff, waiting while it is busy. *out is null
// only for a read of an anonymous hole.
Status Pager::get_page_locked(PagerLock& g, PageObject& obj, std::uint64_t pgoff, Access access,
                              Km flag, Page** out) {
  for (;;) {
    auto it = obj.pages_.find(pgoff);
    if (it == obj.pages_.end()) {
      const bool hole = obj.anonymous() && !obj.swap_slots_.contains(pgoff);
      if (hole && access == Access::read) {
        *out = nullptr;
        return kOk;
      }
      const Status e = new_page_locked(g, obj, pgoff, access, flag, out);
      if (e == kRetry) continue;
      return e;
    }
    Page& pg = phys_.page(it->second);
    if (!is_busy(pg.state)) {
      *out = &pg;
      return kOk;
    }
    obj.busy_chan_->sleep(lock_, "pgbusy");
  }
}

// Allocates the page at pgoff and fills it: zeros when nothing older exists
// or the write covers it all, else a page-in. kRetry: we slept for memory and
// the world changed (someone made the page, or took the room); look again.
Status Pager::new_page_locked(PagerLock& g, PageObject& obj, std::uint64_t pgoff, Access access,
                              Km flag, Page** out) {
  const auto is_anon_new = [&] { return obj.anonymous() && !obj.swap_slots_.contains(pgoff); };
  const bool anon_new = is_anon_new();
  if (anon_new && anon_pages_ >= anon_limit_) return Status(ENOSPC);  // tmpfs: no room left
  std::uint32_t frame = 0;
  const Status e = take_frames_locked(1, FrameUse::cache, flag, &frame);
  if (!e.ok()) return e;
  Page& pg = phys_.page(frame);
  if (obj.pages_.contains(pgoff) || is_anon_new() != anon_new ||
      (anon_new && anon_pages_ >= anon_limit_)) {
    phys_.give_back_cache(pg);
    wake_memory_waiters();
    return kRetry;
  }
  pg.obj = &obj;
  pg.offset = pgoff;
  obj.pages_.emplace(pgoff, frame);
  if (anon_new || access == Access::write_whole) {
    if (anon_new) ++anon_pages_;
    std::memset(pg.data, 0, kPageSize);
    state_change(pg, PageState::free, PageState::dirty);
    phys_.lru_insert(pg);
    note_dirty_locked(obj);
    *out = &pg;
    return kOk;
  }
  const Status ein = page_in_locked(g, obj, pg);
  if (!ein.ok()) return ein;
  *out = &pg;
  return kOk;
}

// Fills a new page from the backing store (PagerOps or the swap slot). The
// page is busy and the lock dropped meanwhile; on error the page is freed.
Status Pager::page_in_locked(PagerLock& g, PageObject& obj, Page& pg) {
  state_change(pg, PageState::free, PageState::busy_in);
  pg.busy_owner = m_.current_id();
  const std::uint64_t off = pg.offset;
  g.unlock();
  Status e;
  if (obj.ops_ != nullptr) {
    m_.sched_point("pagein");
    e = obj.ops_->getpages(obj, off, std::span<std::byte>(pg.data, kPageSize));
  } else {
    m_.sched_point("swap_in");
  }
  g.lock();
  ++st_.pageins;
  pg.busy_owner = sim::kNoLwp;
  if (e.ok()) {
    if (obj.anonymous()) {
      const auto slot = swap_.data(obj.swap_slots_.at(off));
      std::memcpy(pg.data, slot.data(), kPageSize);
    }
    state_change(pg, PageState::busy_in, PageState::clean);
    phys_.lru_insert(pg);
  } else {
    free_cache_page_locked(pg);
  }
  obj.busy_chan_->wakeup_quiet();
  return e;
}

// Takes a page (any state but free) out of its object and frees it.
void Pager::free_cache_page_locked(Page& pg) {
  PageObject& obj = *pg.obj;
  phys_.lru_remove(pg);
  obj.pages_.erase(pg.offset);
  state_change(pg, pg.state, PageState::free);
  pg.obj = nullptr;
  pg.offset = 0;
  pg.busy_owner = sim::kNoLwp;
  phys_.give_back_cache(pg);
  wake_memory_waiters();
}

// A page became dirty: the syncer, when idle, has work again (not for
// anonymous pages, which it leaves alone).
void Pager::note_dirty_locked(const PageObject& obj) {
  if (obj.anonymous()) return;
  if (syncer_idle_ && syncer_chan_.has_sleepers()) syncer_chan_.wakeup_quiet();
}

}  // namespace vfsim::pager
