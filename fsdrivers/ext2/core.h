// The internal state of one mounted ext2 volume and the operations the public
// Volume is built from. The methods are implemented one role per file:
//   superblock.cc  mount-time validation, geometry, superblock/GDT write-back
//   alloc.cc       block and inode bitmaps
//   inode.cc       inode table access, block map, truncation, file data
//   dir.cc         linear directories
//   xattr.cc       the extended-attribute block
// Nothing here is thread-safe; the caller (the VFS driver) serialises access
// with its own vnode/mount locks.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fsdrivers/ext2/block_io.h"
#include "fsdrivers/ext2/cache.h"
#include "fsdrivers/ext2/ondisk.h"
#include "fsdrivers/ext2/result.h"

namespace vfsim::ext2 {

struct MountOptions;

// A parsed directory entry as found on disk, with where it lives.
struct RawDirent {
  uint64_t pos = 0;       // byte offset in the directory (readdir cookie)
  uint32_t lblk = 0;      // logical block of the directory
  uint32_t off = 0;       // byte offset in that block
  uint32_t prev_off = 0;  // offset of the previous entry in the block
  bool has_prev = false;  // false for the first entry of a block
  uint32_t ino = 0;       // 0 = unused slot
  uint16_t rec_len = 0;
  uint8_t type = 0;
  std::string_view name;  // valid only during the visit
  Buf* buf = nullptr;     // the (pinned) directory block
};

enum class Visit { Continue, Stop };

class Core {
 public:
  Core(BlockIo& io, uint32_t block_size, size_t cache_blocks);

  // ---- superblock.cc ----
  // Validates the superblock and group descriptors; on failure fills reason.
  static std::unique_ptr<Core> open(BlockIo& io, const MountOptions& opts, std::string& reason);
  bool group_has_super(uint32_t g) const;
  bool is_fixed_metadata(uint32_t bno) const;
  // A block number that may hold file data, a directory, an indirect or
  // xattr block: inside the file system and not fixed metadata.
  bool valid_data_block(uint32_t bno) const;
  bool valid_dirent_ino(uint32_t ino) const;
  uint32_t group_first_block(uint32_t g) const {
    return sb.first_data_block + g * sb.blocks_per_group;
  }
  uint32_t blocks_in_group(uint32_t g) const;
  Status write_super_and_gdt();
  Status sync();

  // ---- alloc.cc ----
  Result<uint32_t> alloc_block(uint32_t goal);
  Status free_block(uint32_t bno);
  Result<bool> block_in_use(uint32_t bno);
  Result<uint32_t> alloc_inode(uint32_t parent_ino, bool is_dir);
  Status free_inode_bit(uint32_t ino, bool was_dir);

  // ---- inode.cc ----
  Result<Inode> read_inode(uint32_t ino);
  // read_inode plus the checks every in-use inode must pass.
  Result<Inode> read_live_inode(uint32_t ino);
  Status write_inode(uint32_t ino, const Inode& n);
  Status init_new_inode(uint32_t ino, const Inode& n);  // zeroes the slot first
  uint64_t max_file_size() const;
  bool has_block_map(const Inode& n) const;
  struct Mapping {
    uint32_t pbn;
    bool fresh;
  };
  // Maps logical block lblk. With alloc, missing blocks are allocated and
  // n.blocks is updated (the caller writes the inode back).
  Result<Mapping> bmap(Inode& n, uint64_t lblk, bool alloc, uint32_t goal);
  Status truncate_blocks(Inode& n, uint64_t new_size);
  Result<size_t> read_data(Inode& n, uint64_t off, std::span<std::byte> out);
  Result<size_t> write_data(uint32_t ino, Inode& n, uint64_t off, std::span<const std::byte> in);
  // For a page cache above the volume (write-back): alloc_data maps every
  // block under [off, off + len), zero-filling the new ones on disk, and
  // writes no data; the short count stops at the first block it could not
  // allocate. put_data writes `in` into blocks already mapped only (holes
  // stay holes) and changes no metadata.
  Result<size_t> alloc_data(uint32_t ino, Inode& n, uint64_t off, size_t len);
  Status put_data(Inode& n, uint64_t off, std::span<const std::byte> in);
  // Releases every block of an inode whose link count reached zero and
  // clears its bitmap bit.
  Status release_inode(uint32_t ino, Inode& n, uint32_t now);

  // ---- dir.cc ----
  Status dir_iterate(const Inode& dir, uint64_t start_pos,
                     const std::function<Visit(const RawDirent&)>& fn);
  // Blocks [first_lblk, end_lblk) from byte start_pos on.
  Status dir_walk(const Inode& dir, uint64_t first_lblk, uint64_t end_lblk, uint64_t start_pos,
                  const std::function<Visit(const RawDirent&)>& fn);
  // The live entry called name in directory dir_ino (its index when it has
  // a sound one); name/buf are invalid in the result.
  Result<RawDirent> dir_find(uint32_t dir_ino, const Inode& dir, std::string_view name);
  // These three update the directory's mtime/ctime to now and write it.
  Status dir_add(uint32_t dir_ino, Inode& dir, std::string_view name, uint32_t ino, FileType t,
                 Time now);
  Status dir_remove(uint32_t dir_ino, Inode& dir, std::string_view name, Time now);
  Status dir_retarget(uint32_t dir_ino, Inode& dir, std::string_view name, uint32_t ino, FileType t,
                      Time now);
  Result<bool> dir_is_empty(const Inode& dir);
  Status dir_init(uint32_t ino, Inode& n, uint32_t parent_ino);
  Result<uint32_t> dir_parent(const Inode& dir);
  Status dir_set_parent(Inode& dir, uint32_t parent_ino);
  enum class DxLookup { Found, Absent, Unusable };
  Result<DxLookup> dx_find(const Inode& dir, std::string_view name, RawDirent* found);
  Result<std::vector<std::pair<uint32_t, uint32_t>>> dx_node(const Inode& dir, uint32_t lblk,
                                                             uint32_t off);
  Result<bool> dir_find_in(const Inode& dir, uint64_t first, uint64_t end, std::string_view name,
                           RawDirent* found);
  uint8_t dirent_type(FileType t) const { return has_filetype() ? static_cast<uint8_t>(t) : 0; }
  bool has_filetype() const { return (sb.feature_incompat & kIncompatFiletype) != 0; }

  // ---- xattr.cc ----
  struct Xattr {
    uint8_t index;
    std::string name;
    std::vector<std::byte> value;
  };
  Result<std::vector<Xattr>> xattr_load(const Inode& n);
  // Replaces the inode's attribute set (copy-on-write when the block is
  // shared). Updates n.file_acl and n.blocks; the caller writes the inode.
  Status xattr_store(Inode& n, const std::vector<Xattr>& attrs);
  Status xattr_release(Inode& n);

  BlockIo& io;
  uint32_t block_size;
  uint32_t ptrs_per_block;
  uint32_t groups_count = 0;
  uint32_t gdt_blocks = 0;
  uint32_t itable_blocks = 0;
  Superblock sb{};
  std::array<std::byte, kSuperblockSize> sb_raw{};
  std::vector<std::byte> gdt_raw;
  std::vector<GroupDesc> gds;
  BufferCache cache;
  bool read_only = false;
  bool gdt_dirty = false;
  bool defer_free_unlinked = false;
  bool test_panic_entry = false;  // MountOptions::test_panic_entry (test only)
  // Inodes this mount unlinked to a link count of zero and has not freed
  // yet (defer_free_unlinked): still usable by number until inactive().
  // Only these may be live with links_count 0; on an image as found, such
  // an inode is corrupt.
  std::set<uint32_t> orphans;
  // Where the last lookup in a directory found its name (dir_find), in a
  // small table indexed by inode number: bounded, and a stale or clashing
  // slot only makes a scan start elsewhere.
  struct DirHint {
    uint32_t ino = 0;
    uint64_t lblk = 0;
  };
  std::array<DirHint, 64> dir_hints{};
};

}  // namespace vfsim::ext2
