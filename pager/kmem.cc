// Allocating frames: kmem, wiring and the common path that sleeps for memory
// or fails, with fault injection.
#include "pager/kmem.h"

#include <algorithm>
#include <utility>

#include "pager/pager.h"

namespace vfsim::pager {

KmemBlock::KmemBlock(KmemBlock&& o) noexcept
    : pager_(std::exchange(o.pager_, nullptr)), buf_(std::move(o.buf_)) {}

KmemBlock& KmemBlock::operator=(KmemBlock&& o) noexcept {
  if (this != &o) {
    release();
    pager_ = std::exchange(o.pager_, nullptr);
    buf_ = std::move(o.buf_);
  }
  return *this;
}

KmemBlock::~KmemBlock() { release(); }

void KmemBlock::release() {
  if (pager_ != nullptr) std::exchange(pager_, nullptr)->kmem_release(*this);
  buf_.clear();
}

Km Pager::effective_flag(Km flag) const {
  if (flag == KM_SLEEP && cfg_.pagedaemon_nosleep && in_pagedaemon()) return KM_NOSLEEP;
  return flag;
}

void Pager::wake_memory_waiters() {
  if (mem_chan_.has_sleepers()) mem_chan_.wakeup_quiet();
}

void Pager::poke_pagedaemon() {
  if (pd_chan_.has_sleepers()) pd_chan_.wakeup_quiet();
}

// Takes n frames for `use` with the pager lock held. Sleeps on "free memory"
// (dropping the lock) while memory is short and `flag` allows it; there is no
// scheduling point between finding memory short and sleeping, so a free
// cannot be missed.
Status Pager::take_frames_locked(std::size_t n, FrameUse use, Km flag, std::uint32_t* frame) {
  if (faults_.should_fail(m_.rng())) {
    ++st_.injected_failures;
    ++st_.alloc_failures;
    m_.event("fault", "allocation " + std::to_string(faults_.count()) + " fails");
    return Status(ENOMEM);
  }
  const Km eff = effective_flag(flag);
  for (;;) {
    if (phys_.free_count() >= n) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t f = phys_.take(use);
        if (frame != nullptr) *frame = f;
      }
      if (phys_.free_count() < freemin_) poke_pagedaemon();
      return kOk;
    }
    if (eff == KM_NOSLEEP || n > phys_.total()) {
      ++st_.alloc_failures;
      poke_pagedaemon();
      return Status(ENOMEM);
    }
    poke_pagedaemon();
    mem_wanted_ = std::max(mem_wanted_, n);
    mem_chan_.sleep(lock_, in_pagedaemon() ? "kmem in pagedaemon" : "kmem");
  }
}

void Pager::return_frames(std::size_t n, FrameUse use) {
  for (std::size_t i = 0; i < n; ++i) phys_.give_back(use);
  if (n != 0) wake_memory_waiters();
}

KmemBlock Pager::kmem_alloc(std::size_t size, Km flag) {
  PagerLock g(*this);
  const std::size_t have = phys_.kmem_count();
  const std::size_t need_total = (kmem_bytes_ + size + kPageSize - 1) / kPageSize;
  const std::size_t need = need_total > have ? need_total - have : 0;
  // Every call counts as one allocation for fault injection, even one that
  // fits in the arena's current pages.
  Status e;
  if (need == 0) {
    if (faults_.should_fail(m_.rng())) {
      ++st_.injected_failures;
      ++st_.alloc_failures;
      m_.event("fault", "allocation " + std::to_string(faults_.count()) + " fails");
      e = Status(ENOMEM);
    }
  } else {
    e = take_frames_locked(need, FrameUse::kmem, flag);
  }
  if (!e.ok()) return KmemBlock();
  // take_frames_locked may have slept: another allocation may have grown the
  // arena meanwhile, so give back what is now more than needed.
  kmem_bytes_ += size;
  const std::size_t want = (kmem_bytes_ + kPageSize - 1) / kPageSize;
  if (phys_.kmem_count() > want) return_frames(phys_.kmem_count() - want, FrameUse::kmem);
  VFSIM_KASSERT(m_, phys_.kmem_count() == want, "kmem arena short after allocation");
  return KmemBlock(this, size);
}

void Pager::kmem_free(KmemBlock& block) { block.release(); }

// Without the lock and without a scheduling point: fibers are cooperative,
// so this runs atomically, and it may run while unwinding a killed lwp.
void Pager::kmem_release(KmemBlock& block) {
  VFSIM_KASSERT(m_, kmem_bytes_ >= block.size(), "kmem freed more than allocated");
  kmem_bytes_ -= block.size();
  const std::size_t want = (kmem_bytes_ + kPageSize - 1) / kPageSize;
  if (phys_.kmem_count() > want) return_frames(phys_.kmem_count() - want, FrameUse::kmem);
}

Status Pager::wire(std::size_t pages, Km flag) {
  PagerLock g(*this);
  return take_frames_locked(pages, FrameUse::wired, flag);
}

void Pager::unwire(std::size_t pages) {
  PagerLock g(*this);
  VFSIM_KASSERT(m_, pages <= phys_.wired_count(), "unwire of more pages than wired");
  return_frames(pages, FrameUse::wired);
}

}  // namespace vfsim::pager
