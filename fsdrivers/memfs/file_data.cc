// PageStore: a sparse page map holding a memfs file's bytes.
#include "fsdrivers/memfs/file_data.h"

#include <algorithm>
#include <cstring>

namespace vfsim::memfs {

PageStore::~PageStore() { drop_pages_from(0); }

// Both loops keep `it` at the first page at or past the one being copied,
// so a run of pages costs one tree search, not one per page.
vn::Status PageStore::read(std::uint64_t offset, std::size_t len, std::string* out) {
  if (offset >= size_) return vn::kOk;
  const std::uint64_t end = std::min<std::uint64_t>(size_, offset + len);
  out->reserve(out->size() + (end - offset));
  auto it = pages_.lower_bound(offset / kPage);
  while (offset < end) {
    const std::uint64_t page = offset / kPage;
    const std::uint64_t in_page = offset % kPage;
    const std::uint64_t n = std::min(end - offset, kPage - in_page);
    if (it != pages_.end() && it->first == page) {
      out->append(it->second.bytes.data() + in_page, n);
      ++it;
    } else {
      out->append(n, '\0');  // a hole
    }
    offset += n;
  }
  return vn::kOk;
}

vn::Status PageStore::write(std::uint64_t offset, std::string_view data) {
  std::size_t done = 0;
  auto it = pages_.lower_bound(offset / kPage);
  while (done < data.size()) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t page = pos / kPage;
    const std::uint64_t in_page = pos % kPage;
    const std::size_t n = std::min<std::size_t>(data.size() - done, kPage - in_page);
    if (it == pages_.end() || it->first != page) it = add_page(it, page, in_page, in_page + n);
    std::memcpy(it->second.bytes.data() + in_page, data.data() + done, n);
    ++it;
    done += n;
  }
  size_ = std::max<std::uint64_t>(size_, offset + data.size());
  return vn::kOk;
}

PageStore::PageMap::iterator PageStore::add_page(PageMap::iterator next, std::uint64_t index,
                                                 std::size_t from, std::size_t to) {
  PageMap::iterator it;
  if (PageMap::node_type spare = pool_ != nullptr ? pool_->take() : PageMap::node_type();
      !spare.empty()) {
    spare.key() = index;
    it = pages_.insert(next, std::move(spare));
  } else {
    it = pages_.emplace_hint(next, std::piecewise_construct, std::forward_as_tuple(index),
                             std::forward_as_tuple());
  }
  // Recycled or fresh, the bytes are whatever the heap held: a new page
  // reads as zeros wherever this write does not reach.
  char* bytes = it->second.bytes.data();
  std::memset(bytes, 0, from);
  std::memset(bytes + to, 0, kPage - to);
  return it;
}

vn::Status PageStore::truncate(std::uint64_t size) {
  if (size < size_) {
    drop_pages_from((size + kPage - 1) / kPage);
    if (size % kPage != 0) {
      auto it = pages_.find(size / kPage);
      if (it != pages_.end()) {
        std::fill(it->second.bytes.begin() + static_cast<std::ptrdiff_t>(size % kPage),
                  it->second.bytes.end(), '\0');
      }
    }
  }
  size_ = size;
  return vn::kOk;
}

void PageStore::drop_pages_from(std::uint64_t first_index) {
  auto it = pages_.lower_bound(first_index);
  while (pool_ != nullptr && !pool_->full() && it != pages_.end()) {
    pool_->give(pages_.extract(it++));
  }
  pages_.erase(it, pages_.end());
}

}  // namespace vfsim::memfs
