// Block and inode allocation over the on-disk bitmaps.
//
// The group descriptors' free counts are kept exact with every bit flipped
// here (the superblock totals are recomputed from them at sync). A bitmap
// that contradicts the image's layout - a "free" bit for a superblock or an
// inode-table block - is never trusted: such bits are skipped, and freeing a
// block or inode whose bit is already clear is reported as corruption (EIO),
// which also stops a cyclic block tree from being freed twice.
#include "fsdrivers/ext2/core.h"

namespace vfsim::ext2 {
namespace {

bool test_bit(std::span<const std::byte> bm, uint32_t bit) {
  return (static_cast<uint8_t>(bm[bit / 8]) >> (bit % 8)) & 1u;
}
void set_bit(std::span<std::byte> bm, uint32_t bit, bool on) {
  const auto mask = static_cast<std::byte>(1u << (bit % 8));
  bm[bit / 8] = on ? (bm[bit / 8] | mask) : (bm[bit / 8] & ~mask);
}

// First clear bit in [from, nbits), skipping full bytes; nbits if none.
uint32_t find_clear(std::span<const std::byte> bm, uint32_t from, uint32_t nbits) {
  for (uint32_t bit = from; bit < nbits;) {
    if (bit % 8 == 0 && bit + 8 <= nbits && bm[bit / 8] == std::byte{0xFF}) {
      bit += 8;
      continue;
    }
    if (!test_bit(bm, bit)) return bit;
    ++bit;
  }
  return nbits;
}

}  // namespace

// Allocates a block, preferring goal and the blocks after it in goal's group,
// then the following groups in order.
Result<uint32_t> Core::alloc_block(uint32_t goal) {
  VFSIM_ASSERT(!read_only, "block or inode allocation on a read-only volume");
  if (goal < sb.first_data_block || goal >= sb.blocks_count) goal = sb.first_data_block;
  const uint32_t g0 = (goal - sb.first_data_block) / sb.blocks_per_group;
  for (uint32_t k = 0; k <= groups_count; ++k) {
    const uint32_t g = (g0 + k) % groups_count;
    if (gds[g].free_blocks_count == 0) continue;
    EXT2_TRY_ASSIGN(BufRef bm, cache.get(gds[g].block_bitmap));
    const uint32_t nbits = blocks_in_group(g);
    // The goal's group is searched from the goal on the first pass and
    // from its start on the wrap-around pass (k == groups_count).
    uint32_t bit = (k == 0) ? goal - group_first_block(g) : 0;
    for (;; ++bit) {
      bit = find_clear(bm->data, bit, nbits);
      if (bit >= nbits) break;
      const uint32_t bno = group_first_block(g) + bit;
      if (is_fixed_metadata(bno)) continue;  // corrupt bitmap: never hand out metadata
      set_bit(bm->data, bit, true);
      cache.mark_dirty(bm);
      gds[g].free_blocks_count--;
      gdt_dirty = true;
      return bno;
    }
  }
  return Status(ENOSPC);
}

Status Core::free_block(uint32_t bno) {
  VFSIM_ASSERT(!read_only, "block or inode allocation on a read-only volume");
  if (!valid_data_block(bno)) return corrupt();
  const uint32_t g = (bno - sb.first_data_block) / sb.blocks_per_group;
  const uint32_t bit = (bno - sb.first_data_block) % sb.blocks_per_group;
  EXT2_TRY_ASSIGN(BufRef bm, cache.get(gds[g].block_bitmap));
  if (!test_bit(bm->data, bit)) return corrupt();  // double free: shared or cyclic block
  if (gds[g].free_blocks_count >= blocks_in_group(g)) return corrupt();
  set_bit(bm->data, bit, false);
  cache.mark_dirty(bm);
  gds[g].free_blocks_count++;
  gdt_dirty = true;
  cache.drop(bno);
  return kOk;
}

Result<bool> Core::block_in_use(uint32_t bno) {
  if (bno < sb.first_data_block || bno >= sb.blocks_count) return corrupt();
  const uint32_t g = (bno - sb.first_data_block) / sb.blocks_per_group;
  EXT2_TRY_ASSIGN(BufRef bm, cache.get(gds[g].block_bitmap));
  return test_bit(bm->data, (bno - sb.first_data_block) % sb.blocks_per_group);
}

// Allocates an inode, starting in the parent's group so that a directory's
// files stay near it; deterministic first fit.
Result<uint32_t> Core::alloc_inode(uint32_t parent_ino, bool is_dir) {
  VFSIM_ASSERT(!read_only, "block or inode allocation on a read-only volume");
  VFSIM_ASSERT(parent_ino >= 1 && parent_ino <= sb.inodes_count,
               "parent inode number out of range");
  const uint32_t g0 = (parent_ino - 1) / sb.inodes_per_group;
  for (uint32_t k = 0; k < groups_count; ++k) {
    const uint32_t g = (g0 + k) % groups_count;
    if (gds[g].free_inodes_count == 0) continue;
    EXT2_TRY_ASSIGN(BufRef bm, cache.get(gds[g].inode_bitmap));
    for (uint32_t bit = 0;; ++bit) {
      bit = find_clear(bm->data, bit, sb.inodes_per_group);
      if (bit >= sb.inodes_per_group) break;
      const uint32_t ino = g * sb.inodes_per_group + bit + 1;
      if (ino < sb.first_ino) continue;  // reserved inodes are never handed out
      set_bit(bm->data, bit, true);
      cache.mark_dirty(bm);
      gds[g].free_inodes_count--;
      if (is_dir) gds[g].used_dirs_count++;
      gdt_dirty = true;
      return ino;
    }
  }
  return Status(ENOSPC);
}

Status Core::free_inode_bit(uint32_t ino, bool was_dir) {
  VFSIM_ASSERT(!read_only, "block or inode allocation on a read-only volume");
  if (ino < sb.first_ino || ino > sb.inodes_count) return corrupt();
  const uint32_t g = (ino - 1) / sb.inodes_per_group;
  const uint32_t bit = (ino - 1) % sb.inodes_per_group;
  EXT2_TRY_ASSIGN(BufRef bm, cache.get(gds[g].inode_bitmap));
  if (!test_bit(bm->data, bit)) return corrupt();
  if (gds[g].free_inodes_count >= sb.inodes_per_group) return corrupt();
  set_bit(bm->data, bit, false);
  cache.mark_dirty(bm);
  gds[g].free_inodes_count++;
  if (was_dir && gds[g].used_dirs_count > 0) gds[g].used_dirs_count--;
  gdt_dirty = true;
  return kOk;
}

}  // namespace vfsim::ext2
