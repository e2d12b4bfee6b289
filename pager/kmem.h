// Kernel memory from the page pool (kmem(9)). Bytes are accounted in whole
// pages: the arena holds ceil(bytes in use / kPageSize) frames, so small
// allocations share a page and a large one takes several. The memory itself
// is a host buffer; only the accounting lives in the pool.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace vfsim::pager {

class Pager;

// Memory returned by Pager::kmem_alloc. Move-only; an empty block means the
// allocation failed. Release it with Pager::kmem_free (or let it go out of
// scope: the destructor frees it without a scheduling point, so unwinding a
// killed lwp never switches fibers). It must not outlive its Pager.
class KmemBlock {
 public:
  KmemBlock() = default;
  KmemBlock(KmemBlock&& o) noexcept;
  KmemBlock& operator=(KmemBlock&& o) noexcept;
  KmemBlock(const KmemBlock&) = delete;
  KmemBlock& operator=(const KmemBlock&) = delete;
  ~KmemBlock();

  explicit operator bool() const { return pager_ != nullptr; }
  std::span<std::byte> bytes() { return buf_; }
  std::size_t size() const { return buf_.size(); }

 private:
  friend class Pager;
  KmemBlock(Pager* p, std::size_t size) : pager_(p), buf_(size) {}
  void release();
  Pager* pager_ = nullptr;
  std::vector<std::byte> buf_;
};

}  // namespace vfsim::pager
