#include "fsdrivers/ext2/ondisk.h"

namespace vfsim::ext2 {

FileType file_type_of_mode(uint16_t mode) {
  switch (mode & kSIFMT) {
    case kSIFREG: return FileType::Regular;
    case kSIFDIR: return FileType::Directory;
    case kSIFCHR: return FileType::CharDev;
    case kSIFBLK: return FileType::BlockDev;
    case kSIFIFO: return FileType::Fifo;
    case kSIFSOCK: return FileType::Socket;
    case kSIFLNK: return FileType::Symlink;
    default: return FileType::Unknown;
  }
}

bool mode_type_valid(uint16_t mode) { return file_type_of_mode(mode) != FileType::Unknown; }

Superblock Superblock::decode(std::span<const std::byte> r) {
  Superblock s{};
  s.inodes_count = get32(r, 0);
  s.blocks_count = get32(r, 4);
  s.r_blocks_count = get32(r, 8);
  s.free_blocks_count = get32(r, 12);
  s.free_inodes_count = get32(r, 16);
  s.first_data_block = get32(r, 20);
  s.log_block_size = get32(r, 24);
  s.blocks_per_group = get32(r, 32);
  s.inodes_per_group = get32(r, 40);
  s.magic = get16(r, 56);
  s.state = get16(r, 58);
  s.rev_level = get32(r, 76);
  // Revision 0 has no dynamic fields; their fixed values apply.
  const bool dynamic = s.rev_level >= 1;
  s.first_ino = dynamic ? get32(r, 84) : kGoodOldFirstIno;
  s.inode_size = dynamic ? get16(r, 88) : kGoodOldInodeSize;
  s.feature_compat = dynamic ? get32(r, 92) : 0;
  s.feature_incompat = dynamic ? get32(r, 96) : 0;
  s.feature_ro_compat = dynamic ? get32(r, 100) : 0;
  s.reserved_gdt_blocks = dynamic ? get16(r, 206) : 0;
  for (size_t i = 0; i < s.hash_seed.size(); ++i)
    s.hash_seed[i] = dynamic ? get32(r, 236 + 4 * i) : 0;
  s.flags = get32(r, 352);
  return s;
}

void Superblock::encode_counters(std::span<std::byte> r) const {
  put32(r, 12, free_blocks_count);
  put32(r, 16, free_inodes_count);
}

GroupDesc GroupDesc::decode(std::span<const std::byte> r) {
  GroupDesc g{};
  g.block_bitmap = get32(r, 0);
  g.inode_bitmap = get32(r, 4);
  g.inode_table = get32(r, 8);
  g.free_blocks_count = get16(r, 12);
  g.free_inodes_count = get16(r, 14);
  g.used_dirs_count = get16(r, 16);
  g.flags = get16(r, 18);
  return g;
}

void GroupDesc::encode(std::span<std::byte> r) const {
  put32(r, 0, block_bitmap);
  put32(r, 4, inode_bitmap);
  put32(r, 8, inode_table);
  put16(r, 12, free_blocks_count);
  put16(r, 14, free_inodes_count);
  put16(r, 16, used_dirs_count);
  put16(r, 18, flags);
}

namespace {

// Byte offsets of the extra time fields (ext4 large inode).
constexpr size_t kCtimeExtra = 132, kMtimeExtra = 136, kAtimeExtra = 140, kCrtime = 144,
                 kCrtimeExtra = 148;

// Whether the 4-byte field at `off` lies inside the inode's extra space.
bool fits(std::span<const std::byte> r, uint16_t extra_isize, size_t off) {
  return r.size() >= off + 4 && size_t{128} + extra_isize >= off + 4;
}

Time decode_time(uint32_t lo, uint32_t extra) {
  const int64_t sec = static_cast<int32_t>(lo) + (static_cast<int64_t>(extra & 3) << 32);
  return Time(sec, std::min<uint32_t>(extra >> 2, 999'999'999));
}

// ext4_encode_extra_time: the bits of the seconds above the signed 32-bit
// field, and the nanoseconds.
uint32_t encode_extra(const Time& t) {
  const int64_t above = (t.sec - static_cast<int32_t>(static_cast<uint32_t>(t.sec))) >> 32;
  return static_cast<uint32_t>(above & 3) | (t.nsec << 2);
}

}  // namespace

Inode Inode::decode(std::span<const std::byte> r) {
  Inode n;
  n.mode = get16(r, 0);
  n.uid = get16(r, 2) | (static_cast<uint32_t>(get16(r, 120)) << 16);
  n.size_high_raw = get32(r, 108);
  n.size = get32(r, 4);
  if (n.is_reg()) n.size |= static_cast<uint64_t>(n.size_high_raw) << 32;
  n.dtime = get32(r, 20);
  n.gid = get16(r, 24) | (static_cast<uint32_t>(get16(r, 122)) << 16);
  n.links_count = get16(r, 26);
  n.blocks = get32(r, 28);
  n.flags = get32(r, 32);
  for (uint32_t i = 0; i < kNBlocks; ++i) n.block[i] = get32(r, 40 + 4 * i);
  n.generation = get32(r, 100);
  n.file_acl = get32(r, 104);
  n.blocks_hi = get16(r, 116);
  n.file_acl_high = get16(r, 118);
  if (r.size() >= 160) n.extra_isize = get16(r, 128);
  const auto extra = [&](size_t off) { return fits(r, n.extra_isize, off) ? get32(r, off) : 0; };
  n.atime = decode_time(get32(r, 8), extra(kAtimeExtra));
  n.ctime = decode_time(get32(r, 12), extra(kCtimeExtra));
  n.mtime = decode_time(get32(r, 16), extra(kMtimeExtra));
  if (fits(r, n.extra_isize, kCrtime))
    n.crtime = decode_time(get32(r, kCrtime), extra(kCrtimeExtra));
  return n;
}

void Inode::encode(std::span<std::byte> r) const {
  put16(r, 0, mode);
  put16(r, 2, static_cast<uint16_t>(uid));
  put32(r, 4, static_cast<uint32_t>(size));
  put32(r, 8, static_cast<uint32_t>(atime.sec));
  put32(r, 12, static_cast<uint32_t>(ctime.sec));
  put32(r, 16, static_cast<uint32_t>(mtime.sec));
  put32(r, 20, dtime);
  put16(r, 24, static_cast<uint16_t>(gid));
  put16(r, 26, links_count);
  put32(r, 28, blocks);
  put32(r, 32, flags);
  for (uint32_t i = 0; i < kNBlocks; ++i) put32(r, 40 + 4 * i, block[i]);
  put32(r, 100, generation);
  put32(r, 104, file_acl);
  put32(r, 108, is_reg() ? static_cast<uint32_t>(size >> 32) : size_high_raw);
  put16(r, 116, blocks_hi);
  put16(r, 118, file_acl_high);
  put16(r, 120, static_cast<uint16_t>(uid >> 16));
  put16(r, 122, static_cast<uint16_t>(gid >> 16));
  if (r.size() >= 160) put16(r, 128, extra_isize);
  const auto put_extra = [&](size_t off, uint32_t v) {
    if (fits(r, extra_isize, off)) put32(r, off, v);
  };
  put_extra(kCtimeExtra, encode_extra(ctime));
  put_extra(kMtimeExtra, encode_extra(mtime));
  put_extra(kAtimeExtra, encode_extra(atime));
  put_extra(kCrtime, static_cast<uint32_t>(crtime.sec));
  put_extra(kCrtimeExtra, encode_extra(crtime));
}

}  // namespace vfsim::ext2
