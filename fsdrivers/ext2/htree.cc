// Hashed (htree, "dir_index") directory lookups, read side only.
//
// An indexed directory is still a valid linear directory: its first block
// holds "." and a ".." entry whose record covers the rest of the block, and
// inside that slack the index root (dx_root_info at byte 24, then the
// count/limit header and {hash, block} entries); deeper index blocks are one
// unused entry covering the whole block, with the entries from byte 8. The
// entries of a node are sorted by hash; entry 0 has the implied hash 0; the
// low bit of a hash marks a leaf that continues a run of equal hashes.
//
// A lookup hashes the name (legacy, half-MD4 or TEA, signed or unsigned
// characters, with the superblock's seed), walks down to one leaf block and
// scans only that block, and the next ones while their hash continues the
// name's. The index comes from the image, so every field is checked: an index
// that is malformed (a bad version, a count over its limit, a block outside
// the directory, more levels than ext2 has) is not used, and the lookup falls
// back to the linear scan, which is authoritative for a driver without htree.
// Writes are not indexed: they clear the directory's index flag (dir.cc).
#include "fsdrivers/ext2/htree.h"

#include <bit>

namespace vfsim::ext2 {
namespace {

// Packs the name into `num` 32-bit words, padded with its length, as the
// kernel's str2hashbuf does; `unsigned_chars` picks the char signedness.
void str_to_words(std::string_view name, bool unsigned_chars, uint32_t* out, int num) {
  const uint32_t len = static_cast<uint32_t>(name.size());
  uint32_t pad = len | (len << 8);
  pad |= pad << 16;
  uint32_t val = pad;
  const size_t n = std::min<size_t>(name.size(), static_cast<size_t>(num) * 4);
  for (size_t i = 0; i < n; ++i) {
    const auto byte = static_cast<unsigned char>(name[i]);
    const uint32_t c = unsigned_chars
                           ? byte
                           : static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(byte)));
    val = c + (val << 8);
    if (i % 4 == 3) {
      *out++ = val;
      val = pad;
      --num;
    }
  }
  if (--num >= 0) *out++ = val;
  while (--num >= 0) *out++ = pad;
}

uint32_t legacy_hash(std::string_view name, bool unsigned_chars) {
  uint32_t hash0 = 0x12a3fe2d, hash1 = 0x37abe8f9;
  for (char ch : name) {
    const auto byte = static_cast<unsigned char>(ch);
    const uint32_t c = unsigned_chars
                           ? byte
                           : static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(byte)));
    uint32_t hash = hash1 + (hash0 ^ (c * 7152373u));
    if ((hash & 0x80000000u) != 0) hash -= 0x7fffffff;
    hash1 = hash0;
    hash0 = hash;
  }
  return hash0 << 1;
}

// The half-MD4 compression the directory index uses (three rounds of eight).
void half_md4(uint32_t buf[4], const uint32_t in[8]) {
  uint32_t a = buf[0], b = buf[1], c = buf[2], d = buf[3];
  auto f = [](uint32_t x, uint32_t y, uint32_t z) { return z ^ (x & (y ^ z)); };
  auto g = [](uint32_t x, uint32_t y, uint32_t z) { return (x & y) + ((x ^ y) & z); };
  auto h = [](uint32_t x, uint32_t y, uint32_t z) { return x ^ y ^ z; };
  auto round = [](auto fn, uint32_t& w, uint32_t x, uint32_t y, uint32_t z, uint32_t k, int s) {
    w = std::rotl(w + fn(x, y, z) + k, s);
  };
  constexpr uint32_t k2 = 013240474631u, k3 = 015666365641u;
  round(f, a, b, c, d, in[0], 3);
  round(f, d, a, b, c, in[1], 7);
  round(f, c, d, a, b, in[2], 11);
  round(f, b, c, d, a, in[3], 19);
  round(f, a, b, c, d, in[4], 3);
  round(f, d, a, b, c, in[5], 7);
  round(f, c, d, a, b, in[6], 11);
  round(f, b, c, d, a, in[7], 19);
  round(g, a, b, c, d, in[1] + k2, 3);
  round(g, d, a, b, c, in[3] + k2, 5);
  round(g, c, d, a, b, in[5] + k2, 9);
  round(g, b, c, d, a, in[7] + k2, 13);
  round(g, a, b, c, d, in[0] + k2, 3);
  round(g, d, a, b, c, in[2] + k2, 5);
  round(g, c, d, a, b, in[4] + k2, 9);
  round(g, b, c, d, a, in[6] + k2, 13);
  round(h, a, b, c, d, in[3] + k3, 3);
  round(h, d, a, b, c, in[7] + k3, 9);
  round(h, c, d, a, b, in[2] + k3, 11);
  round(h, b, c, d, a, in[6] + k3, 15);
  round(h, a, b, c, d, in[1] + k3, 3);
  round(h, d, a, b, c, in[5] + k3, 9);
  round(h, c, d, a, b, in[0] + k3, 11);
  round(h, b, c, d, a, in[4] + k3, 15);
  buf[0] += a;
  buf[1] += b;
  buf[2] += c;
  buf[3] += d;
}

void tea(uint32_t buf[4], const uint32_t in[4]) {
  uint32_t sum = 0, b0 = buf[0], b1 = buf[1];
  for (int n = 0; n < 16; ++n) {
    sum += 0x9E3779B9u;
    b0 += ((b1 << 4) + in[0]) ^ (b1 + sum) ^ ((b1 >> 5) + in[1]);
    b1 += ((b0 << 4) + in[2]) ^ (b0 + sum) ^ ((b0 >> 5) + in[3]);
  }
  buf[0] += b0;
  buf[1] += b1;
}

}  // namespace

std::optional<uint32_t> dx_hash(std::string_view name, uint8_t version,
                                const std::array<uint32_t, 4>& seed) {
  uint32_t buf[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  if (seed != std::array<uint32_t, 4>{}) std::copy(seed.begin(), seed.end(), buf);
  const bool unsigned_chars = version >= kDxHashLegacyUnsigned;
  uint32_t hash = 0;
  switch (version) {
    case kDxHashLegacy:
    case kDxHashLegacyUnsigned: hash = legacy_hash(name, unsigned_chars); break;
    case kDxHashHalfMd4:
    case kDxHashHalfMd4Unsigned:
      for (std::string_view p = name; !p.empty(); p.remove_prefix(std::min<size_t>(32, p.size()))) {
        uint32_t in[8];
        str_to_words(p, unsigned_chars, in, 8);
        half_md4(buf, in);
      }
      hash = buf[1];
      break;
    case kDxHashTea:
    case kDxHashTeaUnsigned:
      for (std::string_view p = name; !p.empty(); p.remove_prefix(std::min<size_t>(16, p.size()))) {
        uint32_t in[4];
        str_to_words(p, unsigned_chars, in, 4);
        tea(buf, in);
      }
      hash = buf[0];
      break;
    default: return std::nullopt;
  }
  hash &= ~1u;
  if (hash == (0x7fffffffu << 1)) hash = (0x7fffffffu - 1) << 1;  // reserved for end-of-dir
  return hash;
}

}  // namespace vfsim::ext2
