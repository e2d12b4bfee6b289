// Directory lookups on large directories. Shows that (1) the directory-index
// hash agrees with e2fsprogs' `debugfs dx_hash` for every hash version,
// signed and unsigned, with and without a seed; (2) in a real two-level
// htree directory (2,100 entries, made by mke2fs -d and indexed by
// e2fsck -fD) every name is found, reading a handful of blocks per lookup
// instead of scanning the directory, and the index is trusted (a leaf
// pointer moved to the wrong leaf makes its names ENOENT, as Linux answers);
// (3) a write clears the index flag and the directory stays e2fsck clean and
// complete; (4) a walk in directory order over a linear directory reads each
// block about once (the lookup starts where the last one found its name).
// Block reads are counted by a BlockIo wrapper; the cache holds 64 blocks,
// far fewer than the directory's 700.
#include "fsdrivers/ext2/htree.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "fsdrivers/ext2/core.h"
#include "fsdrivers/ext2/tests/image_util.h"
#include "fsdrivers/ext2/volume.h"

namespace vfsim::ext2::test {
namespace {

class CountingIo final : public BlockIo {
 public:
  explicit CountingIo(std::vector<std::byte> img) : mem_(std::move(img)) {}
  sim::Status read(uint64_t off, std::span<std::byte> buf) override {
    ++reads;
    return mem_.read(off, buf);
  }
  sim::Status write(uint64_t off, std::span<const std::byte> buf) override {
    return mem_.write(off, buf);
  }
  uint64_t size_bytes() const override { return mem_.size_bytes(); }
  const std::vector<std::byte>& data() const { return mem_.data(); }
  uint64_t reads = 0;

 private:
  MemBlockIo mem_;
};

constexpr int kEntries = 2100;

std::string entry_name(int i) {
  char head[32];
  std::snprintf(head, sizeof head, "name_%05d_", i);
  return head + std::string(230, 'x');  // ~3 entries per 1 KiB block
}

TEST(DxHash, AgreesWithDebugfs) {
  const fs::path dir = scratch_dir();
  ASSERT_NO_FATAL_FAILURE(make_image(dir / "img", 1024, 1024));
  // Names go to debugfs unquoted (it would hash the quotes): no spaces.
  const std::vector<std::string> names = {"a",
                                          "hello",
                                          "h\xc3\xa9llo",
                                          "\xff\x80\x7f",
                                          std::string(33, 'q') + "tail",
                                          std::string(255, 'z')};
  // debugfs takes the version by number (its names stop at the signed three).
  const char* algs[] = {"legacy",          "half_md4",          "tea",
                        "legacy_unsigned", "half_md4_unsigned", "tea_unsigned"};
  const std::array<uint32_t, 4> seed = {0x67452301, 0xefcdab89, 0x67452301, 0xefcdab89};
  for (int seeded = 0; seeded < 2; ++seeded) {
    for (uint8_t v = 0; v < 6; ++v) {
      for (const std::string& n : names) {
        std::string cmd = tool("debugfs") + " -R \"dx_hash -h " + std::to_string(v) +
                          (seeded ? " -s 01234567-89ab-cdef-0123-456789abcdef" : "") + " " + n +
                          "\" " + (dir / "img").string() + " 2>/dev/null";
        std::string out;
        ASSERT_EQ(run(cmd, &out), 0) << cmd;
        const size_t at = out.find(" is 0x");
        ASSERT_NE(at, std::string::npos) << out;
        const uint32_t want =
            static_cast<uint32_t>(std::stoul(out.substr(at + 4, 10), nullptr, 16));
        auto got = dx_hash(n, v, seeded ? seed : std::array<uint32_t, 4>{});
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(*got, want) << algs[v] << " seeded=" << seeded << " name=" << n;
      }
    }
  }
  EXPECT_FALSE(dx_hash("x", 6, {}).has_value());
}

class BigDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_dir();
    fs::create_directories(dir_ / "src/big");
    for (int i = 0; i < kEntries; ++i) write_host_file(dir_ / "src/big" / entry_name(i), {});
  }
  void mount(bool indexed) {
    ASSERT_NO_FATAL_FAILURE(
        make_image(dir_ / "img", 1024, 8192, "-O dir_index -N 4096", dir_ / "src"));
    if (indexed) {
      std::string out;
      run(tool("e2fsck") + " -fyD " + (dir_ / "img").string(), &out);
      ASSERT_EQ(fsck(dir_ / "img", &out), 0) << out;
    }
    io_ = std::make_unique<CountingIo>(load(dir_ / "img"));
    auto m = Volume::mount(*io_, MountOptions{});
    ASSERT_TRUE(m.volume) << m.reason;
    vol_ = std::move(m.volume);
    auto big = vol_->lookup(Volume::root(), "big");
    ASSERT_TRUE(big.ok());
    big_ = *big;
  }
  bool index_flag() {
    ImageView v{const_cast<std::vector<std::byte>&>(io_->data())};
    return (v.inode(big_).flags & kIndexFl) != 0;
  }

  fs::path dir_;
  std::unique_ptr<CountingIo> io_;
  std::unique_ptr<Volume> vol_;
  uint32_t big_ = 0;
};

TEST_F(BigDir, HtreeLookupsReadFewBlocks) {
  ASSERT_NO_FATAL_FAILURE(mount(true));
  ASSERT_TRUE(index_flag());
  io_->reads = 0;
  for (int i = 0; i < kEntries; i += 7) {
    auto r = vol_->lookup(big_, entry_name(i));
    ASSERT_TRUE(r.ok()) << i << " errno " << r.err();
  }
  EXPECT_EQ(vol_->lookup(big_, "absent").err(), ENOENT);
  const uint64_t lookups = kEntries / 7 + 2;
  // Root, interior node, leaf, inode table, ".." of the child: a linear
  // scan would read ~350 of the 700 blocks per lookup.
  EXPECT_LE(io_->reads, 6 * lookups) << "reads for " << lookups << " lookups";
}

// The physical block of a directory's logical block (direct, single or
// double indirect), read straight from the image.
uint32_t map_block(ImageView& v, const Inode& d, uint32_t lblk) {
  const uint32_t per = v.block_size() / 4;
  if (lblk < kNDirect) return d.block[lblk];
  lblk -= kNDirect;
  if (lblk < per) return get32(v.block(d.block[kIndBlock]), size_t{4} * lblk);
  lblk -= per;
  EXT2_TEST_REQUIRE(lblk < per * per);
  const uint32_t ind = get32(v.block(d.block[kDindBlock]), size_t{4} * (lblk / per));
  return get32(v.block(ind), size_t{4} * (lblk % per));
}

TEST_F(BigDir, TheIndexIsTrusted) {
  // Points the first index entry of the first interior node at another
  // leaf: the names of the old leaf are no longer found through the index.
  ASSERT_NO_FATAL_FAILURE(mount(true));
  ImageView v{const_cast<std::vector<std::byte>&>(io_->data())};
  const Inode d = v.inode(big_);
  auto root = v.block(d.block[0]);
  ASSERT_EQ(get8(root, 30), 1) << "expected a two-level index";
  auto node = v.block(map_block(v, d, get32(root, 32 + 4)));
  const uint32_t leaf0 = get32(node, 8 + 4), leaf1 = get32(node, 8 + 8 + 4);
  // The first name of leaf0 (after its record header).
  auto leaf = v.block(map_block(v, d, leaf0));
  const std::string name(reinterpret_cast<const char*>(leaf.data()) + 8, get8(leaf, 6));
  ASSERT_TRUE(vol_->lookup(big_, name).ok());
  put32(node, 8 + 4, leaf1);
  auto again = Volume::mount(*io_, MountOptions{});
  ASSERT_TRUE(again.volume) << again.reason;
  EXPECT_EQ(again.volume->lookup(big_, name).err(), ENOENT);
}

TEST_F(BigDir, AWriteClearsTheIndexFlag) {
  ASSERT_NO_FATAL_FAILURE(mount(true));
  ASSERT_TRUE(vol_->create(big_, "new-entry", 0644, 0, 0, 1700000000).ok());
  ASSERT_TRUE(vol_->sync().ok());
  EXPECT_FALSE(index_flag());
  for (int i = 0; i < kEntries; i += 13) ASSERT_TRUE(vol_->lookup(big_, entry_name(i)).ok()) << i;
  EXPECT_TRUE(vol_->lookup(big_, "new-entry").ok());
  save(dir_ / "after", io_->data());
  std::string out;
  EXPECT_EQ(fsck(dir_ / "after", &out), 0) << out;
}

TEST_F(BigDir, WalkInDirectoryOrderReadsEachBlockOnce) {
  ASSERT_NO_FATAL_FAILURE(mount(false));
  ASSERT_FALSE(index_flag());
  std::vector<std::string> names;
  for (uint64_t cookie = 0;;) {
    auto r = vol_->readdir(big_, cookie, 128);
    ASSERT_TRUE(r.ok());
    for (const DirEntry& e : r->entries) {
      if (e.name != "." && e.name != "..") names.push_back(e.name);
    }
    if (r->eof) break;
    cookie = r->next_cookie;
  }
  ASSERT_EQ(names.size(), static_cast<size_t>(kEntries));
  const uint64_t dir_blocks = vol_->getattr(big_)->size / 1024;
  io_->reads = 0;
  for (const std::string& n : names) ASSERT_TRUE(vol_->lookup(big_, n).ok()) << n;
  // Each lookup reads its block (cached for the next two names) and the
  // child's inode: well under one full scan (~dir_blocks/2) per lookup.
  EXPECT_LE(io_->reads, 2 * dir_blocks + names.size()) << dir_blocks << " directory blocks";
}

}  // namespace
}  // namespace vfsim::ext2::test
