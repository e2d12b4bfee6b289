// vfsim ext2 core: the public API a VFS driver uses.
//
// A Volume is one mounted ext2 image (revision 0/1, 1/2/4 KiB blocks, no
// journal, no extents), addressed by inode number. Every operation returns an
// errno as a Status or Result<T>; every value read from the image is treated
// as hostile and answered with EIO when out of range or inconsistent.
// Timestamps are passed in by the caller (seconds since the epoch); the
// library reads no clock, starts no thread and keeps no global state.
//
// Usage:
//   MemBlockIo io(bytes);                        // or the simulator's device
//   auto m = Volume::mount(io, MountOptions{});
//   if (!m.volume) fail(m.reason);               // one-line reason
//   auto ino = m.volume->lookup(m.volume->root(), "etc");
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fsdrivers/ext2/block_io.h"
#include "fsdrivers/ext2/ondisk.h"
#include "fsdrivers/ext2/result.h"

namespace vfsim::ext2 {

class Core;

struct MountOptions {
  bool read_only = false;
  size_t cache_blocks = 64;  // metadata buffer cache capacity, in blocks
  // When true, an inode whose link count drops to zero is kept until
  // inactive() is called (open-but-unlinked files); otherwise it is freed at
  // once by remove/rmdir/rename.
  bool defer_free_unlinked = false;
  // TEST ONLY (the fault-isolation tests, docs/ext2.md "A test-only
  // assertion"): when set, a lookup that finds an entry named
  // kTestPanicEntry trips VFSIM_ASSERT, as a driver bug met on a malicious
  // image would. A real image never trips it unless the mount asks for it
  // (driver option test_panic=1); nothing but those tests sets it.
  bool test_panic_entry = false;
};

// The name that marks an image for test_panic_entry.
inline constexpr std::string_view kTestPanicEntry = "vfsim-test-panic";

struct Attr {
  uint32_t ino = 0;
  FileType type = FileType::Unknown;
  uint16_t mode = 0;  // including the S_IFMT bits
  uint32_t uid = 0, gid = 0;
  uint16_t nlink = 0;
  uint64_t size = 0;
  uint64_t blocks512 = 0;  // allocated 512-byte sectors
  Time atime, mtime, ctime, crtime;
  uint32_t rdev = 0;  // devices only (see mknod)
  uint32_t flags = 0;
  uint32_t generation = 0;
};

// Fields left empty are not changed. ctime is always set to now.
struct SetAttr {
  std::optional<uint16_t> mode;  // permission bits (07777) only
  std::optional<uint32_t> uid, gid;
  std::optional<uint64_t> size;  // regular files only
  std::optional<Time> atime, mtime;
  bool mark_ctime = true;  // false: an access alone (vn::SetAttr::mark_ctime)
};

struct DirEntry {
  uint32_t ino = 0;
  FileType type = FileType::Unknown;  // Unknown without feature filetype
  std::string name;
  uint64_t next_cookie = 0;  // pass to readdir to continue after this entry
};

struct ReaddirResult {
  std::vector<DirEntry> entries;
  uint64_t next_cookie = 0;
  bool eof = false;
};

struct StatVfs {
  uint32_t block_size = 0;
  uint64_t blocks = 0, blocks_free = 0, blocks_avail = 0;
  uint64_t files = 0, files_free = 0;
  uint32_t name_max = kNameMax;
};

enum class XattrFlag { Any, Create, Replace };

class Volume;
struct MountResult {
  std::unique_ptr<Volume> volume;  // null on failure
  std::string reason;              // one line, set on failure
  Status err;                      // EINVAL (not ext2 / unsupported) or EIO
};

class Volume {
 public:
  ~Volume();
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  static MountResult mount(BlockIo& io, const MountOptions& opts);
  static constexpr uint32_t root() { return kRootIno; }

  Result<uint32_t> lookup(uint32_t dir, std::string_view name);
  Result<uint32_t> create(uint32_t dir, std::string_view name, uint16_t perm, uint32_t uid,
                          uint32_t gid, Time now);
  // mode carries the type (S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK) and
  // permissions. rdev is stored the way Linux stores it: in i_block[0] when
  // it fits 16 bits ((major << 8) | minor), otherwise in i_block[1].
  Result<uint32_t> mknod(uint32_t dir, std::string_view name, uint16_t mode, uint32_t rdev,
                         uint32_t uid, uint32_t gid, Time now);
  Result<uint32_t> mkdir(uint32_t dir, std::string_view name, uint16_t perm, uint32_t uid,
                         uint32_t gid, Time now);
  // perm: Linux always stores 0777; BSD applies the umask.
  Result<uint32_t> symlink(uint32_t dir, std::string_view name, std::string_view target,
                           uint32_t uid, uint32_t gid, Time now, uint16_t perm = 0777);
  Result<Attr> getattr(uint32_t ino);
  Status setattr(uint32_t ino, const SetAttr& sa, Time now);
  Result<size_t> read(uint32_t ino, uint64_t off, std::span<std::byte> buf);
  Result<size_t> write(uint32_t ino, uint64_t off, std::span<const std::byte> buf, Time now);
  // Write-back (a page cache holds the data): allocate maps the blocks
  // under [off, off + len) and grows the size as write would (same errors,
  // same short count), zero-filling new blocks, but writes no data;
  // put_data later writes the bytes into mapped blocks, nothing past the
  // size and no metadata (a page put never grows a file or moves its times).
  Result<size_t> allocate(uint32_t ino, uint64_t off, size_t len, Time now);
  Status put_data(uint32_t ino, uint64_t off, std::span<const std::byte> buf);
  // Removes a non-directory entry (EPERM for a directory, as in BSD).
  Status remove(uint32_t dir, std::string_view name, Time now);
  Status link(uint32_t dir, std::string_view name, uint32_t ino, Time now);
  Status rename(uint32_t from_dir, std::string_view from_name, uint32_t to_dir,
                std::string_view to_name, Time now);
  Status rmdir(uint32_t dir, std::string_view name, Time now);
  // Entries from cookie on (0 = start), on-disk order, at most max_entries.
  Result<ReaddirResult> readdir(uint32_t dir, uint64_t cookie, size_t max_entries);
  Result<std::string> readlink(uint32_t ino);
  // Attribute names carry their namespace: "user.", "trusted.", "security.".
  Result<std::vector<std::byte>> getextattr(uint32_t ino, std::string_view name);
  Status setextattr(uint32_t ino, std::string_view name, std::span<const std::byte> value, Time now,
                    XattrFlag flag = XattrFlag::Any);
  Result<std::vector<std::string>> listextattr(uint32_t ino);
  Status deleteextattr(uint32_t ino, std::string_view name, Time now);
  // With defer_free_unlinked: frees ino if its link count is zero.
  Status inactive(uint32_t ino, Time now);
  Result<StatVfs> statvfs();
  Status fsync(uint32_t ino);
  Status sync();
  // Syncs; afterwards every operation answers ENXIO. When the sync fails
  // (a disk write error) the volume stays mounted and usable, its unwritten
  // blocks still dirty, and the error is returned: the caller may retry, or
  // give the volume up (a forced unmount) knowing the image is not clean.
  Status unmount();

 private:
  explicit Volume(std::unique_ptr<Core> core);
  Status usable(bool for_write) const;
  Result<Inode> live_dir(uint32_t ino);
  Result<uint32_t> make_node(uint32_t dir, std::string_view name, Inode n, Time now,
                             std::span<const std::byte> symlink_target);
  Status drop_link(uint32_t ino, Inode& n, Time now);
  Status check_not_ancestor(uint32_t moved_dir, uint32_t new_parent);
  Status rename_checked(uint32_t from_dir, std::string_view from_name, uint32_t to_dir,
                        std::string_view to_name, Time now);

  std::unique_ptr<Core> core_;
  bool unmounted_ = false;
};

}  // namespace vfsim::ext2
