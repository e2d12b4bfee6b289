// Inodes: the inode table, the classic block map (12 direct pointers, then
// single, double and triple indirect blocks), truncation, and file data.
//
// Block pointers come from the image. Each one is checked before use: it must
// name a block inside the file system that is not fixed metadata, and it must
// not repeat a block already on the path from the inode (an indirect block
// that points at itself or at an ancestor). Freeing additionally requires the
// bitmap bit to be set, so a block shared by two branches is freed once and
// the second visit reports EIO instead of walking the subtree again.
#include <algorithm>
#include <cstring>

#include "fsdrivers/ext2/core.h"

namespace vfsim::ext2 {
namespace {

struct InodeLoc {
  uint32_t block;
  uint32_t offset;
};

// Path from the inode to a data block: slot in i_block, then an index per
// indirect level.
struct BlockPath {
  uint32_t slot = 0;
  int depth = 0;  // number of indirect blocks on the path (0..3)
  std::array<uint32_t, 3> index{};
};

}  // namespace

static InodeLoc locate(const Core& c, uint32_t ino) {
  const uint32_t g = (ino - 1) / c.sb.inodes_per_group;
  const uint64_t byte = uint64_t{(ino - 1) % c.sb.inodes_per_group} * c.sb.inode_size;
  return {c.gds[g].inode_table + static_cast<uint32_t>(byte / c.block_size),
          static_cast<uint32_t>(byte % c.block_size)};
}

Result<Inode> Core::read_inode(uint32_t ino) {
  if (ino < 1 || ino > sb.inodes_count) return corrupt();
  const InodeLoc loc = locate(*this, ino);
  EXT2_TRY_ASSIGN(BufRef b, cache.get(loc.block));
  return Inode::decode(b->bytes().subspan(loc.offset, sb.inode_size));
}

uint64_t Core::max_file_size() const {
  const uint64_t p = ptrs_per_block;
  const uint64_t mapped = (kNDirect + p + p * p + p * p * p) * block_size;
  // i_blocks counts 512-byte sectors in 32 bits (no huge_file).
  const uint64_t by_blocks = (uint64_t{1} << 32) * 512 - uint64_t{block_size} * (p + 2);
  uint64_t limit = std::min(mapped, by_blocks);
  if (!(sb.feature_ro_compat & kRoCompatLargeFile)) limit = std::min<uint64_t>(limit, 0x7FFFFFFF);
  return limit;
}

bool Core::has_block_map(const Inode& n) const {
  return n.is_reg() || n.is_dir() || (n.is_symlink() && n.size >= kFastSymlinkMax);
}

// The checks every in-use inode must pass before any operation trusts it.
Result<Inode> Core::read_live_inode(uint32_t ino) {
  EXT2_TRY_ASSIGN(Inode n, read_inode(ino));
  if (!mode_type_valid(n.mode)) return corrupt();
  if (n.links_count == 0 && (n.dtime != 0 || !orphans.contains(ino))) return corrupt();
  if (n.flags & (kExtentsFl | kInlineDataFl)) return corrupt();
  if (n.blocks_hi != 0 || n.file_acl_high != 0) return corrupt();
  if (n.file_acl != 0 && !valid_data_block(n.file_acl)) return corrupt();
  if (n.is_dir() && (n.size % block_size != 0 || n.size > uint64_t{n.blocks} * 512))
    return corrupt();
  if (n.is_reg() && n.size > max_file_size()) return corrupt();
  if (n.is_symlink() && (n.size == 0 || n.size >= block_size)) return corrupt();
  return n;
}

Status Core::write_inode(uint32_t ino, const Inode& n) {
  VFSIM_ASSERT(!read_only, "inode or data write on a read-only volume");
  VFSIM_ASSERT(ino >= 1 && ino <= sb.inodes_count, "inode number out of range");
  const InodeLoc loc = locate(*this, ino);
  EXT2_TRY_ASSIGN(BufRef b, cache.get(loc.block));
  n.encode(b->bytes().subspan(loc.offset, sb.inode_size));
  cache.mark_dirty(b);
  return kOk;
}

// A freshly allocated inode slot may hold a previous inode's leftovers (and
// in-inode xattrs); it is cleared completely before the new inode is written.
Status Core::init_new_inode(uint32_t ino, const Inode& n) {
  const InodeLoc loc = locate(*this, ino);
  EXT2_TRY_ASSIGN(BufRef b, cache.get(loc.block));
  auto raw = b->bytes().subspan(loc.offset, sb.inode_size);
  std::fill(raw.begin(), raw.end(), std::byte{0});
  return write_inode(ino, n);
}

static Result<BlockPath> path_of(uint64_t lblk, uint64_t p) {
  BlockPath bp;
  if (lblk < kNDirect) {
    bp.slot = static_cast<uint32_t>(lblk);
    return bp;
  }
  lblk -= kNDirect;
  uint64_t span = p;
  for (int depth = 1; depth <= 3; ++depth, span *= p) {
    if (lblk < span) {
      bp.slot = kIndBlock + depth - 1;
      bp.depth = depth;
      for (int i = depth - 1; i >= 0; --i, lblk /= p) bp.index[i] = static_cast<uint32_t>(lblk % p);
      return bp;
    }
    lblk -= span;
  }
  return Status(EFBIG);
}

Result<Core::Mapping> Core::bmap(Inode& n, uint64_t lblk, bool alloc, uint32_t goal) {
  VFSIM_ASSERT(has_block_map(n), "inode without a block map");
  EXT2_TRY_ASSIGN(BlockPath bp, path_of(lblk, ptrs_per_block));
  std::array<uint32_t, 4> seen{};
  BufRef parent;  // null: the pointer lives in the inode
  uint32_t cur = n.block[bp.slot];
  for (int level = 0;; ++level) {
    bool fresh = false;
    if (cur == 0) {
      if (!alloc) return Mapping{0, false};
      EXT2_TRY_ASSIGN(cur, alloc_block(goal));
      n.blocks += block_size / 512;
      fresh = true;
      if (level < bp.depth) EXT2_TRY(cache.get_zeroed(cur).status());
      if (parent) {
        put32(parent->bytes(), size_t{4} * bp.index[level - 1], cur);
        cache.mark_dirty(parent);
      } else {
        n.block[bp.slot] = cur;
      }
    } else if (!valid_data_block(cur) ||
               std::find(seen.begin(), seen.begin() + level, cur) != seen.begin() + level) {
      return corrupt();  // out of range, metadata, or a cycle in the tree
    }
    seen[level] = cur;
    if (level == bp.depth) return Mapping{cur, fresh};
    EXT2_TRY_ASSIGN(parent, cache.get(cur));
    cur = get32(parent->bytes(), size_t{4} * bp.index[level]);
  }
}

namespace {

// Frees and truncates subtrees of the block map. level 0 is a data block,
// level L an indirect block covering p^L logical blocks.
class Truncator {
 public:
  Truncator(Core& c, Inode& n) : c_(c), n_(n) {}

  Status trim(uint32_t& ref, int level, uint64_t base, uint64_t keep) {
    if (ref == 0) return kOk;
    if (base >= keep) {
      EXT2_TRY(free_tree(ref, level));
      ref = 0;
      return kOk;
    }
    if (level == 0 || base + span(level) <= keep) return kOk;
    EXT2_TRY(check(ref));
    EXT2_TRY_ASSIGN(BufRef b, c_.cache.get(ref));
    path_.push_back(ref);
    const uint64_t child_span = span(level - 1);
    bool empty = true;
    for (uint32_t i = 0; i < c_.ptrs_per_block; ++i) {
      uint32_t child = get32(b->bytes(), size_t{4} * i);
      const uint32_t before = child;
      if (base + (i + 1) * child_span > keep) {  // children wholly below keep stay
        Status s = trim(child, level - 1, base + i * child_span, keep);
        if (child != before) {
          put32(b->bytes(), size_t{4} * i, child);
          c_.cache.mark_dirty(b);
        }
        if (!s.ok()) return s;
      }
      empty = empty && child == 0;
    }
    path_.pop_back();
    if (!empty) return kOk;
    EXT2_TRY(release(ref));
    ref = 0;
    return kOk;
  }

 private:
  uint64_t span(int level) const {
    uint64_t s = 1;
    for (int i = 0; i < level; ++i) s *= c_.ptrs_per_block;
    return s;
  }

  // A block about to be walked or freed must be a valid, allocated data
  // block that is not already on the current path.
  Status check(uint32_t bno) {
    if (!c_.valid_data_block(bno)) return corrupt();
    if (std::find(path_.begin(), path_.end(), bno) != path_.end()) return corrupt();
    EXT2_TRY_ASSIGN(bool used, c_.block_in_use(bno));
    return used ? kOk : corrupt();
  }

  Status release(uint32_t bno) {
    EXT2_TRY(c_.free_block(bno));
    const uint32_t sectors = c_.block_size / 512;
    n_.blocks = n_.blocks >= sectors ? n_.blocks - sectors : 0;
    return kOk;
  }

  Status free_tree(uint32_t bno, int level) {
    EXT2_TRY(check(bno));
    if (level > 0) {
      EXT2_TRY_ASSIGN(BufRef b, c_.cache.get(bno));
      path_.push_back(bno);
      for (uint32_t i = 0; i < c_.ptrs_per_block; ++i) {
        const uint32_t child = get32(b->bytes(), size_t{4} * i);
        if (child != 0) EXT2_TRY(free_tree(child, level - 1));
      }
      path_.pop_back();
    }
    return release(bno);
  }

  Core& c_;
  Inode& n_;
  std::vector<uint32_t> path_;
};

}  // namespace

Status Core::truncate_blocks(Inode& n, uint64_t new_size) {
  VFSIM_ASSERT(has_block_map(n), "inode without a block map");
  VFSIM_ASSERT(new_size <= max_file_size(), "truncate beyond the largest file size");
  const uint64_t keep = (new_size + block_size - 1) / block_size;
  // Zero the tail of a partial last block so that a later extension reads
  // zeros there, as POSIX requires.
  if (new_size % block_size != 0 && new_size < n.size) {
    EXT2_TRY_ASSIGN(Mapping m, bmap(n, new_size / block_size, false, 0));
    if (m.pbn != 0) {
      std::vector<std::byte> zeros(block_size - new_size % block_size);
      EXT2_TRY(write_data(0, n, new_size, zeros).status());
    }
  }
  Truncator t(*this, n);
  const uint64_t p = ptrs_per_block;
  for (uint32_t i = 0; i < kNDirect; ++i) EXT2_TRY(t.trim(n.block[i], 0, i, keep));
  EXT2_TRY(t.trim(n.block[kIndBlock], 1, kNDirect, keep));
  EXT2_TRY(t.trim(n.block[kDindBlock], 2, kNDirect + p, keep));
  EXT2_TRY(t.trim(n.block[kTindBlock], 3, kNDirect + p + p * p, keep));
  n.size = new_size;
  return kOk;
}

constexpr size_t kReadRunBytes = size_t{256} * 1024;

Result<size_t> Core::read_data(Inode& n, uint64_t off, std::span<std::byte> out) {
  if (off >= n.size) return size_t{0};
  const size_t len = static_cast<size_t>(std::min<uint64_t>(out.size(), n.size - off));
  std::vector<std::byte> blk(block_size);
  for (size_t done = 0; done < len;) {
    const uint64_t pos = off + done;
    const uint32_t in_blk = static_cast<uint32_t>(pos % block_size);
    const size_t chunk = std::min<size_t>(len - done, block_size - in_blk);
    EXT2_TRY_ASSIGN(Mapping m, bmap(n, pos / block_size, false, 0));
    auto dst = out.subspan(done, chunk);
    if (m.pbn == 0) {
      std::fill(dst.begin(), dst.end(), std::byte{0});  // a hole
    } else if (BufRef cached = cache.peek(m.pbn)) {
      std::memcpy(dst.data(), cached->data.data() + in_blk, chunk);
    } else {
      // Whole blocks that follow on disk are read in one request (at most
      // kReadRunBytes): a file written in one go is mostly contiguous, and
      // every request is a host system call and a scheduling point.
      size_t run = chunk;
      for (uint32_t next = m.pbn + 1; in_blk == 0 && chunk == block_size &&
                                      len - done - run >= block_size && run < kReadRunBytes;
           ++next) {
        EXT2_TRY_ASSIGN(Mapping more, bmap(n, (pos + run) / block_size, false, 0));
        if (more.pbn != next || cache.peek(next)) break;
        run += block_size;
      }
      EXT2_TRY(io.read(uint64_t{m.pbn} * block_size + in_blk, out.subspan(done, run)));
      done += run;
      continue;
    }
    done += chunk;
  }
  return len;
}

// Writes file data. Data blocks bypass the metadata cache, except that a
// cached copy (a block that is also cached as metadata in a corrupt image) is
// kept coherent. A newly allocated block is zero-filled around the data. On
// ENOSPC or an I/O error after some progress the short count is returned.
Result<size_t> Core::write_data(uint32_t ino, Inode& n, uint64_t off,
                                std::span<const std::byte> in) {
  VFSIM_ASSERT(!read_only, "inode or data write on a read-only volume");
  std::vector<std::byte> blk(block_size);
  uint32_t goal = ino == 0 ? 0 : group_first_block((ino - 1) / sb.inodes_per_group);
  size_t done = 0;
  Status err = kOk;
  while (done < in.size()) {
    const uint64_t pos = off + done;
    const uint32_t in_blk = static_cast<uint32_t>(pos % block_size);
    const size_t chunk = std::min<size_t>(in.size() - done, block_size - in_blk);
    auto m = bmap(n, pos / block_size, true, goal);
    if (!m.ok()) {
      err = m.status();
      break;
    }
    goal = m->pbn + 1;
    const uint64_t dev_off = uint64_t{m->pbn} * block_size;
    BufRef cached = cache.peek(m->pbn);
    if (m->fresh) {
      std::fill(blk.begin(), blk.end(), std::byte{0});
    } else if (cached) {
      blk = cached->data;
    } else if (chunk != block_size) {
      if (Status e = io.read(dev_off, blk); !e.ok()) {
        err = e;
        break;
      }
    }
    std::memcpy(blk.data() + in_blk, in.data() + done, chunk);
    if (cached) cached->data = blk;
    if (Status e = io.write(dev_off, blk); !e.ok()) {
      err = e;
      break;
    }
    done += chunk;
  }
  if (ino != 0 && off + done > n.size) n.size = off + done;
  if (done == 0 && !err.ok()) return err;
  return done;
}

Result<size_t> Core::alloc_data(uint32_t ino, Inode& n, uint64_t off, size_t len) {
  VFSIM_ASSERT(!read_only, "block allocation on a read-only volume");
  const std::vector<std::byte> zeros(block_size);
  uint32_t goal = group_first_block((ino - 1) / sb.inodes_per_group);
  size_t done = 0;
  Status err = kOk;
  while (done < len) {
    const uint64_t pos = off + done;
    const size_t chunk = std::min<size_t>(len - done, block_size - pos % block_size);
    auto m = bmap(n, pos / block_size, true, goal);
    if (!m.ok()) {
      err = m.status();
      break;
    }
    goal = m->pbn + 1;
    if (m->fresh) {
      if (BufRef cached = cache.peek(m->pbn)) cached->data = zeros;
      if (Status e = io.write(uint64_t{m->pbn} * block_size, zeros); !e.ok()) {
        err = e;
        break;
      }
    }
    done += chunk;
  }
  if (off + done > n.size) n.size = off + done;
  if (done == 0 && !err.ok()) return err;
  return done;
}

Status Core::put_data(Inode& n, uint64_t off, std::span<const std::byte> in) {
  VFSIM_ASSERT(!read_only, "data write on a read-only volume");
  std::vector<std::byte> blk(block_size);
  for (size_t done = 0; done < in.size();) {
    const uint64_t pos = off + done;
    const uint32_t in_blk = static_cast<uint32_t>(pos % block_size);
    const size_t chunk = std::min<size_t>(in.size() - done, block_size - in_blk);
    EXT2_TRY_ASSIGN(Mapping m, bmap(n, pos / block_size, false, 0));
    if (m.pbn != 0) {
      const uint64_t dev_off = uint64_t{m.pbn} * block_size;
      BufRef cached = cache.peek(m.pbn);
      if (cached) {
        blk = cached->data;
      } else if (chunk != block_size) {
        EXT2_TRY(io.read(dev_off, blk));
      }
      std::memcpy(blk.data() + in_blk, in.data() + done, chunk);
      if (cached) cached->data = blk;
      EXT2_TRY(io.write(dev_off, blk));
    }
    done += chunk;
  }
  return kOk;
}

Status Core::release_inode(uint32_t ino, Inode& n, uint32_t now) {
  VFSIM_ASSERT(n.links_count == 0, "releasing an inode that still has links");
  if (has_block_map(n)) EXT2_TRY(truncate_blocks(n, 0));
  EXT2_TRY(xattr_release(n));
  const bool was_dir = n.is_dir();
  // A zero dtime means "in use", and one below the inode count reads as a
  // link of the orphan list (ext3's reuse of i_dtime): a clock that starts
  // near 1970, as a simulation's does, must not produce either.
  n.dtime = std::max(now, sb.inodes_count);
  n.size = 0;
  n.block.fill(0);
  EXT2_TRY(write_inode(ino, n));
  orphans.erase(ino);
  return free_inode_bit(ino, was_dir);
}

}  // namespace vfsim::ext2
