// PageStore: a sparse page map holding a memfs file's bytes.
#include "fsdrivers/memfs/file_data.h"

#include <algorithm>

namespace vfsim::memfs {

vn::Status PageStore::read(std::uint64_t offset, std::size_t len, std::string* out) {
  if (offset >= size_) return vn::kOk;
  std::uint64_t end = std::min<std::uint64_t>(size_, offset + len);
  while (offset < end) {
    const std::uint64_t page = offset / kPage;
    const std::uint64_t in_page = offset % kPage;
    const std::uint64_t n = std::min(end - offset, kPage - in_page);
    auto it = pages_.find(page);
    if (it == pages_.end()) {
      out->append(n, '\0');
    } else {
      out->append(it->second, in_page, n);
    }
    offset += n;
  }
  return vn::kOk;
}

vn::Status PageStore::write(std::uint64_t offset, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t page = pos / kPage;
    const std::uint64_t in_page = pos % kPage;
    const std::size_t n = std::min<std::size_t>(data.size() - done, kPage - in_page);
    std::string& p = pages_[page];
    if (p.empty()) p.assign(kPage, '\0');
    p.replace(in_page, n, data.substr(done, n));
    done += n;
  }
  size_ = std::max<std::uint64_t>(size_, offset + data.size());
  return vn::kOk;
}

vn::Status PageStore::truncate(std::uint64_t size) {
  if (size < size_) {
    const std::uint64_t first_gone = (size + kPage - 1) / kPage;
    pages_.erase(pages_.lower_bound(first_gone), pages_.end());
    if (size % kPage != 0) {
      auto it = pages_.find(size / kPage);
      if (it != pages_.end()) {
        std::fill(it->second.begin() + static_cast<std::ptrdiff_t>(size % kPage),
                  it->second.end(), '\0');
      }
    }
  }
  size_ = size;
  return vn::kOk;
}

}  // namespace vfsim::memfs
