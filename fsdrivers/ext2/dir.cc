// Linear directories: a directory is a sequence of blocks, each a chain of
// entries {inode, rec_len, name_len, file_type, name} whose rec_len values add
// up to exactly the block size.
//
// Every block is parsed defensively: a rec_len that is zero, unaligned, too
// short for its name or runs past the block, an inode number outside the
// usable range, or a hole in the directory answers EIO. Because each accepted
// rec_len is at least 8, parsing a block always terminates; the number of
// blocks is bounded by the inode size, itself bounded by the allocated blocks.
// An htree (dir_index) directory is also a valid linear directory: lookups
// use its index (htree.cc, dx_find below); its index flag is cleared on the
// first change because writes do not maintain the index.
#include <algorithm>
#include <cstring>

#include "fsdrivers/ext2/core.h"
#include "fsdrivers/ext2/htree.h"

namespace vfsim::ext2 {
namespace {

constexpr uint32_t kDirentHeader = 8;

uint32_t rec_len_for(size_t name_len) {
  return static_cast<uint32_t>((kDirentHeader + name_len + 3) & ~size_t{3});
}

// No '/' and no NUL: a name a path walk can reach. A plain loop: this runs
// for every entry of every directory block scanned.
bool plain_name(std::string_view name) {
  for (char c : name) {
    if (c == '/' || c == '\0') return false;
  }
  return true;
}

}  // namespace

Status Core::dir_iterate(const Inode& dir, uint64_t start_pos,
                         const std::function<Visit(const RawDirent&)>& fn) {
  return dir_walk(dir, start_pos / block_size, dir.size / block_size, start_pos, fn);
}

Status Core::dir_walk(const Inode& dir_in, uint64_t first_lblk, uint64_t end_lblk,
                      uint64_t start_pos, const std::function<Visit(const RawDirent&)>& fn) {
  VFSIM_ASSERT(dir_in.is_dir(), "iterating an inode that is not a directory");
  Inode dir = dir_in;  // bmap without alloc does not change it
  end_lblk = std::min<uint64_t>(end_lblk, dir.size / block_size);
  for (uint64_t lblk = first_lblk; lblk < end_lblk; ++lblk) {
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
      if (e.ino != 0 && (name_len == 0 || !valid_dirent_ino(e.ino) || !plain_name(e.name))) {
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

// Looks for `name` in blocks [first, end) of the directory.
Result<bool> Core::dir_find_in(const Inode& dir, uint64_t first, uint64_t end,
                               std::string_view name, RawDirent* found) {
  bool hit = false;
  EXT2_TRY(dir_walk(dir, first, end, 0, [&](const RawDirent& e) {
    if (e.ino == 0 || e.name != name) return Visit::Continue;
    *found = e;
    hit = true;
    return Visit::Stop;
  }));
  return hit;
}

// An indexed directory answers from its index when the index is sound (the
// feature is on and dx_find accepts it); otherwise, and for "." and "..",
// the whole directory is scanned. A linear scan starts at the block where
// the previous lookup in the same directory found its name and wraps around
// (BSD's i_diroff, Linux ext2's i_dir_start_lookup): a walk that stats every
// entry in directory order finds each in the block it looks at first.
Result<RawDirent> Core::dir_find(uint32_t dir_ino, const Inode& dir, std::string_view name) {
  RawDirent found;
  bool hit = false;
  bool answered = false;
  const bool dots = name == "." || name == "..";
  if (!dots && (dir.flags & kIndexFl) != 0 && (sb.feature_compat & kCompatDirIndex) != 0) {
    EXT2_TRY_ASSIGN(DxLookup dx, dx_find(dir, name, &found));
    answered = dx != DxLookup::Unusable;
    hit = dx == DxLookup::Found;
  }
  if (!answered) {
    const uint64_t nblocks = dir.size / block_size;
    DirHint& hint = dir_hints[dir_ino % dir_hints.size()];
    const uint64_t start = !dots && hint.ino == dir_ino && hint.lblk < nblocks ? hint.lblk : 0;
    EXT2_TRY_ASSIGN(hit, dir_find_in(dir, start, nblocks, name, &found));
    if (!hit && start != 0) {
      EXT2_TRY_ASSIGN(hit, dir_find_in(dir, 0, start, name, &found));
    }
    if (hit && !dots) hint = {dir_ino, found.lblk};
  }
  if (!hit) return Status(ENOENT);
  found.name = {};
  found.buf = nullptr;  // the block may be evicted after the walk
  return found;
}

namespace {

// One node of the index: its {hash, logical block} entries, entry 0 with
// the implied hash 0. Empty when the node is malformed.
std::vector<std::pair<uint32_t, uint32_t>> dx_entries(std::span<const std::byte> blk, uint32_t off,
                                                      uint64_t nblocks) {
  std::vector<std::pair<uint32_t, uint32_t>> v;
  if (off + 8 > blk.size()) return v;
  const uint32_t limit = get16(blk, off), count = get16(blk, off + 2);
  if (limit != (blk.size() - off) / 8 || count == 0 || count > limit) return v;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t hash = i == 0 ? 0 : get32(blk, off + 8 * i);
    const uint32_t block = get32(blk, off + 8 * i + 4) & 0x0fffffff;
    // Block 0 is the root: pointing back at it would loop.
    if (block == 0 || block >= nblocks || (i > 1 && hash < v.back().first)) return {};
    v.emplace_back(hash, block);
  }
  return v;
}

// The last entry whose hash is <= h (entry 0 when none is).
size_t dx_pick(const std::vector<std::pair<uint32_t, uint32_t>>& v, uint32_t h) {
  auto it = std::upper_bound(v.begin() + 1, v.end(), h,
                             [](uint32_t x, const auto& e) { return x < e.first; });
  return static_cast<size_t>(it - v.begin()) - 1;
}

}  // namespace

Result<std::vector<std::pair<uint32_t, uint32_t>>> Core::dx_node(const Inode& dir_in, uint32_t lblk,
                                                                 uint32_t off) {
  Inode dir = dir_in;
  const uint64_t nblocks = dir.size / block_size;
  EXT2_TRY_ASSIGN(Mapping m, bmap(dir, lblk, false, 0));
  if (m.pbn == 0) return corrupt();
  EXT2_TRY_ASSIGN(BufRef b, cache.get(m.pbn));
  // An interior node is one unused entry covering its whole block.
  if (lblk != 0 && get16(b->bytes(), 4) != block_size)
    return std::vector<std::pair<uint32_t, uint32_t>>{};
  return dx_entries(b->bytes(), off, nblocks);
}

Result<Core::DxLookup> Core::dx_find(const Inode& dir, std::string_view name, RawDirent* found) {
  const uint64_t nblocks = dir.size / block_size;
  if (nblocks < 2) return DxLookup::Unusable;
  Inode d = dir;
  EXT2_TRY_ASSIGN(Mapping m, bmap(d, 0, false, 0));
  if (m.pbn == 0) return corrupt();
  uint8_t version = 0, info_len = 0, levels = 0;
  {
    EXT2_TRY_ASSIGN(BufRef b, cache.get(m.pbn));
    auto r = b->bytes();
    // "." (record of 12) then ".." covering the rest, then dx_root_info.
    if (get16(r, 4) != 12 || get16(r, 12 + 4) != block_size - 12 || get32(r, 24) != 0)
      return DxLookup::Unusable;
    version = get8(r, 28);
    info_len = get8(r, 29);
    levels = get8(r, 30);
  }
  if (version > kDxHashTea || info_len != 8 || levels > 1) return DxLookup::Unusable;
  if ((sb.flags & kFlagsUnsignedHash) != 0) version += 3;
  const std::optional<uint32_t> hash = dx_hash(name, version, sb.hash_seed);
  if (!hash) return DxLookup::Unusable;
  // The path from the root to the current leaf: each node's entries and the
  // entry taken.
  struct Step {
    std::vector<std::pair<uint32_t, uint32_t>> entries;
    size_t at;
  };
  std::vector<Step> path;
  EXT2_TRY_ASSIGN(auto root, dx_node(dir, 0, 24 + info_len));
  if (root.empty()) return DxLookup::Unusable;
  path.push_back({std::move(root), 0});
  path.back().at = dx_pick(path.back().entries, *hash);
  // Descends from path.back() to a leaf, taking entry `first ? 0 : pick`.
  auto descend = [&](bool leftmost) -> Result<bool> {
    while (path.size() <= levels) {
      const Step& s = path.back();
      EXT2_TRY_ASSIGN(auto node, dx_node(dir, s.entries[s.at].second, 8));
      if (node.empty()) return false;
      const size_t at = leftmost ? 0 : dx_pick(node, *hash);
      path.push_back({std::move(node), at});
    }
    return true;
  };
  EXT2_TRY_ASSIGN(bool ok, descend(false));
  if (!ok) return DxLookup::Unusable;
  // A leaf holds every name of its hash range; a run of equal hashes may go
  // on in the next leaf, whose index hash then has the low bit set.
  for (uint64_t guard = 0; guard < nblocks; ++guard) {
    const uint32_t leaf = path.back().entries[path.back().at].second;
    EXT2_TRY_ASSIGN(bool hit, dir_find_in(dir, leaf, leaf + 1, name, found));
    if (hit) return DxLookup::Found;
    while (!path.empty() && path.back().at + 1 >= path.back().entries.size()) path.pop_back();
    if (path.empty()) return DxLookup::Absent;
    ++path.back().at;
    if ((path.back().entries[path.back().at].first & ~1u) != *hash) return DxLookup::Absent;
    EXT2_TRY_ASSIGN(ok, descend(true));
    if (!ok) return DxLookup::Unusable;
  }
  return DxLookup::Unusable;
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
                     Time now) {
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
Status Core::dir_remove(uint32_t dir_ino, Inode& dir, std::string_view name, Time now) {
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
                          FileType t, Time now) {
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
