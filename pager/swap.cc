#include "pager/swap.h"

namespace vfsim::pager {

SwapArea::SwapArea(std::size_t slots) : slots_(slots) {
  free_.reserve(slots);
  for (std::size_t i = slots; i > 0; --i) free_.push_back(static_cast<std::uint32_t>(i - 1));
}

std::optional<std::uint32_t> SwapArea::alloc() {
  if (free_.empty()) return std::nullopt;
  const std::uint32_t s = free_.back();
  free_.pop_back();
  if (slots_[s].empty()) slots_[s].resize(kPageSize);
  return s;
}

void SwapArea::free(std::uint32_t slot) { free_.push_back(slot); }

std::span<std::byte> SwapArea::data(std::uint32_t slot) { return slots_[slot]; }

}  // namespace vfsim::pager
