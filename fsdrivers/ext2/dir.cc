// Linear directories: a directory is a sequence of blocks, each a chain of
// entries {inode, rec_len, name_len, file_type, name} whose rec_len values add
// up to exactly the block size.
//
// Every block is parsed defensively: a rec_len that is zero, unaligned, too
// short for its name or runs past the block, an inode number outside the
// usable range, or a hole in the directory answers EIO. Because each accepted
// rec_len is at least 8, parsing a block always terminates; the number of
// blocks is bounded by the inode size, itself bounded by the allocated blocks.
// An htree (dir_index) directory is also a valid linear directory; its index
// flag is cleared on the first change because the index is not maintained.
#include <cstring>

#include "fsdrivers/ext2/core.h"

namespace vfsim::ext2 {
namespace {

constexpr uint32_t kDirentHeader = 8;

uint32_t rec_len_for(size_t name_len) {
  return static_cast<uint32_t>((kDirentHeader + name_len + 3) & ~size_t{3});
}

}  // namespace

Status Core::dir_iterate(const Inode& dir_in, uint64_t start_pos,
                         const std::function<Visit(const RawDirent&)>& fn) {
  VFSIM_ASSERT(dir_in.is_dir(), "iterating an inode that is not a directory");
  Inode dir = dir_in;  // bmap without alloc does not change it
  const uint64_t nblocks = dir.size / block_size;
  for (uint64_t lblk = start_pos / block_size; lblk < nblocks; ++lblk) {
    EXT2_TRY_ASSIGN(Mapping m, bmap(dir, lblk, false, 0));
    if (m.pbn == 0) return corrupt();  // directories have no holes
    EXT2_TRY_ASSIGN(BufRef b, cache.get(m.pbn));
    auto bytes = b->bytes();
    RawDirent e;
    e.lblk = static_cast<uint32_t>(lblk);
    e.buf = b.get();
    for (uint32_t off = 0; off < block_size; off += e.rec_len) {
      if (off + kDirentHeader > block_size) return corrupt();
      e.ino = get32(bytes, off);
      e.rec_len = get16(bytes, off + 4);
      const uint32_t name_len = has_filetype() ? get8(bytes, off + 6) : get16(bytes, off + 6);
      e.type = has_filetype() ? get8(bytes, off + 7) : 0;
      if (e.rec_len < kDirentHeader || e.rec_len % 4 != 0 || off + e.rec_len > block_size ||
          name_len + kDirentHeader > e.rec_len) {
        return corrupt();
      }
      e.name = std::string_view(reinterpret_cast<const char*>(bytes.data()) + off + kDirentHeader,
                                name_len);
      if (e.ino != 0 &&
          (name_len == 0 || !valid_dirent_ino(e.ino) ||
           e.name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos)) {
        return corrupt();
      }
      e.off = off;
      e.pos = lblk * block_size + off;
      if (e.pos >= start_pos && fn(e) == Visit::Stop) return kOk;
      e.has_prev = true;
      e.prev_off = off;
    }
  }
  return kOk;
}

Result<RawDirent> Core::dir_find(const Inode& dir, std::string_view name) {
  RawDirent found;
  bool hit = false;
  EXT2_TRY(dir_iterate(dir, 0, [&](const RawDirent& e) {
    if (e.ino == 0 || e.name != name) return Visit::Continue;
    found = e;
    hit = true;
    return Visit::Stop;
  }));
  if (!hit) return Status(ENOENT);
  found.name = {};
  found.buf = nullptr;  // the block may be evicted after the walk
  return found;
}

static void put_dirent(Core& c, std::span<std::byte> blk, uint32_t off, uint32_t ino,
                       uint32_t rec_len, std::string_view name, uint8_t type) {
  VFSIM_ASSERT(rec_len >= rec_len_for(name.size()) && off + rec_len <= blk.size(),
               "directory entry does not fit its record or block");
  put32(blk, off, ino);
  put16(blk, off + 4, static_cast<uint16_t>(rec_len));
  if (c.has_filetype()) {
    put8(blk, off + 6, static_cast<uint8_t>(name.size()));
    put8(blk, off + 7, type);
  } else {
    put16(blk, off + 6, static_cast<uint16_t>(name.size()));
  }
  auto dst = blk.subspan(off + kDirentHeader, rec_len_for(name.size()) - kDirentHeader);
  std::fill(dst.begin(), dst.end(), std::byte{0});
  std::memcpy(dst.data(), name.data(), name.size());
}

// Inserts into the first slot with room: an unused entry large enough, or
// the slack after a live entry (which is split). Otherwise a block is added.
Status Core::dir_add(uint32_t dir_ino, Inode& dir, std::string_view name, uint32_t ino, FileType t,
                     uint32_t now) {
  VFSIM_ASSERT(!name.empty() && name.size() <= kNameMax, "entry name empty or too long");
  const uint32_t need = rec_len_for(name.size());
  const uint8_t type = dirent_type(t);
  bool placed = false;
  EXT2_TRY(dir_iterate(dir, 0, [&](const RawDirent& e) {
    const uint32_t used = e.ino == 0 ? 0 : rec_len_for(e.name.size());
    if (e.rec_len < used + need) return Visit::Continue;
    auto blk = e.buf->bytes();
    if (used != 0) put16(blk, e.off + 4, static_cast<uint16_t>(used));
    put_dirent(*this, blk, e.off + used, ino, e.rec_len - used, name, type);
    e.buf->dirty = true;
    placed = true;
    return Visit::Stop;
  }));
  if (!placed) {
    if (dir.size + block_size > UINT32_MAX) return Status(ENOSPC);
    const uint32_t goal = group_first_block((dir_ino - 1) / sb.inodes_per_group);
    EXT2_TRY_ASSIGN(Mapping m, bmap(dir, dir.size / block_size, true, goal));
    EXT2_TRY_ASSIGN(BufRef b, cache.get_zeroed(m.pbn));
    put_dirent(*this, b->bytes(), 0, ino, block_size, name, type);
    dir.size += block_size;
  }
  dir.flags &= ~kIndexFl;
  dir.mtime = dir.ctime = now;
  return write_inode(dir_ino, dir);
}

// Removes an entry by merging it into the previous entry of its block, or,
// for the first entry of a block, by marking it unused.
Status Core::dir_remove(uint32_t dir_ino, Inode& dir, std::string_view name, uint32_t now) {
  bool removed = false;
  EXT2_TRY(dir_iterate(dir, 0, [&](const RawDirent& e) {
    if (e.ino == 0 || e.name != name) return Visit::Continue;
    auto blk = e.buf->bytes();
    if (e.has_prev) {
      put16(blk, e.prev_off + 4, static_cast<uint16_t>(get16(blk, e.prev_off + 4) + e.rec_len));
    } else {
      put32(blk, e.off, 0);
    }
    e.buf->dirty = true;
    removed = true;
    return Visit::Stop;
  }));
  if (!removed) return Status(ENOENT);
  dir.flags &= ~kIndexFl;
  dir.mtime = dir.ctime = now;
  return write_inode(dir_ino, dir);
}

// Points an existing entry at another inode (rename over an existing name).
Status Core::dir_retarget(uint32_t dir_ino, Inode& dir, std::string_view name, uint32_t ino,
                          FileType t, uint32_t now) {
  bool done = false;
  EXT2_TRY(dir_iterate(dir, 0, [&](const RawDirent& e) {
    if (e.ino == 0 || e.name != name) return Visit::Continue;
    put32(e.buf->bytes(), e.off, ino);
    if (has_filetype()) put8(e.buf->bytes(), e.off + 7, dirent_type(t));
    e.buf->dirty = true;
    done = true;
    return Visit::Stop;
  }));
  if (!done) return Status(ENOENT);
  dir.flags &= ~kIndexFl;
  dir.mtime = dir.ctime = now;
  return write_inode(dir_ino, dir);
}

Result<bool> Core::dir_is_empty(const Inode& dir) {
  bool empty = true;
  EXT2_TRY(dir_iterate(dir, 0, [&](const RawDirent& e) {
    if (e.ino == 0 || e.name == "." || e.name == "..") return Visit::Continue;
    empty = false;
    return Visit::Stop;
  }));
  return empty;
}

Status Core::dir_init(uint32_t ino, Inode& n, uint32_t parent_ino) {
  const uint32_t goal = group_first_block((ino - 1) / sb.inodes_per_group);
  EXT2_TRY_ASSIGN(Mapping m, bmap(n, 0, true, goal));
  EXT2_TRY_ASSIGN(BufRef b, cache.get_zeroed(m.pbn));
  const uint8_t dt = dirent_type(FileType::Directory);
  put_dirent(*this, b->bytes(), 0, ino, rec_len_for(1), ".", dt);
  put_dirent(*this, b->bytes(), rec_len_for(1), parent_ino, block_size - rec_len_for(1), "..", dt);
  n.size = block_size;
  return kOk;
}

// The ".." entry must be the second entry of the first block.
static Status with_dotdot(Core& c, const Inode& dir,
                          const std::function<void(const RawDirent&)>& fn) {
  int seen = 0;
  bool ok = false;
  EXT2_TRY(c.dir_iterate(dir, 0, [&](const RawDirent& e) {
    if (seen++ == 0) return e.name == "." ? Visit::Continue : Visit::Stop;
    ok = e.name == ".." && e.lblk == 0;
    if (ok) fn(e);
    return Visit::Stop;
  }));
  return ok ? kOk : corrupt();
}

Result<uint32_t> Core::dir_parent(const Inode& dir) {
  uint32_t parent = 0;
  EXT2_TRY(with_dotdot(*this, dir, [&](const RawDirent& e) { parent = e.ino; }));
  return parent;
}

Status Core::dir_set_parent(Inode& dir, uint32_t parent_ino) {
  return with_dotdot(*this, dir, [&](const RawDirent& e) {
    put32(e.buf->bytes(), e.off, parent_ino);
    e.buf->dirty = true;
  });
}

}  // namespace vfsim::ext2
