// Mount-time validation of the superblock and group descriptors, the fixed
// layout derived from them, and their write-back.
//
// Everything checked here comes from the image and is hostile: each check
// turns a bad value into a one-line reason and refuses the mount, so that the
// rest of the library can rely on a sane geometry (block size, group counts,
// bitmap and inode-table locations inside their group and the image).
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "fsdrivers/ext2/core.h"
#include "fsdrivers/ext2/volume.h"

namespace vfsim::ext2 {
namespace {

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

uint64_t div_ceil(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

bool is_power_of(uint32_t n, uint32_t base) {
  while (n > 1 && n % base == 0) n /= base;
  return n == 1;
}

// Checks that need only the superblock itself; returns "" when sane.
std::string check_superblock(const Superblock& s, uint64_t image_bytes, bool read_only) {
  if (s.magic != kMagic) return format("superblock magic 0x%04x is not 0xEF53", s.magic);
  if (s.rev_level > 1) return format("revision level %u is not supported (0 or 1)", s.rev_level);
  if (s.log_block_size > 2)
    return format("block size 1024<<%u is not 1, 2 or 4 KiB", s.log_block_size);
  if (s.feature_incompat & ~kIncompatSupported)
    return format("unsupported incompatible features 0x%x",
                  s.feature_incompat & ~kIncompatSupported);
  if (!read_only && (s.feature_ro_compat & ~kRoCompatSupported))
    return format("unsupported read-only-compatible features 0x%x; mount read-only",
                  s.feature_ro_compat & ~kRoCompatSupported);
  const uint32_t bs = 1024u << s.log_block_size;
  const uint32_t fdb = bs == 1024 ? 1 : 0;
  if (s.first_data_block != fdb)
    return format("first data block %u is not %u for %u-byte blocks", s.first_data_block, fdb, bs);
  if (s.blocks_per_group == 0 || s.blocks_per_group > 8 * bs)
    return format("blocks per group %u is not in 1..%u", s.blocks_per_group, 8 * bs);
  if (s.inodes_per_group == 0 || s.inodes_per_group > 8 * bs)
    return format("inodes per group %u is not in 1..%u", s.inodes_per_group, 8 * bs);
  if (s.inode_size < kGoodOldInodeSize || s.inode_size > bs || !is_power_of(s.inode_size, 2))
    return format("inode size %u is not a power of two in 128..%u", s.inode_size, bs);
  if (s.blocks_count <= fdb + 1) return format("block count %u is too small", s.blocks_count);
  const uint64_t groups = div_ceil(s.blocks_count - fdb, s.blocks_per_group);
  const uint64_t inodes = groups * s.inodes_per_group;
  if (s.inodes_count > inodes)
    return format("inode count %u exceeds %" PRIu64 " groups of %u inodes", s.inodes_count, groups,
                  s.inodes_per_group);
  if (s.inodes_count != inodes)
    return format("inode count %u does not match %" PRIu64 " groups of %u inodes", s.inodes_count,
                  groups, s.inodes_per_group);
  if (s.first_ino < kGoodOldFirstIno || s.first_ino >= s.inodes_count)
    return format("first non-reserved inode %u is not in 11..%u", s.first_ino, s.inodes_count - 1);
  const uint64_t gdt_off = uint64_t{fdb + 1} * bs;
  const uint64_t gdt_end = gdt_off + div_ceil(groups * kGroupDescSize, bs) * bs;
  if (gdt_end > image_bytes)
    return format("image truncated: group descriptor table at byte %" PRIu64
                  " beyond image size %" PRIu64,
                  gdt_end, image_bytes);
  if (uint64_t{s.blocks_count} * bs > image_bytes)
    return format("image truncated: %u blocks of %u bytes need %" PRIu64
                  " bytes, image has %" PRIu64,
                  s.blocks_count, bs, uint64_t{s.blocks_count} * bs, image_bytes);
  return "";
}

}  // namespace

Core::Core(BlockIo& io_in, uint32_t bs, size_t cache_blocks)
    : io(io_in), block_size(bs), ptrs_per_block(bs / 4), cache(io_in, bs, cache_blocks) {}

uint32_t Core::blocks_in_group(uint32_t g) const {
  VFSIM_ASSERT(g < groups_count, "block group number out of range");
  if (g + 1 < groups_count) return sb.blocks_per_group;
  return sb.blocks_count - group_first_block(g);
}

bool Core::group_has_super(uint32_t g) const {
  if (g <= 1 || !(sb.feature_ro_compat & kRoCompatSparseSuper)) return true;
  return is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

bool Core::is_fixed_metadata(uint32_t bno) const {
  VFSIM_ASSERT(bno >= sb.first_data_block && bno < sb.blocks_count,
               "block number outside the data area");
  const uint32_t g = (bno - sb.first_data_block) / sb.blocks_per_group;
  const uint32_t off = (bno - sb.first_data_block) % sb.blocks_per_group;
  if (group_has_super(g) && off < 1 + gdt_blocks + sb.reserved_gdt_blocks) return true;
  const GroupDesc& gd = gds[g];
  if (bno == gd.block_bitmap || bno == gd.inode_bitmap) return true;
  return bno >= gd.inode_table && bno - gd.inode_table < itable_blocks;
}

bool Core::valid_data_block(uint32_t bno) const {
  if (bno < sb.first_data_block || bno >= sb.blocks_count) return false;
  return !is_fixed_metadata(bno);
}

bool Core::valid_dirent_ino(uint32_t ino) const {
  return ino == kRootIno || (ino >= sb.first_ino && ino <= sb.inodes_count);
}

namespace {

// Checks one group descriptor against its group's block range.
std::string check_group(const Core& c, uint32_t g) {
  const GroupDesc& gd = c.gds[g];
  const uint32_t first = c.group_first_block(g);
  const uint32_t last = first + c.blocks_in_group(g) - 1;
  const uint32_t meta_end =
      first + (c.group_has_super(g) ? 1 + c.gdt_blocks + c.sb.reserved_gdt_blocks : 0);
  auto outside = [&](uint32_t b) { return b < meta_end || b > last; };
  if (outside(gd.block_bitmap))
    return format("group %u: block bitmap at block %u outside the group (blocks %u..%u)", g,
                  gd.block_bitmap, meta_end, last);
  if (outside(gd.inode_bitmap))
    return format("group %u: inode bitmap at block %u outside the group (blocks %u..%u)", g,
                  gd.inode_bitmap, meta_end, last);
  if (outside(gd.inode_table) || last - gd.inode_table + 1 < c.itable_blocks)
    return format("group %u: inode table at block %u (%u blocks) outside the group (blocks %u..%u)",
                  g, gd.inode_table, c.itable_blocks, meta_end, last);
  auto in_table = [&](uint32_t b) {
    return b >= gd.inode_table && b - gd.inode_table < c.itable_blocks;
  };
  if (gd.block_bitmap == gd.inode_bitmap || in_table(gd.block_bitmap) || in_table(gd.inode_bitmap))
    return format("group %u: bitmaps and inode table overlap", g);
  if (gd.free_blocks_count > c.blocks_in_group(g))
    return format("group %u: free block count %u exceeds %u blocks", g, gd.free_blocks_count,
                  c.blocks_in_group(g));
  if (gd.free_inodes_count > c.sb.inodes_per_group)
    return format("group %u: free inode count %u exceeds %u inodes", g, gd.free_inodes_count,
                  c.sb.inodes_per_group);
  if (gd.used_dirs_count > c.sb.inodes_per_group)
    return format("group %u: directory count %u exceeds %u inodes", g, gd.used_dirs_count,
                  c.sb.inodes_per_group);
  return "";
}

std::string load_groups(Core& c) {
  const uint64_t off = uint64_t{c.sb.first_data_block + 1} * c.block_size;
  c.gdt_raw.assign(uint64_t{c.gdt_blocks} * c.block_size, std::byte{0});
  if (Status e = c.io.read(off, c.gdt_raw); !e.ok())
    return format("cannot read group descriptor table at byte %" PRIu64 ": errno %d", off, e.err());
  if (1 + c.gdt_blocks + c.sb.reserved_gdt_blocks > c.blocks_in_group(0))
    return format("group descriptor table (%u + %u reserved blocks) does not fit in group 0",
                  c.gdt_blocks, c.sb.reserved_gdt_blocks);
  c.gds.resize(c.groups_count);
  for (uint32_t g = 0; g < c.groups_count; ++g)
    c.gds[g] = GroupDesc::decode(std::span(c.gdt_raw).subspan(g * kGroupDescSize, kGroupDescSize));
  for (uint32_t g = 0; g < c.groups_count; ++g)
    if (std::string r = check_group(c, g); !r.empty()) return r;
  return "";
}

}  // namespace

std::unique_ptr<Core> Core::open(BlockIo& io, const MountOptions& opts, std::string& reason) {
  const uint64_t image = io.size_bytes();
  if (image < kSuperblockOffset + kSuperblockSize) {
    reason = format("image truncated: superblock at byte 1024 beyond image size %" PRIu64, image);
    return nullptr;
  }
  std::array<std::byte, kSuperblockSize> raw{};
  if (Status e = io.read(kSuperblockOffset, raw); !e.ok()) {
    reason = format("cannot read superblock: errno %d", e.err());
    return nullptr;
  }
  const Superblock s = Superblock::decode(raw);
  if (reason = check_superblock(s, image, opts.read_only); !reason.empty()) return nullptr;
  auto c = std::make_unique<Core>(io, 1024u << s.log_block_size, opts.cache_blocks);
  c->sb = s;
  c->sb_raw = raw;
  c->read_only = opts.read_only;
  c->defer_free_unlinked = opts.defer_free_unlinked;
  c->test_panic_entry = opts.test_panic_entry;
  c->groups_count =
      static_cast<uint32_t>(div_ceil(s.blocks_count - s.first_data_block, s.blocks_per_group));
  c->gdt_blocks =
      static_cast<uint32_t>(div_ceil(uint64_t{c->groups_count} * kGroupDescSize, c->block_size));
  c->itable_blocks =
      static_cast<uint32_t>(div_ceil(uint64_t{s.inodes_per_group} * s.inode_size, c->block_size));
  if (reason = load_groups(*c); !reason.empty()) return nullptr;
  return c;
}

// Writes the primary superblock and group descriptor table. The free counts
// in the superblock are recomputed from the group descriptors, which are kept
// exact by the allocator. Backup copies are left alone, as the kernel does.
Status Core::write_super_and_gdt() {
  uint64_t free_blocks = 0, free_inodes = 0;
  for (uint32_t g = 0; g < groups_count; ++g) {
    free_blocks += gds[g].free_blocks_count;
    free_inodes += gds[g].free_inodes_count;
    gds[g].encode(std::span(gdt_raw).subspan(g * kGroupDescSize, kGroupDescSize));
  }
  sb.free_blocks_count = static_cast<uint32_t>(free_blocks);
  sb.free_inodes_count = static_cast<uint32_t>(free_inodes);
  sb.encode_counters(sb_raw);
  if (gdt_dirty) {
    EXT2_TRY(io.write(uint64_t{sb.first_data_block + 1} * block_size, gdt_raw));
    gdt_dirty = false;
  }
  EXT2_TRY(io.write(kSuperblockOffset, sb_raw));
  return kOk;
}

Status Core::sync() {
  if (read_only) return kOk;
  Status s = cache.flush();
  Status t = write_super_and_gdt();
  return s.ok() ? t : s;
}

}  // namespace vfsim::ext2
