// The pager: physical memory, kmem, the page cache, the swap area, the syncer
// and the pagedaemon of one machine (DESIGN.md, "pager/"). A file system uses
// it like this:
//
//   PageObject& obj = pager.create_object("vnode 7", my_ops, vp);  // or
//   PageObject& obj = pager.create_anon_object("memfs file 7");    // swap-backed
//   pager.write(obj, off, bytes, KM_SLEEP, &n);  // dirties pages; ENOMEM / ENOSPC
//   pager.read(obj, off, buf);                   // pages in missing pages
//   pager.fsync(obj);                            // puts dirty pages; returns kept error
//   pager.take_error(obj);                       // at close: the kept error
//   pager.truncate(obj, size);
//   pager.destroy_object(obj);                   // at reclaim (after fsync)
//
// Locking: one sim Mutex, the pager lock (lock_), guards PhysMem, the swap
// area, every object's fields and every page's state. It is the innermost
// lock of the kernel: it is never held while calling out (PagerOps, which
// may take vnode or server locks) — pages are marked busy instead and the
// lock is dropped around every page-in and page-out. Sleeping for memory or
// for a busy page drops it atomically (WaitChannel interlock).
//
// Memory waits form the graph the deadlock oracle reads: the channel "free
// memory" declares the pagedaemon as its only waker, so the pagedaemon
// sleeping there itself (a putpages that allocates with KM_SLEEP in its
// context, pager.pagedaemon_nosleep=false) is the reported cycle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "pager/fault.h"
#include "pager/kmem.h"
#include "pager/object.h"
#include "pager/page.h"
#include "pager/phys.h"
#include "pager/swap.h"
#include "pager/types.h"
#include "sim/machine.h"
#include "sim/sync.h"

namespace vfsim::pager {

struct PagerStats {
  std::size_t total = 0, free = 0, cache = 0, kmem = 0, wired = 0, dirty = 0;
  std::size_t swap_used = 0, swap_total = 0, anon_pages = 0, anon_limit = 0;
  std::uint64_t allocations = 0, alloc_failures = 0, injected_failures = 0;
  std::uint64_t pageins = 0, pageouts = 0, pageout_errors = 0;
  std::uint64_t scans = 0, fruitless_scans = 0, pages_reclaimed = 0;
  std::uint64_t writeback_errors = 0, writeback_dropped = 0;
};

class PagerLock;

class Pager {
 public:
  // Registers the accounting invariant and the leak checks on `m`.
  Pager(sim::Machine& m, PagerConfig cfg);
  ~Pager();
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  // Spawns the pagedaemon and syncer daemons; call once, before run() or
  // from an lwp.
  void start();

  sim::Machine& machine() { return m_; }
  const PagerConfig& config() const { return cfg_; }
  // True when the calling lwp is the pagedaemon.
  bool in_pagedaemon() const;
  sim::LwpId pagedaemon_lwp() const { return pagedaemon_; }

  // --- kernel memory -----------------------------------------------------
  // A scheduling point. KM_SLEEP waits for memory (waking the pagedaemon);
  // KM_NOSLEEP returns an empty block at once. In the pagedaemon's context a
  // KM_SLEEP behaves as KM_NOSLEEP when pager.pagedaemon_nosleep is on. An
  // injected fault (fault.h) empties even a KM_SLEEP block.
  [[nodiscard]] KmemBlock kmem_alloc(std::size_t size, Km flag);
  void kmem_free(KmemBlock& block);
  // Takes `pages` frames out of circulation (mlock-like); ENOMEM as kmem.
  [[nodiscard]] Status wire(std::size_t pages, Km flag);
  void unwire(std::size_t pages);

  // --- objects -----------------------------------------------------------
  PageObject& create_object(std::string name, PagerOps& ops, void* cookie = nullptr);
  PageObject& create_anon_object(std::string name, void* cookie = nullptr);
  // Waits for busy pages and flushers, then discards every page and swap
  // slot (dirty ones too: fsync first to keep them). From an lwp.
  void destroy_object(PageObject& obj);

  // --- I/O through the page cache (from an lwp) --------------------------
  // Copies [offset, offset + dst.size()) out of the cache, paging in what is
  // missing. Never-written anonymous pages read as zeros without a page.
  [[nodiscard]] Status read(PageObject& obj, std::uint64_t offset, std::span<std::byte> dst);
  // Copies src into the cache and dirties the pages. `flag` is the caller's
  // kmem flag for the new pages. ENOSPC when an anonymous page would exceed
  // memory + swap; ENOMEM when a page could not be had. *written (if given)
  // says how many bytes went in before an error.
  [[nodiscard]] Status write(PageObject& obj, std::uint64_t offset, std::span<const std::byte> src,
                             Km flag, std::size_t* written = nullptr);
  // Puts every dirty page (waiting for pages being put); returns the kept
  // write-back error if any (and clears it), else the first error of this flush.
  [[nodiscard]] Status fsync(PageObject& obj);
  // For close: returns and clears the kept write-back error.
  [[nodiscard]] Status take_error(PageObject& obj);
  // Drops pages past `size` and zeros the tail of the last page.
  [[nodiscard]] Status truncate(PageObject& obj, std::uint64_t size);
  // Drops the clean pages touching [offset, offset + len); dirty ones stay
  // (a backing store telling the cache that it changed: FUSE's inval_inode).
  [[nodiscard]] Status invalidate(PageObject& obj, std::uint64_t offset, std::uint64_t len);
  // The resident, valid bytes from `offset` on (stops at the first missing
  // page), at most `len`: what the cache can give back (FUSE's retrieve).
  [[nodiscard]] std::string peek(PageObject& obj, std::uint64_t offset, std::size_t len);

  PagerStats stats() const;
  // The accounting invariant: "" when it holds.
  std::string check() const;

 private:
  friend class PagerLock;
  friend class KmemBlock;
  enum class Access : std::uint8_t { read, write_whole, write_part };

  Km effective_flag(Km flag) const;
  // Internal to new_page_locked / get_page_locked: look again.
  static constexpr Status kRetry{-1};
  [[nodiscard]] Status take_frames_locked(std::size_t n, FrameUse use, Km flag,
                                          std::uint32_t* frame = nullptr);
  void return_frames(std::size_t n, FrameUse use);
  void kmem_release(KmemBlock& block);
  void wake_memory_waiters();
  void poke_pagedaemon();
  void state_change(Page& pg, PageState from, PageState to);

  [[nodiscard]] Status get_page_locked(PagerLock& g, PageObject& obj, std::uint64_t pgoff,
                                       Access access, Km flag, Page** out);
  [[nodiscard]] Status new_page_locked(PagerLock& g, PageObject& obj, std::uint64_t pgoff,
                                       Access access, Km flag, Page** out);
  [[nodiscard]] Status page_in_locked(PagerLock& g, PageObject& obj, Page& pg);
  [[nodiscard]] Status pageout_locked(PagerLock& g, Page& pg, bool* dropped);
  void finish_pageout_locked(Page& pg, Status e, bool* dropped);
  [[nodiscard]] Status flush_locked(PagerLock& g, PageObject& obj);
  void free_cache_page_locked(Page& pg);
  void drop_offset_locked(PageObject& obj, std::uint64_t off);
  bool has_busy_locked(const PageObject& obj, std::uint64_t from) const;
  void note_dirty_locked(const PageObject& obj);
  void zero_tail_locked(PagerLock& g, PageObject& obj, std::uint64_t size);

  void pagedaemon_main();
  std::size_t scan_locked(PagerLock& g);
  void syncer_main();
  void syncer_pass_locked(PagerLock& g);

  sim::Machine& m_;
  PagerConfig cfg_;
  std::size_t freemin_;
  std::size_t freetarg_;
  sim::Mutex lock_;
  sim::WaitChannel mem_chan_;     // allocators waiting for free memory; waker: pagedaemon
  sim::WaitChannel pd_chan_;      // the pagedaemon's sleep
  sim::WaitChannel syncer_chan_;  // the syncer's sleep
  PhysMem phys_;                  // [lock]
  SwapArea swap_;                 // [lock]
  AllocFaults faults_;            // [lock]
  std::size_t kmem_bytes_ = 0;    // [lock]
  std::size_t anon_pages_ = 0;    // [lock] anonymous pages resident or in swap
  std::size_t anon_limit_;
  std::size_t dirty_total_ = 0;   // [lock]
  std::size_t dirty_backed_ = 0;  // [lock] dirty pages of objects with PagerOps
  std::size_t mem_wanted_ = 0;    // [lock] largest request asleep on mem_chan_
  bool syncer_idle_ = false;      // [lock]
  std::map<std::uint64_t, std::unique_ptr<PageObject>> objects_;  // [lock] by id
  std::uint64_t next_object_ = 1;
  sim::LwpId pagedaemon_ = sim::kNoLwp;
  sim::LwpId syncer_ = sim::kNoLwp;
  PagerStats st_;  // [lock] counters only
};

// The pager lock as a scope guard. Its destructor may be a scheduling point,
// which may throw LwpKilled when the run is ending, hence noexcept(false);
// during unwinding the machine makes scheduling points return quietly.
class PagerLock {
 public:
  explicit PagerLock(Pager& p) : lock_(p.lock_) { lock_.lock(); }
  ~PagerLock() noexcept(false) {
    if (held_) lock_.unlock();
  }
  PagerLock(const PagerLock&) = delete;
  PagerLock& operator=(const PagerLock&) = delete;
  void unlock() {
    held_ = false;
    lock_.unlock();
  }
  void lock() {
    lock_.lock();
    held_ = true;
  }
  sim::Mutex& mutex() { return lock_; }

 private:
  sim::Mutex& lock_;
  bool held_ = true;
};

}  // namespace vfsim::pager
