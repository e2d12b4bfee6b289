// A small, bounded write-back cache of metadata blocks (directory, indirect,
// bitmap, inode-table and xattr blocks).
//
// Buffers are handed out as shared_ptr: a buffer some caller still holds is
// pinned and never evicted, so a pointer stays valid for the length of an
// operation. Unpinned buffers are evicted least-recently-used first once the
// cache exceeds its capacity; dirty ones are written back on eviction. File
// data does not go through the cache (see Core::read_data / write_data).
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <vector>

#include "fsdrivers/ext2/block_io.h"
#include "fsdrivers/ext2/result.h"

namespace vfsim::ext2 {

struct Buf {
  uint32_t bno = 0;
  std::vector<std::byte> data;
  bool dirty = false;
  uint64_t last_use = 0;
  std::span<std::byte> bytes() { return data; }
};
using BufRef = std::shared_ptr<Buf>;

class BufferCache {
 public:
  BufferCache(BlockIo& io, uint32_t block_size, size_t capacity_blocks);

  // Returns the cached block, reading it from the device on a miss.
  Result<BufRef> get(uint32_t bno);
  // Returns a zero-filled dirty buffer for a block just allocated; the old
  // contents on the device are irrelevant, so nothing is read.
  Result<BufRef> get_zeroed(uint32_t bno);
  // The cached block or nullptr; never reads.
  BufRef peek(uint32_t bno);
  void mark_dirty(const BufRef& b) { b->dirty = true; }
  // Forgets a block that was freed, so a stale dirty copy can never be
  // written over the block's next user.
  void drop(uint32_t bno);
  // Writes every dirty block in ascending block order.
  Status flush();
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    BufRef buf;
    std::list<Entry*>::iterator lru;    // its place in lru_
    std::list<Entry*>::iterator clean;  // its place in clean_, when in_clean
    bool in_clean = false;
  };
  Status make_room();
  BufRef insert(uint32_t bno);
  void erase(std::map<uint32_t, Entry>::iterator it);

  BlockIo& io_;
  uint32_t block_size_;
  size_t capacity_;
  uint64_t tick_ = 0;
  std::map<uint32_t, Entry> map_;
  // Every cached buffer from least to most recently used (ascending
  // last_use), and the buffers that were clean when last seen, in the same
  // order: every clean buffer is in clean_ (a buffer its user dirtied stays
  // there until eviction looks at it), so the first unpinned clean one from
  // clean_'s front is the one a scan of the whole cache would evict, and a
  // cache full of dirty buffers costs eviction no scan.
  std::list<Entry*> lru_;
  std::list<Entry*> clean_;
  void leave_clean(Entry& e);
};

}  // namespace vfsim::ext2
