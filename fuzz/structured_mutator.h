// LLVMFuzzerCustomMutator for ext2 images (included by ext2_fuzz.cc when
// EXT2_FUZZ_STRUCTURED is defined). It locates metadata through the image's
// own superblock and group descriptors and overwrites one field with an
// "interesting" value: 0, 1, all ones, off by one, the field's own location,
// a neighbouring block, or random bits. Inputs that are not recognisable
// ext2 fall back to libFuzzer's byte mutator.
#pragma once

#include <algorithm>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

class Rng {  // splitmix64, seeded by libFuzzer
 public:
  explicit Rng(uint64_t s) : s_(s) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(next() % n); }

 private:
  uint64_t s_;
};

struct Field {
  size_t off;
  int width;  // bytes: 1, 2 or 4
};

class Mutator {
 public:
  Mutator(uint8_t* d, size_t n, Rng& r) : d_(d), n_(n), r_(r) {}

  bool run() {
    if (n_ < 2048 || rd(1024 + 56, 2) != 0xEF53) return false;
    bs_ = 1024u << std::min<uint32_t>(rd(1024 + 24, 4), 2);
    switch (r_.below(6)) {
      case 0: return superblock();
      case 1: return group_desc();
      case 2: return inode();
      case 3: return dirent();
      default: return pointed_block();
    }
  }

 private:
  uint32_t rd(size_t off, int w) const {
    uint32_t v = 0;
    for (int i = 0; i < w; ++i) v |= uint32_t{d_[off + i]} << (8 * i);
    return v;
  }
  void wr(size_t off, int w, uint32_t v) {
    for (int i = 0; i < w; ++i) d_[off + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  bool mutate(Field f) {
    if (f.off + f.width > n_) return false;
    const uint32_t old = rd(f.off, f.width);
    const uint32_t blocks = rd(1024 + 4, 4);
    const uint32_t choices[] = {0,
                                1,
                                0xFFFFFFFFu,
                                old + 1,
                                old - 1,
                                static_cast<uint32_t>(f.off / bs_),
                                blocks,
                                blocks - 1,
                                old ^ (1u << r_.below(32)),
                                static_cast<uint32_t>(r_.next()),
                                12,
                                0x7FFFFFFF,
                                0x8000};
    wr(f.off, f.width, choices[r_.below(sizeof choices / sizeof choices[0])]);
    return true;
  }
  uint64_t inode_table_off(uint32_t group) const {
    const uint64_t gd = uint64_t{rd(1024 + 20, 4) + 1} * bs_ + uint64_t{group} * 32;
    return gd + 32 <= n_ ? uint64_t{rd(gd + 8, 4)} * bs_ : n_;
  }
  uint32_t inode_size() const {
    const uint32_t s = rd(1024 + 88, 2);
    return s >= 128 && s <= bs_ ? s : 128;
  }
  // Offset of inode ino in group 0's table, or n_ if outside the image.
  uint64_t inode_off(uint32_t ino) const {
    const uint64_t off = inode_table_off(0) + uint64_t{ino - 1} * inode_size();
    return off + 128 <= n_ ? off : n_;
  }

  bool superblock() {
    static constexpr Field kFields[] = {{0, 4},  {4, 4},  {12, 4}, {16, 4},  {20, 4},
                                        {24, 4}, {32, 4}, {40, 4}, {76, 4},  {84, 4},
                                        {88, 2}, {92, 4}, {96, 4}, {100, 4}, {206, 2}};
    const Field f = kFields[r_.below(sizeof kFields / sizeof kFields[0])];
    return mutate({1024 + f.off, f.width});
  }
  bool group_desc() {
    static constexpr Field kFields[] = {{0, 4}, {4, 4}, {8, 4}, {12, 2}, {14, 2}, {16, 2}};
    const Field f = kFields[r_.below(6)];
    const uint64_t gd = uint64_t{rd(1024 + 20, 4) + 1} * bs_;
    return mutate({gd + 32 * r_.below(2) + f.off, f.width});
  }
  bool inode() {
    static constexpr Field kFields[] = {{0, 2},   {4, 4},   {26, 2}, {28, 4}, {32, 4},
                                        {104, 4}, {108, 4}, {40, 4}, {44, 4}, {84, 4},
                                        {88, 4},  {92, 4},  {96, 4}};
    const uint32_t ino = r_.below(2) ? 2 : 11 + r_.below(24);
    const uint64_t base = inode_off(ino);
    if (base >= n_) return false;
    const Field f = kFields[r_.below(sizeof kFields / sizeof kFields[0])];
    return mutate({base + f.off, f.width});
  }
  // A field of some entry in the first block of the root or another dir.
  bool dirent() {
    const uint64_t ino = inode_off(r_.below(2) ? 2 : 11 + r_.below(24));
    if (ino >= n_) return false;
    const uint64_t blk = uint64_t{rd(ino + 40, 4)} * bs_;
    if (blk == 0 || blk + bs_ > n_) return false;
    // Walk the entries a few steps (bounded, tolerant of garbage).
    uint64_t off = 0;
    for (uint32_t steps = r_.below(6); steps > 0; --steps) {
      const uint32_t rec = rd(blk + off + 4, 2);
      if (rec < 8 || off + rec + 8 > bs_) break;
      off += rec;
    }
    static constexpr Field kFields[] = {{0, 4}, {4, 2}, {6, 1}, {7, 1}};
    const Field f = kFields[r_.below(4)];
    return mutate({blk + off + f.off, f.width});
  }
  // An entry of an indirect or xattr block named by some inode.
  bool pointed_block() {
    const uint64_t ino = inode_off(11 + r_.below(24));
    if (ino >= n_) return false;
    const uint32_t which = r_.below(3);
    const uint32_t bno = rd(ino + (which == 0 ? 88 : which == 1 ? 92 : 104), 4);
    const uint64_t blk = uint64_t{bno} * bs_;
    if (bno == 0 || blk + bs_ > n_) return false;
    const uint32_t idx = r_.below(4) == 0 ? r_.below(bs_ / 4) : r_.below(12);
    return mutate({blk + 4 * idx, 4});
  }

  uint8_t* d_;
  size_t n_;
  Rng& r_;
  uint32_t bs_ = 1024;
};

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  Rng rng(seed);
  // Mostly structured edits; sometimes raw bytes, to keep some diversity.
  if (rng.below(8) != 0) {
    Mutator m(data, size, rng);
    for (uint32_t edits = 1 + rng.below(3); edits > 0; --edits) {
      if (!m.run()) return LLVMFuzzerMutate(data, size, max_size);
    }
    return size;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
