// memfs file data on the pager's page cache; see pager_data.h.
#include "fsdrivers/memfs/pager_data.h"

#include <algorithm>
#include <cstring>

namespace vfsim::memfs {

vn::Status BackingBlocks::getpages(pager::PageObject& obj, std::uint64_t offset,
                                   std::span<std::byte> dst) {
  auto it = blocks_.find({obj.id(), offset});
  if (it == blocks_.end()) {
    std::fill(dst.begin(), dst.end(), std::byte{0});  // never written back: a hole
  } else {
    std::copy(it->second.begin(), it->second.end(), dst.begin());
  }
  return vn::kOk;
}

vn::Status BackingBlocks::putpages(pager::PageObject& obj, std::uint64_t offset,
                                   std::span<const std::byte> src) {
  auto it = blocks_.find({obj.id(), offset});
  if (it == blocks_.end()) {
    if (blocks_.size() >= blocks_max_) return vn::Status(ENOSPC);  // extending on a full volume
    it = blocks_.emplace(std::pair{obj.id(), offset}, std::vector<std::byte>()).first;
  }
  it->second.assign(src.begin(), src.end());
  return vn::kOk;
}

void BackingBlocks::release(const pager::PageObject& obj, std::uint64_t size) {
  const std::uint64_t keep = (size + pager::kPageSize - 1) / pager::kPageSize * pager::kPageSize;
  blocks_.erase(blocks_.lower_bound({obj.id(), keep}), blocks_.lower_bound({obj.id() + 1, 0}));
  if (size % pager::kPageSize == 0) return;
  auto it = blocks_.find({obj.id(), size - size % pager::kPageSize});
  if (it != blocks_.end()) {
    std::fill(it->second.begin() + static_cast<std::ptrdiff_t>(size % pager::kPageSize),
              it->second.end(), std::byte{0});
  }
}

PagerData::PagerData(pager::Pager& pager, std::string name, BackingBlocks* backing)
    : pager_(pager),
      backing_(backing),
      obj_(backing != nullptr ? &pager.create_object(std::move(name), *backing)
                              : &pager.create_anon_object(std::move(name))) {}

// Dirty pages go with the file (it has no names left, or the file system is
// being unmounted after its vnodes were flushed). Outside an lwp (a machine
// torn down after its run) the pager itself is about to go.
PagerData::~PagerData() {
  if (!pager_.machine().in_lwp() || pager_.machine().killing()) return;
  if (backing_ != nullptr) backing_->release(*obj_, 0);
  pager_.destroy_object(*obj_);
}

vn::Status PagerData::read(std::uint64_t offset, std::size_t len, std::string* out) {
  if (offset >= size_) return vn::kOk;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, size_ - offset));
  const std::size_t old = out->size();
  out->resize(old + n);
  auto* bytes = reinterpret_cast<std::byte*>(out->data() + old);
  const vn::Status e = pager_.read(*obj_, offset, std::span<std::byte>(bytes, n));
  if (!e.ok()) {
    out->resize(old);
    return e;
  }
  return vn::kOk;
}

vn::Status PagerData::write(std::uint64_t offset, std::string_view data) {
  const auto* bytes = reinterpret_cast<const std::byte*>(data.data());
  // A syscall's context: the new pages may wait for the pagedaemon (KM_SLEEP).
  VN_TRY(
      pager_.write(*obj_, offset, std::span<const std::byte>(bytes, data.size()), pager::KM_SLEEP));
  size_ = std::max<std::uint64_t>(size_, offset + data.size());
  return vn::kOk;
}

vn::Status PagerData::truncate(std::uint64_t size) {
  if (size < size_) {
    VN_TRY(pager_.truncate(*obj_, size));
    if (backing_ != nullptr) backing_->release(*obj_, size);
  }
  size_ = size;
  return vn::kOk;
}

// tmpfs has nothing to write back (anonymous pages go to swap only under
// pressure); a block-backed file puts its dirty pages.
vn::Status PagerData::sync() {
  return backing_ != nullptr ? pager_.fsync(*obj_) : pager_.take_error(*obj_);
}

vn::Status PagerData::take_error() { return pager_.take_error(*obj_); }

}  // namespace vfsim::memfs
