// memfs file data in the machine's page cache (pager/). Two flavours:
//
// - anonymous (the default, tmpfs): the file's pages are anonymous pages of
//   the pager, paged out to swap under memory pressure. With no room left in
//   memory + swap a write fails with ENOSPC, never silently.
// - block-backed (mount option backing_blocks=N, the msdosfs model of the
//   rump paper): the pages are a write-back cache over a store of N blocks
//   shared by the mount. Like msdosfs before revision 1.53, a write that
//   extends a file is accepted into the page cache without reserving blocks;
//   the block is allocated when the page is put, and a full store answers
//   that putpages with ENOSPC. The pager keeps that error for fsync/close
//   (pager.writeback_errors_kept) or, historically, drops the page.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fsdrivers/memfs/file_data.h"
#include "pager/pager.h"

namespace vfsim::memfs {

// The block store of a block-backed mount: blocks by (ino, offset). It is
// the "disk" under the page cache, reached only through MemfsOps::getpages /
// putpages (the vnode pager's VOPs).
class BackingBlocks {
 public:
  explicit BackingBlocks(std::uint64_t blocks_max) : blocks_max_(blocks_max) {}
  // A whole page from `offset`; a block never written reads as zeros.
  void read(std::uint64_t ino, std::uint64_t offset, std::span<std::byte> dst) const;
  // ENOSPC when the block is new and the store is full.
  [[nodiscard]] vn::Status write(std::uint64_t ino, std::uint64_t offset,
                                 std::span<const std::byte> src);
  // Truncation to `size`: frees the blocks past it and zeros the tail of
  // the last one (0: every block of the file).
  void release(std::uint64_t ino, std::uint64_t size);
  std::uint64_t used() const { return blocks_.size(); }
  std::uint64_t max() const { return blocks_max_; }

 private:
  std::uint64_t blocks_max_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::byte>> blocks_;
};

class PagerData final : public FileData {
 public:
  // Anonymous (one swap-backed object for the node's life) when `backing`
  // is null; otherwise the object is the vnode's (vnode_loaded /
  // vnode_reclaimed) and the bytes between two vnode lives are in `backing`.
  PagerData(pager::Pager& pager, std::string name, BackingBlocks* backing, std::uint64_t ino);
  ~PagerData() override;
  PagerData(const PagerData&) = delete;
  PagerData& operator=(const PagerData&) = delete;

  std::uint64_t size() const override { return size_; }
  vn::Status read(std::uint64_t offset, std::size_t len, std::string* out) override;
  vn::Status write(std::uint64_t offset, std::string_view data) override;
  vn::Status truncate(std::uint64_t size) override;
  std::uint64_t resident_pages() const override;
  vn::Status sync() override;
  vn::Status take_error() override;
  void vnode_loaded(vn::Vnode& vp) override;
  void vnode_reclaimed(bool keep_data) override;

 private:
  // The object, asserting there is one (block-backed: a vnode is loaded).
  pager::PageObject& obj() const;
  pager::Pager& pager_;
  std::string name_;
  BackingBlocks* backing_;
  std::uint64_t ino_;
  pager::PageObject* obj_ = nullptr;  // owned by the pager
  std::uint64_t size_ = 0;            // [v] of the file's vnode
};

}  // namespace vfsim::memfs
