#include "pager/phys.h"

#include <algorithm>

namespace vfsim::pager {

PhysMem::PhysMem(std::size_t pages) : bytes_(new std::byte[pages * kPageSize]), pages_(pages) {
  free_list_.reserve(pages);
  for (std::size_t i = 0; i < pages; ++i) {
    pages_[i].frame = static_cast<std::uint32_t>(i);
    pages_[i].data = bytes_.get() + i * kPageSize;
  }
  // Highest frame at the bottom of the stack: frame 0 is handed out first.
  for (std::size_t i = pages; i > 0; --i) free_list_.push_back(static_cast<std::uint32_t>(i - 1));
}

std::uint32_t PhysMem::take(FrameUse use) {
  const std::uint32_t frame = free_list_.back();
  free_list_.pop_back();
  switch (use) {
    case FrameUse::cache: ++cache_; break;
    case FrameUse::kmem: kmem_.push_back(frame); break;
    case FrameUse::wired: wired_.push_back(frame); break;
  }
  return frame;
}

void PhysMem::give_back(FrameUse use) {
  std::vector<std::uint32_t>& from = use == FrameUse::kmem ? kmem_ : wired_;
  free_list_.push_back(from.back());
  from.pop_back();
}

void PhysMem::give_back_cache(Page& pg) {
  ++pg.gen;
  --cache_;
  free_list_.push_back(pg.frame);
}

void PhysMem::lru_insert(Page& pg) {
  pg.lru = lru_.insert(lru_.end(), pg.frame);
  pg.on_lru = true;
}

void PhysMem::lru_remove(Page& pg) {
  if (!pg.on_lru) return;
  lru_.erase(pg.lru);
  pg.on_lru = false;
}

void PhysMem::lru_touch(Page& pg) {
  if (!pg.on_lru) return;
  lru_.splice(lru_.end(), lru_, pg.lru);
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> PhysMem::lru_snapshot() const {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  out.reserve(lru_.size());
  for (std::uint32_t f : lru_) out.emplace_back(f, pages_[f].gen);
  return out;
}

std::string PhysMem::check() const {
  const std::size_t sum = free_count() + cache_ + kmem_count() + wired_count();
  if (sum != total()) {
    return "free " + std::to_string(free_count()) + " + cache " + std::to_string(cache_) +
           " + kmem " + std::to_string(kmem_count()) + " + wired " + std::to_string(wired_count()) +
           " != total " + std::to_string(total());
  }
  std::size_t in_objects = 0;
  for (const Page& pg : pages_) in_objects += pg.state != PageState::free ? 1 : 0;
  if (in_objects != cache_) {
    return "cache count " + std::to_string(cache_) + " but " + std::to_string(in_objects) +
           " pages belong to objects";
  }
  return "";
}

}  // namespace vfsim::pager
