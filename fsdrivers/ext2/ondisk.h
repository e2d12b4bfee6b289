// The ext2 on-disk format (revision 0 and 1): constants, little-endian field
// access, and the decoded forms of the superblock, group descriptor and inode.
//
// Fields are decoded byte by byte from little-endian buffers rather than by
// casting packed structs, so the code is independent of host endianness and
// alignment and a short or hostile buffer can never be read past its end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fsdrivers/ext2/result.h"

namespace vfsim::ext2 {

inline constexpr uint16_t kMagic = 0xEF53;
inline constexpr uint64_t kSuperblockOffset = 1024;
inline constexpr size_t kSuperblockSize = 1024;
inline constexpr uint32_t kRootIno = 2;
inline constexpr uint32_t kGoodOldFirstIno = 11;
inline constexpr uint32_t kGoodOldInodeSize = 128;
inline constexpr size_t kGroupDescSize = 32;
inline constexpr uint32_t kNDirect = 12;
inline constexpr uint32_t kIndBlock = 12, kDindBlock = 13, kTindBlock = 14;
inline constexpr uint32_t kNBlocks = 15;
inline constexpr size_t kFastSymlinkMax = 60;  // sizeof(i_block)
inline constexpr uint16_t kLinkMax = 32000;    // EXT2_LINK_MAX
inline constexpr size_t kNameMax = 255;
// i_extra_isize that covers i_crtime (offset 144..147 of the inode); mke2fs
// writes 32, the size of all extra fields it knows.
inline constexpr uint16_t kExtraIsizeWithCrtime = 20;
inline constexpr uint16_t kExtraIsizeDefault = 32;

// Feature bits this implementation understands.
inline constexpr uint32_t kIncompatFiletype = 0x0002;
inline constexpr uint32_t kIncompatSupported = kIncompatFiletype;
inline constexpr uint32_t kRoCompatSparseSuper = 0x0001;
inline constexpr uint32_t kRoCompatLargeFile = 0x0002;
inline constexpr uint32_t kRoCompatSupported = kRoCompatSparseSuper | kRoCompatLargeFile;
inline constexpr uint32_t kCompatExtAttr = 0x0008;
inline constexpr uint32_t kCompatDirIndex = 0x0020;
// s_flags: the directory-index hash treats name bytes as unsigned chars.
inline constexpr uint32_t kFlagsUnsignedHash = 0x0002;

// Inode flags that matter to us.
inline constexpr uint32_t kIndexFl = 0x00001000;  // hashed (htree) directory
inline constexpr uint32_t kExtentsFl = 0x00080000;
inline constexpr uint32_t kInlineDataFl = 0x10000000;

// i_mode type bits.
inline constexpr uint16_t kSIFMT = 0xF000, kSIFSOCK = 0xC000, kSIFLNK = 0xA000, kSIFREG = 0x8000,
                          kSIFBLK = 0x6000, kSIFDIR = 0x4000, kSIFCHR = 0x2000, kSIFIFO = 0x1000;

// Directory entry file types (feature filetype).
enum class FileType : uint8_t {
  Unknown = 0,
  Regular = 1,
  Directory = 2,
  CharDev = 3,
  BlockDev = 4,
  Fifo = 5,
  Socket = 6,
  Symlink = 7,
};
FileType file_type_of_mode(uint16_t mode);
bool mode_type_valid(uint16_t mode);

// Little-endian accessors over a byte span; offsets are internal constants,
// so an out-of-range offset is a bug and asserted.
inline uint8_t get8(std::span<const std::byte> b, size_t off) {
  VFSIM_ASSERT(off < b.size(), "byte offset beyond the on-disk structure");
  return static_cast<uint8_t>(b[off]);
}
inline uint16_t get16(std::span<const std::byte> b, size_t off) {
  return static_cast<uint16_t>(get8(b, off) | (get8(b, off + 1) << 8));
}
inline uint32_t get32(std::span<const std::byte> b, size_t off) {
  return static_cast<uint32_t>(get16(b, off)) | (static_cast<uint32_t>(get16(b, off + 2)) << 16);
}
inline void put8(std::span<std::byte> b, size_t off, uint8_t v) {
  VFSIM_ASSERT(off < b.size(), "byte offset beyond the on-disk structure");
  b[off] = static_cast<std::byte>(v);
}
inline void put16(std::span<std::byte> b, size_t off, uint16_t v) {
  put8(b, off, static_cast<uint8_t>(v));
  put8(b, off + 1, static_cast<uint8_t>(v >> 8));
}
inline void put32(std::span<std::byte> b, size_t off, uint32_t v) {
  put16(b, off, static_cast<uint16_t>(v));
  put16(b, off + 2, static_cast<uint16_t>(v >> 16));
}

// The superblock fields we use; everything else is preserved byte for byte
// because the superblock is rewritten by patching the original 1024 bytes.
struct Superblock {
  uint32_t inodes_count, blocks_count, r_blocks_count, free_blocks_count, free_inodes_count;
  uint32_t first_data_block, log_block_size, blocks_per_group, inodes_per_group;
  uint16_t magic, state;
  uint32_t rev_level, first_ino;
  uint16_t inode_size;
  uint32_t feature_compat, feature_incompat, feature_ro_compat;
  uint16_t reserved_gdt_blocks;
  std::array<uint32_t, 4> hash_seed;  // s_hash_seed (directory index)
  uint32_t flags;                     // s_flags

  static Superblock decode(std::span<const std::byte> raw);
  // Writes the counters that change at run time back into raw.
  void encode_counters(std::span<std::byte> raw) const;
};

struct GroupDesc {
  uint32_t block_bitmap, inode_bitmap, inode_table;
  uint16_t free_blocks_count, free_inodes_count, used_dirs_count, flags;

  static GroupDesc decode(std::span<const std::byte> raw);
  void encode(std::span<std::byte> raw) const;
};

// A timestamp: seconds since 1970 (negative before) and nanoseconds. It
// converts from whole seconds, for callers that have only those.
struct Time {
  int64_t sec = 0;
  uint32_t nsec = 0;
  constexpr Time() = default;
  constexpr Time(int64_t s, uint32_t ns = 0) : sec(s), nsec(ns) {}  // NOLINT: implicit on purpose
  friend constexpr bool operator==(const Time&, const Time&) = default;
  friend constexpr auto operator<=>(const Time&, const Time&) = default;
};

// The times an inode can hold (Linux's s_time_min/s_time_max for ext4):
// with the i_*_extra fields of a large inode, 34 bits of seconds from 1901
// (two epoch bits above the signed 32-bit field, to 2446) and nanoseconds;
// without them, the signed 32-bit seconds alone (1901 to 2038).
inline constexpr int64_t kTimeMin = INT32_MIN;
inline constexpr int64_t kTimeMaxSmall = INT32_MAX;
inline constexpr int64_t kTimeMaxExtra = (int64_t{1} << 34) - 1 + INT32_MIN;

// The classic 128-byte inode plus the extra fields of large inodes that we
// maintain (i_extra_isize and crtime).
struct Inode {
  uint16_t mode = 0;
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0;  // i_size | i_size_high << 32 (regular files only)
  // Decoded as Linux's ext4 reads them: the 32-bit field as signed seconds,
  // plus the epoch bits and nanoseconds of its i_*_extra field when the
  // inode has one (i_extra_isize covers it).
  Time atime, ctime, mtime;
  uint32_t dtime = 0;
  uint16_t links_count = 0;
  uint32_t blocks = 0;  // 512-byte sectors, including metadata blocks
  uint32_t flags = 0;
  std::array<uint32_t, kNBlocks> block{};
  uint32_t generation = 0;
  uint32_t file_acl = 0;
  uint32_t size_high_raw = 0;  // i_size_high / i_dir_acl as stored
  uint16_t blocks_hi = 0, file_acl_high = 0;
  uint16_t extra_isize = 0;
  Time crtime;

  bool is_dir() const { return (mode & kSIFMT) == kSIFDIR; }
  bool is_reg() const { return (mode & kSIFMT) == kSIFREG; }
  bool is_symlink() const { return (mode & kSIFMT) == kSIFLNK; }
  bool is_device() const { return (mode & kSIFMT) == kSIFCHR || (mode & kSIFMT) == kSIFBLK; }

  // raw is the whole on-disk inode (inode_size bytes).
  static Inode decode(std::span<const std::byte> raw);
  void encode(std::span<std::byte> raw) const;
};

}  // namespace vfsim::ext2
