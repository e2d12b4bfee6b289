// The machine's physical memory: a fixed pool of pages and where each one is.
// Every page is in exactly one place — the free list, an object's page cache,
// kmem or wired — so free + cache + kmem + wired == total always holds; the
// Pager registers check() as a machine invariant. The LRU queue orders the
// cached pages that are not busy, least recently used first. Everything here
// is guarded by the pager lock; PhysMem itself never blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pager/page.h"
#include "pager/types.h"

namespace vfsim::pager {

enum class FrameUse : std::uint8_t { cache, kmem, wired };

class PhysMem {
 public:
  explicit PhysMem(std::size_t pages);

  std::size_t total() const { return pages_.size(); }
  std::size_t free_count() const { return free_list_.size(); }
  std::size_t cache_count() const { return cache_; }
  std::size_t kmem_count() const { return kmem_.size(); }
  std::size_t wired_count() const { return wired_.size(); }

  Page& page(std::uint32_t frame) { return pages_[frame]; }
  const Page& page(std::uint32_t frame) const { return pages_[frame]; }
  const std::vector<Page>& pages() const { return pages_; }

  // Takes one free frame for `use`; the caller checked free_count() > 0.
  std::uint32_t take(FrameUse use);
  // Returns a kmem or wired frame (any one: they hold no identity).
  void give_back(FrameUse use);
  // Returns a cache page, already in state free, to the free list.
  void give_back_cache(Page& pg);

  // LRU queue of cached, non-busy pages.
  void lru_insert(Page& pg);
  void lru_remove(Page& pg);
  void lru_touch(Page& pg);
  // (frame, gen) of every queued page, oldest first: a scan's worklist.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> lru_snapshot() const;

  // "" when the accounting adds up, else what is wrong.
  std::string check() const;

 private:
  // pages_.size() * kPageSize bytes, left uninitialised: a page's bytes are
  // always written (zero fill, page-in) before anyone reads them, and the
  // host only backs the pages a run touches.
  std::unique_ptr<std::byte[]> bytes_;
  std::vector<Page> pages_;
  std::vector<std::uint32_t> free_list_;  // a stack: LIFO, deterministic
  std::vector<std::uint32_t> kmem_;
  std::vector<std::uint32_t> wired_;
  std::size_t cache_ = 0;
  std::list<std::uint32_t> lru_;
};

}  // namespace vfsim::pager
