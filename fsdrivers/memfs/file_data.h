// The bytes of a memfs regular file, behind a small interface so that the
// pager (a later issue) can take file data over: it will implement FileData
// on top of its page cache and memfs will not change. PageStore is the
// simple stand-in: a sparse map of 4 KiB pages, so a write far past the end
// costs one page, not the whole hole.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace vfsim::memfs {

class FileData {
 public:
  virtual ~FileData() = default;
  virtual std::uint64_t size() const = 0;
  // Appends the bytes of [offset, offset + len) clipped at size() to *out;
  // holes read as zeros.
  virtual void read(std::uint64_t offset, std::size_t len, std::string* out) const = 0;
  // Writes `data` at `offset`, extending the size if needed.
  virtual void write(std::uint64_t offset, std::string_view data) = 0;
  // Sets the size; bytes past it are dropped, a larger size reads as zeros.
  virtual void truncate(std::uint64_t size) = 0;
  // Pages that hold data (for `bytes` in getattr).
  virtual std::uint64_t resident_pages() const = 0;
};

class PageStore final : public FileData {
 public:
  static constexpr std::uint64_t kPage = 4096;
  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, std::size_t len, std::string* out) const override;
  void write(std::uint64_t offset, std::string_view data) override;
  void truncate(std::uint64_t size) override;
  std::uint64_t resident_pages() const override { return pages_.size(); }

 private:
  std::map<std::uint64_t, std::string> pages_;  // page index -> kPage bytes
  std::uint64_t size_ = 0;
};

}  // namespace vfsim::memfs
