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
#include <string>
#include <utility>
#include <vector>

#include "fsdrivers/memfs/file_data.h"
#include "pager/pager.h"

namespace vfsim::memfs {

// The block store of a block-backed mount: blocks by (object id, offset).
class BackingBlocks final : public pager::PagerOps {
 public:
  explicit BackingBlocks(std::uint64_t blocks_max) : blocks_max_(blocks_max) {}
  vn::Status getpages(pager::PageObject& obj, std::uint64_t offset,
                      std::span<std::byte> dst) override;
  vn::Status putpages(pager::PageObject& obj, std::uint64_t offset,
                      std::span<const std::byte> src) override;
  // Truncation to `size`: frees the blocks past it and zeros the tail of
  // the last one (0: every block of the file).
  void release(const pager::PageObject& obj, std::uint64_t size);
  std::uint64_t used() const { return blocks_.size(); }
  std::uint64_t max() const { return blocks_max_; }

 private:
  std::uint64_t blocks_max_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::byte>> blocks_;
};

class PagerData final : public FileData {
 public:
  // Anonymous when `backing` is null.
  PagerData(pager::Pager& pager, std::string name, BackingBlocks* backing);
  ~PagerData() override;
  PagerData(const PagerData&) = delete;
  PagerData& operator=(const PagerData&) = delete;

  std::uint64_t size() const override { return size_; }
  vn::Status read(std::uint64_t offset, std::size_t len, std::string* out) override;
  vn::Status write(std::uint64_t offset, std::string_view data) override;
  vn::Status truncate(std::uint64_t size) override;
  std::uint64_t resident_pages() const override { return obj_->data_pages(); }
  vn::Status sync() override;
  vn::Status take_error() override;

 private:
  pager::Pager& pager_;
  BackingBlocks* backing_;
  pager::PageObject* obj_;  // owned by the pager; destroyed with this
  std::uint64_t size_ = 0;  // [v] of the file's vnode
};

}  // namespace vfsim::memfs
