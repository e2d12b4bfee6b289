// The swap area: a fixed number of page-sized slots that anonymous (memfs)
// pages are paged out to. A slot's bytes are allocated on first use. Guarded
// by the pager lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pager/types.h"

namespace vfsim::pager {

class SwapArea {
 public:
  explicit SwapArea(std::size_t slots);
  std::size_t total() const { return slots_.size(); }
  std::size_t used() const { return slots_.size() - free_.size(); }

  std::optional<std::uint32_t> alloc();
  void free(std::uint32_t slot);
  std::span<std::byte> data(std::uint32_t slot);

 private:
  std::vector<std::vector<std::byte>> slots_;
  std::vector<std::uint32_t> free_;  // a stack: slot 0 is handed out first
};

}  // namespace vfsim::pager
