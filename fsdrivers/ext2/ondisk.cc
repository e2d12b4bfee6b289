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

Inode Inode::decode(std::span<const std::byte> r) {
  Inode n;
  n.mode = get16(r, 0);
  n.uid = get16(r, 2) | (static_cast<uint32_t>(get16(r, 120)) << 16);
  n.size_high_raw = get32(r, 108);
  n.size = get32(r, 4);
  if (n.is_reg()) n.size |= static_cast<uint64_t>(n.size_high_raw) << 32;
  n.atime = get32(r, 8);
  n.ctime = get32(r, 12);
  n.mtime = get32(r, 16);
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
  if (r.size() >= 160) {
    n.extra_isize = get16(r, 128);
    if (n.extra_isize >= kExtraIsizeWithCrtime) n.crtime = get32(r, 144);
  }
  return n;
}

void Inode::encode(std::span<std::byte> r) const {
  put16(r, 0, mode);
  put16(r, 2, static_cast<uint16_t>(uid));
  put32(r, 4, static_cast<uint32_t>(size));
  put32(r, 8, atime);
  put32(r, 12, ctime);
  put32(r, 16, mtime);
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
  if (r.size() >= 160) {
    put16(r, 128, extra_isize);
    if (extra_isize >= kExtraIsizeWithCrtime) put32(r, 144, crtime);
  }
}

}  // namespace vfsim::ext2
