#include "fsdrivers/ext2/cache.h"

namespace vfsim::ext2 {

BufferCache::BufferCache(BlockIo& io, uint32_t block_size, size_t capacity_blocks)
    : io_(io), block_size_(block_size), capacity_(capacity_blocks < 8 ? 8 : capacity_blocks) {
  VFSIM_ASSERT(block_size_ >= 1024 && block_size_ <= 65536, "block size out of range");
}

BufRef BufferCache::peek(uint32_t bno) {
  auto it = map_.find(bno);
  if (it == map_.end()) return nullptr;
  Entry& e = it->second;
  e.buf->last_use = ++tick_;
  lru_.splice(lru_.end(), lru_, e.lru);
  if (e.in_clean) clean_.splice(clean_.end(), clean_, e.clean);
  return e.buf;
}

void BufferCache::leave_clean(Entry& e) {
  if (!e.in_clean) return;
  clean_.erase(e.clean);
  e.in_clean = false;
}

void BufferCache::erase(std::map<uint32_t, Entry>::iterator it) {
  leave_clean(it->second);
  lru_.erase(it->second.lru);
  map_.erase(it);
}

// Evicts unpinned buffers, oldest first, until there is room for one more.
// A dirty buffer whose write-back fails stays cached; if failures pile up the
// cache refuses to grow further (bounded memory even on a failing device).
Status BufferCache::make_room() {
  while (map_.size() >= capacity_) {
    // Prefer the least recently used clean buffer: evicting it costs no I/O;
    // else the least recently used dirty one.
    Entry* pick = nullptr;
    for (auto c = clean_.begin(); c != clean_.end();) {
      Entry* e = *c;
      if (e->buf->dirty) {  // dirtied since: out of clean_ until written back
        e->in_clean = false;
        c = clean_.erase(c);
        continue;
      }
      if (e->buf.use_count() == 1) {
        pick = e;
        break;
      }
      ++c;  // pinned by a caller
    }
    if (pick == nullptr) {
      for (Entry* e : lru_) {
        if (e->buf.use_count() == 1) {  // every unpinned one is dirty now
          pick = e;
          break;
        }
      }
    }
    if (pick == nullptr) break;  // everything pinned: grow temporarily
    Buf& b = *pick->buf;
    if (b.dirty) {
      Status e = io_.write(uint64_t{b.bno} * block_size_, b.data);
      if (!e.ok()) return map_.size() >= 4 * capacity_ ? e : kOk;
      b.dirty = false;
    }
    erase(map_.find(b.bno));
  }
  if (map_.size() >= 4 * capacity_) return Status(EIO);
  return kOk;
}

BufRef BufferCache::insert(uint32_t bno) {
  auto b = std::make_shared<Buf>();
  b->bno = bno;
  b->data.assign(block_size_, std::byte{0});
  b->last_use = ++tick_;
  Entry& e = map_[bno];
  e.buf = b;
  e.lru = lru_.insert(lru_.end(), &e);
  e.clean = clean_.insert(clean_.end(), &e);
  e.in_clean = true;
  return b;
}

Result<BufRef> BufferCache::get(uint32_t bno) {
  if (BufRef hit = peek(bno)) return hit;
  EXT2_TRY(make_room());
  BufRef b = insert(bno);
  Status e = io_.read(uint64_t{bno} * block_size_, b->data);
  if (!e.ok()) {
    erase(map_.find(bno));
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

void BufferCache::drop(uint32_t bno) {
  if (auto it = map_.find(bno); it != map_.end()) erase(it);
}

Status BufferCache::flush() {
  Status first = kOk;
  for (auto& [bno, entry] : map_) {
    const BufRef& b = entry.buf;
    if (!b->dirty) continue;
    Status e = io_.write(uint64_t{bno} * block_size_, b->data);
    if (!e.ok()) {
      if (first.ok()) first = e;
      continue;
    }
    b->dirty = false;
  }
  // The buffers written back are clean again: clean_ anew, in LRU order.
  for (Entry* e : lru_) {
    if (!e->buf->dirty && !e->in_clean) {
      e->clean = clean_.insert(clean_.end(), e);
      e->in_clean = true;
    }
  }
  clean_.sort([](const Entry* a, const Entry* b) { return a->buf->last_use < b->buf->last_use; });
  return first;
}

}  // namespace vfsim::ext2
