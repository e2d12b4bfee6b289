#include "fsdrivers/ext2/cache.h"

namespace vfsim::ext2 {

BufferCache::BufferCache(BlockIo& io, uint32_t block_size, size_t capacity_blocks)
    : io_(io), block_size_(block_size), capacity_(capacity_blocks < 8 ? 8 : capacity_blocks) {
  VFSIM_ASSERT(block_size_ >= 1024 && block_size_ <= 65536, "block size out of range");
}

BufRef BufferCache::peek(uint32_t bno) {
  auto it = map_.find(bno);
  if (it == map_.end()) return nullptr;
  it->second->last_use = ++tick_;
  return it->second;
}

// Evicts unpinned buffers, oldest first, until there is room for one more.
// A dirty buffer whose write-back fails stays cached; if failures pile up the
// cache refuses to grow further (bounded memory even on a failing device).
Status BufferCache::make_room() {
  while (map_.size() >= capacity_) {
    // Prefer the least recently used clean buffer: evicting it costs no I/O.
    auto victim = map_.end();
    for (auto it = map_.begin(); it != map_.end(); ++it) {
      if (it->second.use_count() != 1) continue;  // pinned by a caller
      if (victim == map_.end()) {
        victim = it;
        continue;
      }
      const Buf& c = *it->second;
      const Buf& v = *victim->second;
      if (c.dirty != v.dirty ? !c.dirty : c.last_use < v.last_use) victim = it;
    }
    if (victim == map_.end()) break;  // everything pinned: grow temporarily
    Buf& b = *victim->second;
    if (b.dirty) {
      Status e = io_.write(uint64_t{b.bno} * block_size_, b.data);
      if (!e.ok()) return map_.size() >= 4 * capacity_ ? e : kOk;
      b.dirty = false;
    }
    map_.erase(victim);
  }
  if (map_.size() >= 4 * capacity_) return Status(EIO);
  return kOk;
}

BufRef BufferCache::insert(uint32_t bno) {
  auto b = std::make_shared<Buf>();
  b->bno = bno;
  b->data.assign(block_size_, std::byte{0});
  b->last_use = ++tick_;
  map_[bno] = b;
  return b;
}

Result<BufRef> BufferCache::get(uint32_t bno) {
  if (BufRef hit = peek(bno)) return hit;
  EXT2_TRY(make_room());
  BufRef b = insert(bno);
  Status e = io_.read(uint64_t{bno} * block_size_, b->data);
  if (!e.ok()) {
    map_.erase(bno);
    return e;
  }
  return b;
}

Result<BufRef> BufferCache::get_zeroed(uint32_t bno) {
  BufRef b = peek(bno);
  if (!b) {
    EXT2_TRY(make_room());
    b = insert(bno);
  }
  std::fill(b->data.begin(), b->data.end(), std::byte{0});
  b->dirty = true;
  return b;
}

void BufferCache::drop(uint32_t bno) { map_.erase(bno); }

Status BufferCache::flush() {
  Status first = kOk;
  for (auto& [bno, b] : map_) {
    if (!b->dirty) continue;
    Status e = io_.write(uint64_t{bno} * block_size_, b->data);
    if (!e.ok()) {
      if (first.ok()) first = e;
      continue;
    }
    b->dirty = false;
  }
  return first;
}

}  // namespace vfsim::ext2
