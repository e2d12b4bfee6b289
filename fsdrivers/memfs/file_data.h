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

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fsdrivers/memfs/node_pool.h"
#include "vnode/result.h"

namespace vfsim::vn {
class Vnode;
}  // namespace vfsim::vn

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
  // The node got a vnode (loadvnode) / lost it (reclaim; keep_data false
  // when the file has no names left). A store whose page-cache object is
  // the vnode's (block-backed PagerData) makes and destroys it here.
  virtual void vnode_loaded(vn::Vnode& vp) { (void)vp; }
  virtual void vnode_reclaimed(bool keep_data) { (void)keep_data; }
};

class PageStore final : public FileData {
 public:
  static constexpr std::uint64_t kPage = 4096;
  // A page's bytes. Deliberately left uninitialised on construction: a page
  // is only ever added by a write, which zeros what it does not overwrite.
  struct Page {
    Page() {}  // NOLINT: no value-initialisation, see above
    std::array<char, kPage> bytes;
  };
  // Page index -> page, held in the map node itself: one allocation a page,
  // and none when the pool has a spare.
  using PageMap = std::map<std::uint64_t, Page>;
  using PagePool = NodePool<PageMap>;

  // Pages dropped by truncate go to `pool` (if any) and new pages come from
  // it; the pool must outlive this store.
  explicit PageStore(PagePool* pool = nullptr) : pool_(pool) {}
  ~PageStore() override;
  PageStore(const PageStore&) = delete;
  PageStore& operator=(const PageStore&) = delete;

  std::uint64_t size() const override { return size_; }
  vn::Status read(std::uint64_t offset, std::size_t len, std::string* out) override;
  vn::Status write(std::uint64_t offset, std::string_view data) override;
  vn::Status truncate(std::uint64_t size) override;
  std::uint64_t resident_pages() const override { return pages_.size(); }

 private:
  // Adds the absent page `index` just before `next`, all zeros except for
  // [from, to), which the caller is about to overwrite.
  PageMap::iterator add_page(PageMap::iterator next, std::uint64_t index, std::size_t from,
                             std::size_t to);
  // Drops the pages from `first_index` on, into the pool while it has room.
  void drop_pages_from(std::uint64_t first_index);

  PagePool* pool_;
  PageMap pages_;
  std::uint64_t size_ = 0;
};

}  // namespace vfsim::memfs
