// The bytes of a memfs regular file, behind a small interface so that the
// pager can take file data over: PagerData (pager_data.h) implements it on
// the machine's page cache (anonymous pages with swap, like tmpfs, or pages
// backed by a limited block store, the msdosfs model). PageStore is the
// simple stand-in used when the kernel has no pager: a sparse map of 4 KiB
// pages, so a write far past the end costs one page, not the whole hole.
//
// Reads, writes and truncations may need memory and so may fail (ENOMEM,
// ENOSPC); sync() and take_error() report write-back errors for fsync and
// close.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "vnode/result.h"

namespace vfsim::memfs {

class FileData {
 public:
  virtual ~FileData() = default;
  virtual std::uint64_t size() const = 0;
  // Appends the bytes of [offset, offset + len) clipped at size() to *out;
  // holes read as zeros.
  [[nodiscard]] virtual vn::Status read(std::uint64_t offset, std::size_t len,
                                        std::string* out) = 0;
  // Writes `data` at `offset`, extending the size if needed. On error the
  // size is unchanged by this call (bytes before the failing page may have
  // been written).
  [[nodiscard]] virtual vn::Status write(std::uint64_t offset, std::string_view data) = 0;
  // Sets the size; bytes past it are dropped, a larger size reads as zeros.
  [[nodiscard]] virtual vn::Status truncate(std::uint64_t size) = 0;
  // Pages that hold data (for `bytes` in getattr).
  virtual std::uint64_t resident_pages() const = 0;
  // fsync: writes the data back if it has a backing store; returns the kept
  // write-back error, if any.
  [[nodiscard]] virtual vn::Status sync() { return vn::kOk; }
  // close: returns (and forgets) the kept write-back error.
  [[nodiscard]] virtual vn::Status take_error() { return vn::kOk; }
};

class PageStore final : public FileData {
 public:
  static constexpr std::uint64_t kPage = 4096;
  std::uint64_t size() const override { return size_; }
  vn::Status read(std::uint64_t offset, std::size_t len, std::string* out) override;
  vn::Status write(std::uint64_t offset, std::string_view data) override;
  vn::Status truncate(std::uint64_t size) override;
  std::uint64_t resident_pages() const override { return pages_.size(); }

 private:
  std::map<std::uint64_t, std::string> pages_;  // page index -> kPage bytes
  std::uint64_t size_ = 0;
};

}  // namespace vfsim::memfs
