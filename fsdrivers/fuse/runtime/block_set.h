// A set of pointers in one array, for the foreign-heap tracking of
// isolation.cc: open addressing, linear probing, deletion by shifting back,
// so that tracking a block allocates nothing once the array is large enough.
// Tested against std::set in fsdrivers/fuse/tests/block_set_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace vfsim::fuse {

// The blocks a daemon's code allocated: a set of pointers in one array
// (open addressing, linear probing, deletion by shifting back), so that
// tracking a block allocates nothing once the array is large enough; it
// keeps its size from one run to the next. Only membership is asked; the
// order of the slots is never used for anything but freeing all at once.
class BlockSet {
 public:
  void insert(void* p) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(p);
    while (slots_[i] != nullptr) {
      if (slots_[i] == p) return;
      i = (i + 1) & mask();
    }
    slots_[i] = p;
    ++size_;
  }
  void erase(void* p) {
    if (size_ == 0) return;
    std::size_t i = home(p);
    while (slots_[i] != p) {
      if (slots_[i] == nullptr) return;
      i = (i + 1) & mask();
    }
    slots_[i] = nullptr;
    --size_;
    // Moves back each later entry of the run whose home is not in (i, j].
    for (std::size_t j = (i + 1) & mask(); slots_[j] != nullptr; j = (j + 1) & mask()) {
      const std::size_t k = home(slots_[j]);
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      slots_[j] = nullptr;
      i = j;
    }
  }
  bool contains(const void* p) const {
    if (size_ == 0) return false;
    for (std::size_t i = home(p); slots_[i] != nullptr; i = (i + 1) & mask())
      if (slots_[i] == p) return true;
    return false;
  }
  std::size_t size() const { return size_; }
  // Frees every block and empties the set.
  void free_all() {
    if (size_ != 0) {
      for (void*& p : slots_) {
        if (p == nullptr) continue;
        std::free(p);
        p = nullptr;
      }
    }
    size_ = 0;
    constexpr std::size_t kKeptSlots = std::size_t{1} << 16;  // 512 KiB
    if (slots_.size() > kKeptSlots) std::vector<void*>().swap(slots_);
  }

 private:
  std::size_t mask() const { return slots_.size() - 1; }
  std::size_t home(const void* p) const {
    auto x = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<std::size_t>(x) & mask();
  }
  void grow() {
    std::vector<void*> old(slots_.empty() ? 256 : slots_.size() * 2, nullptr);
    old.swap(slots_);
    size_ = 0;
    for (void* p : old)
      if (p != nullptr) insert(p);
  }
  std::vector<void*> slots_;  // a power of two long, nullptr = empty
  std::size_t size_ = 0;
};

}  // namespace vfsim::fuse
