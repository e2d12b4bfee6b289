// memfs file data on the pager's page cache; see pager_data.h.
#include "fsdrivers/memfs/pager_data.h"

#include <algorithm>
#include <cstring>

#include "vnode/vnode_pager.h"

namespace vfsim::memfs {

namespace {
// The machine is gone or going (outside an lwp, or the run being killed):
// the pager itself is about to go, so objects are left to it.
bool pager_going(pager::Pager& p) { return !p.machine().in_lwp() || p.machine().killing(); }
}  // namespace

void BackingBlocks::read(std::uint64_t ino, std::uint64_t offset, std::span<std::byte> dst) const {
  auto it = blocks_.find({ino, offset});
  if (it == blocks_.end()) {
    std::fill(dst.begin(), dst.end(), std::byte{0});  // never written back: a hole
  } else {
    std::copy(it->second.begin(), it->second.end(), dst.begin());
  }
}

vn::Status BackingBlocks::write(std::uint64_t ino, std::uint64_t offset,
                                std::span<const std::byte> src) {
  auto it = blocks_.find({ino, offset});
  if (it == blocks_.end()) {
    if (blocks_.size() >= blocks_max_) return vn::Status(ENOSPC);  // extending on a full volume
    it = blocks_.emplace(std::pair{ino, offset}, std::vector<std::byte>()).first;
  }
  it->second.assign(src.begin(), src.end());
  return vn::kOk;
}

void BackingBlocks::release(std::uint64_t ino, std::uint64_t size) {
  const std::uint64_t keep = (size + pager::kPageSize - 1) / pager::kPageSize * pager::kPageSize;
  blocks_.erase(blocks_.lower_bound({ino, keep}), blocks_.lower_bound({ino + 1, 0}));
  if (size % pager::kPageSize == 0) return;
  auto it = blocks_.find({ino, size - size % pager::kPageSize});
  if (it != blocks_.end()) {
    std::fill(it->second.begin() + static_cast<std::ptrdiff_t>(size % pager::kPageSize),
              it->second.end(), std::byte{0});
  }
}

PagerData::PagerData(pager::Pager& pager, std::string name, BackingBlocks* backing,
                     std::uint64_t ino)
    : pager_(pager), name_(std::move(name)), backing_(backing), ino_(ino) {
  if (backing_ == nullptr) obj_ = &pager_.create_anon_object(name_);
}

// Dirty pages go with the file (it has no names left, or the file system is
// being unmounted after its vnodes were flushed).
PagerData::~PagerData() {
  if (pager_going(pager_)) return;
  if (backing_ != nullptr) {
    backing_->release(ino_, 0);
    VFSIM_KASSERT(pager_.machine(), obj_ == nullptr, "memfs file data freed with its vnode");
    return;
  }
  pager_.destroy_object(*obj_);
}

// Block-backed: the vnode's object, served by VOP_GETPAGES / VOP_PUTPAGES
// (MemfsOps over backing_).
void PagerData::vnode_loaded(vn::Vnode& vp) {
  if (backing_ == nullptr) return;
  VFSIM_KASSERT(pager_.machine(), obj_ == nullptr, "memfs vnode loaded twice: " + vp.describe());
  obj_ = &vn::vnode_object(pager_, vp, name_);
}

// The file keeps its bytes in the block store: its dirty pages are put
// first; a write-back error then has no one left to tell (as puffs' reclaim).
// A file with no names left just drops them.
void PagerData::vnode_reclaimed(bool keep_data) {
  if (backing_ == nullptr || obj_ == nullptr) return;
  if (pager_going(pager_)) {
    obj_ = nullptr;
    return;
  }
  if (keep_data) (void)pager_.fsync(*obj_);
  pager_.destroy_object(*obj_);
  obj_ = nullptr;
}

pager::PageObject& PagerData::obj() const {
  VFSIM_KASSERT(pager_.machine(), obj_ != nullptr, "memfs file data used without its vnode");
  return *obj_;
}

std::uint64_t PagerData::resident_pages() const { return obj_ != nullptr ? obj_->data_pages() : 0; }

vn::Status PagerData::read(std::uint64_t offset, std::size_t len, std::string* out) {
  if (offset >= size_) return vn::kOk;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, size_ - offset));
  const std::size_t old = out->size();
  out->resize(old + n);
  auto* bytes = reinterpret_cast<std::byte*>(out->data() + old);
  const vn::Status e = pager_.read(obj(), offset, std::span<std::byte>(bytes, n));
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
      pager_.write(obj(), offset, std::span<const std::byte>(bytes, data.size()), pager::KM_SLEEP));
  size_ = std::max<std::uint64_t>(size_, offset + data.size());
  return vn::kOk;
}

vn::Status PagerData::truncate(std::uint64_t size) {
  if (size < size_) {
    VN_TRY(pager_.truncate(obj(), size));
    if (backing_ != nullptr) backing_->release(ino_, size);
  }
  size_ = size;
  return vn::kOk;
}

// tmpfs has nothing to write back (anonymous pages go to swap only under
// pressure); a block-backed file puts its dirty pages.
vn::Status PagerData::sync() {
  return backing_ != nullptr ? pager_.fsync(obj()) : pager_.take_error(obj());
}

vn::Status PagerData::take_error() { return pager_.take_error(obj()); }

}  // namespace vfsim::memfs
