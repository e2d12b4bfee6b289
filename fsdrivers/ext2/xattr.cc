// Extended attributes stored in a single block named by i_file_acl, in the
// format e2fsck checks: a 32-byte header (magic, refcount, blocks = 1, hash),
// a list of entries sorted by (name index, name length, name) ending in four
// zero bytes, and values packed from the end of the block, each padded to 4
// bytes. Entry hashes and the block hash are computed like e2fsprogs.
//
// A block may be shared by several inodes (refcount > 1, as mke2fs and Linux
// share identical sets); a shared block is never modified in place but copied.
// Every offset and size read from a block is checked; in-inode attributes
// (in the extra space of large inodes) are not supported and are ignored.
#include <algorithm>
#include <cstring>

#include "fsdrivers/ext2/core.h"

namespace vfsim::ext2 {
namespace {

constexpr uint32_t kXattrMagic = 0xEA020000;
constexpr uint32_t kHeaderSize = 32;
constexpr uint32_t kEntryHeader = 16;

uint32_t entry_size(size_t name_len) {
  return static_cast<uint32_t>((kEntryHeader + name_len + 3) & ~size_t{3});
}
uint32_t pad4(size_t n) { return static_cast<uint32_t>((n + 3) & ~size_t{3}); }

// ext2fs_ext_attr_hash_entry: names hash as (signed) chars, values as
// little-endian 32-bit words including the zero padding.
uint32_t entry_hash(std::string_view name, std::span<const std::byte> padded_value) {
  uint32_t h = 0;
  for (char ch : name)
    h = (h << 5) ^ (h >> 27) ^
        static_cast<uint32_t>(static_cast<int32_t>(static_cast<signed char>(ch)));
  for (size_t i = 0; i + 4 <= padded_value.size(); i += 4)
    h = (h << 16) ^ (h >> 16) ^ get32(padded_value, i);
  return h;
}

uint32_t entry_hash_unsigned(std::string_view name, std::span<const std::byte> padded_value) {
  uint32_t h = 0;
  for (char ch : name) h = (h << 5) ^ (h >> 27) ^ static_cast<uint8_t>(ch);
  for (size_t i = 0; i + 4 <= padded_value.size(); i += 4)
    h = (h << 16) ^ (h >> 16) ^ get32(padded_value, i);
  return h;
}

bool sorted_before(const Core::Xattr& a, const Core::Xattr& b) {
  if (a.index != b.index) return a.index < b.index;
  if (a.name.size() != b.name.size()) return a.name.size() < b.name.size();
  return a.name < b.name;
}

// Parses one entry at off; returns its size or 0 if the entry is invalid.
uint32_t parse_entry(std::span<const std::byte> blk, uint32_t off, Core::Xattr& out,
                     uint32_t& value_start) {
  const uint32_t bs = static_cast<uint32_t>(blk.size());
  if (off + kEntryHeader > bs) return 0;
  const uint8_t name_len = get8(blk, off);
  const uint32_t esize = entry_size(name_len);
  const uint16_t value_offs = get16(blk, off + 2);
  const uint32_t value_inum = get32(blk, off + 4);
  const uint32_t value_size = get32(blk, off + 8);
  if (name_len == 0 || off + esize + 4 > bs || value_inum != 0) return 0;
  // An empty value has no storage (Linux writes offset 0 for it).
  if (value_size != 0 && (value_size > bs || value_offs < kHeaderSize || value_offs % 4 != 0 ||
                          value_offs + pad4(value_size) > bs))
    return 0;
  out.index = get8(blk, off + 1);
  out.name.assign(reinterpret_cast<const char*>(blk.data()) + off + kEntryHeader, name_len);
  auto padded = value_size == 0 ? blk.subspan(0, 0) : blk.subspan(value_offs, pad4(value_size));
  out.value.assign(padded.begin(), padded.begin() + value_size);
  const uint32_t stored = get32(blk, off + 12);
  if (stored != entry_hash(out.name, padded) && stored != entry_hash_unsigned(out.name, padded))
    return 0;
  if (value_size != 0) value_start = std::min<uint32_t>(value_start, value_offs);
  return esize;
}

}  // namespace

Result<std::vector<Core::Xattr>> Core::xattr_load(const Inode& n) {
  std::vector<Xattr> out;
  if (n.file_acl == 0) return out;
  if (!valid_data_block(n.file_acl)) return corrupt();
  EXT2_TRY_ASSIGN(BufRef b, cache.get(n.file_acl));
  auto blk = b->bytes();
  if (get32(blk, 0) != kXattrMagic || get32(blk, 8) != 1 || get32(blk, 4) == 0) return corrupt();
  uint32_t off = kHeaderSize, value_start = block_size;
  while (get32(blk, off) != 0) {  // parse_entry keeps off + 4 <= block_size
    Xattr x;
    const uint32_t esize = parse_entry(blk, off, x, value_start);
    if (esize == 0) return corrupt();
    out.push_back(std::move(x));
    off += esize;
  }
  if (off + 4 > value_start) return corrupt();  // entries overlap values
  return out;
}

// Drops this inode's reference to its attribute block.
Status Core::xattr_release(Inode& n) {
  if (n.file_acl == 0) return kOk;
  if (!valid_data_block(n.file_acl)) return corrupt();
  EXT2_TRY_ASSIGN(BufRef b, cache.get(n.file_acl));
  if (get32(b->bytes(), 0) != kXattrMagic) return corrupt();
  const uint32_t refs = get32(b->bytes(), 4);
  if (refs > 1) {
    put32(b->bytes(), 4, refs - 1);
    cache.mark_dirty(b);
  } else {
    b.reset();
    EXT2_TRY(free_block(n.file_acl));
  }
  const uint32_t sectors = block_size / 512;
  n.blocks = n.blocks >= sectors ? n.blocks - sectors : 0;
  n.file_acl = 0;
  return kOk;
}

static void build_block(std::span<std::byte> blk, std::vector<Core::Xattr> attrs) {
  std::sort(attrs.begin(), attrs.end(), sorted_before);
  std::fill(blk.begin(), blk.end(), std::byte{0});
  put32(blk, 0, kXattrMagic);
  put32(blk, 4, 1);  // refcount
  put32(blk, 8, 1);  // blocks
  uint32_t off = kHeaderSize;
  uint32_t value_end = static_cast<uint32_t>(blk.size());
  uint32_t block_hash = 0;
  for (const auto& x : attrs) {
    value_end -= pad4(x.value.size());
    if (!x.value.empty()) std::memcpy(blk.data() + value_end, x.value.data(), x.value.size());
    const uint32_t h = entry_hash(x.name, blk.subspan(value_end, pad4(x.value.size())));
    put8(blk, off, static_cast<uint8_t>(x.name.size()));
    put8(blk, off + 1, x.index);
    put16(blk, off + 2, static_cast<uint16_t>(x.value.empty() ? 0 : value_end));
    put32(blk, off + 8, static_cast<uint32_t>(x.value.size()));
    put32(blk, off + 12, h);
    std::memcpy(blk.data() + off + kEntryHeader, x.name.data(), x.name.size());
    off += entry_size(x.name.size());
    // ext2fs_ext_attr_block_rehash
    block_hash = (block_hash << 16) ^ (block_hash >> 16) ^ h;
  }
  put32(blk, 12, block_hash);
}

Status Core::xattr_store(Inode& n, const std::vector<Xattr>& attrs) {
  VFSIM_ASSERT(!read_only, "xattr store on a read-only volume");
  if (attrs.empty()) return xattr_release(n);
  uint64_t need = kHeaderSize + 4;
  for (const auto& x : attrs) {
    VFSIM_ASSERT(!x.name.empty() && x.name.size() <= kNameMax, "xattr name empty or too long");
    need += entry_size(x.name.size()) + pad4(x.value.size());
  }
  if (need > block_size) return Status(ENOSPC);
  BufRef b;
  bool shared = false;
  if (n.file_acl != 0) {
    EXT2_TRY_ASSIGN(b, cache.get(n.file_acl));
    shared = get32(b->bytes(), 4) != 1;
    if (shared) b.reset();  // never modify a block other inodes use
  }
  if (!b) {
    // Allocate before dropping the shared block, so ENOSPC loses nothing.
    const uint32_t goal = n.block[0] != 0 ? n.block[0] : 0;
    EXT2_TRY_ASSIGN(uint32_t bno, alloc_block(goal));
    if (shared) EXT2_TRY(xattr_release(n));
    EXT2_TRY_ASSIGN(b, cache.get_zeroed(bno));
    n.file_acl = bno;
    n.blocks += block_size / 512;
  }
  build_block(b->bytes(), attrs);
  cache.mark_dirty(b);
  return kOk;
}

}  // namespace vfsim::ext2
