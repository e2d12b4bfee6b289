// Mount-and-read tests over trees built by `mke2fs -d`, for 1, 2 and 4 KiB
// blocks: file contents of many sizes (direct, indirect and double indirect
// blocks), sparse files, fast and slow symlinks, hard links, nested
// directories and resumable readdir.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "fsdrivers/ext2/tests/image_util.h"
#include "fsdrivers/ext2/volume.h"

namespace vfsim::ext2::test {
namespace {

const std::map<std::string, size_t> kFileSizes = {
    {"empty", 0}, {"one", 1}, {"b4095", 4095}, {"b4096", 4096}, {"b70000", 70000}, {"big", 300000},
};
const std::string kSlowTarget = std::string(100, 'x') + "/slow/target";
constexpr uint64_t kSparseHoleEnd = 5 * 1024 * 1024;

// Builds the source tree for mke2fs -d.
void build_tree(const fs::path& root) {
  fs::create_directories(root / "d1/d2/d3");
  fs::create_directories(root / "many");
  uint64_t seed = 1;
  for (const auto& [name, size] : kFileSizes) write_host_file(root / name, pattern(size, seed++));
  write_host_file(root / "d1/d2/d3/leaf.txt", pattern(123, 99));
  for (int i = 0; i < 150; ++i)
    write_host_file(root / "many" / ("entry-with-a-longish-name-" + std::to_string(i)), {});
  fs::create_symlink("one", root / "fast");
  fs::create_symlink(kSlowTarget, root / "slow");
  fs::create_hard_link(root / "b4096", root / "hl");
  // Sparse: 4 KiB of data, a 5 MiB hole, then 10 bytes.
  write_host_file(root / "sparse", pattern(4096, 7));
  {
    std::fstream f(root / "sparse", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kSparseHoleEnd));
    f.write("0123456789", 10);
  }
}

class ReadTree : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    dir_ = scratch_dir();
    build_tree(dir_ / "src");
    ASSERT_NO_FATAL_FAILURE(make_image(dir_ / "img", GetParam(), 16384, "-N 512", dir_ / "src"));
    io_ = std::make_unique<MemBlockIo>(load(dir_ / "img"));
    auto m = Volume::mount(*io_, MountOptions{});
    ASSERT_TRUE(m.volume) << m.reason;
    vol_ = std::move(m.volume);
  }

  uint32_t walk(const std::string& path) {
    uint32_t ino = Volume::root();
    size_t pos = 0;
    while (pos < path.size()) {
      size_t slash = path.find('/', pos);
      if (slash == std::string::npos) slash = path.size();
      auto r = vol_->lookup(ino, path.substr(pos, slash - pos));
      EXT2_TEST_REQUIRE(r.ok());
      ino = *r;
      pos = slash + 1;
    }
    return ino;
  }

  std::vector<std::byte> read_all(uint32_t ino) {
    auto a = vol_->getattr(ino);
    EXT2_TEST_REQUIRE(a.ok());
    std::vector<std::byte> out(a->size);
    auto n = vol_->read(ino, 0, out);
    EXT2_TEST_REQUIRE(n.ok() && *n == out.size());
    return out;
  }

  fs::path dir_;
  std::unique_ptr<MemBlockIo> io_;
  std::unique_ptr<Volume> vol_;
};

TEST_P(ReadTree, FilesOfEverySizeReadBackExactly) {
  // Shows that direct, indirect and double-indirect files written by
  // mke2fs -d read back byte for byte, also at unaligned offsets.
  uint64_t seed = 1;
  for (const auto& [name, size] : kFileSizes) {
    const uint32_t ino = walk(name);
    EXPECT_EQ(read_all(ino), pattern(size, seed++)) << name;
  }
  const uint32_t big = walk("big");
  std::vector<std::byte> part(5000);
  auto n = vol_->read(big, 123457, part);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, part.size());
  uint64_t big_seed = 1;
  for (const auto& kv : kFileSizes) {
    if (kv.first == "big") break;
    ++big_seed;
  }
  auto whole = pattern(300000, big_seed);
  EXPECT_TRUE(std::equal(part.begin(), part.end(), whole.begin() + 123457));
  // Reading at and past EOF returns 0 bytes.
  auto eof = vol_->read(big, 300000, part);
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(*eof, 0u);
}

TEST_P(ReadTree, NestedDirectoriesResolve) {
  // Shows lookup through nested directories and ".." back up.
  const uint32_t leaf = walk("d1/d2/d3/leaf.txt");
  EXPECT_EQ(read_all(leaf), pattern(123, 99));
  const uint32_t d3 = walk("d1/d2/d3");
  auto up = vol_->lookup(d3, "..");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(*up, walk("d1/d2"));
  EXPECT_EQ(vol_->lookup(d3, "nope").err(), ENOENT);
  EXPECT_EQ(vol_->lookup(leaf, "x").err(), ENOTDIR);
  auto a = vol_->getattr(walk("d1"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->type, FileType::Directory);
  EXPECT_EQ(a->nlink, 3);  // ".", the entry in root, and d2's ".."
}

TEST_P(ReadTree, FastAndSlowSymlinks) {
  // Shows that a short target kept in i_block and a long one kept in a data
  // block both read back, and that symlinks are not readable as files.
  const uint32_t fast = walk("fast");
  const uint32_t slow = walk("slow");
  auto t1 = vol_->readlink(fast);
  auto t2 = vol_->readlink(slow);
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_EQ(*t1, "one");
  EXPECT_EQ(*t2, kSlowTarget);
  EXPECT_EQ(vol_->getattr(fast)->blocks512, 0u);
  EXPECT_GT(vol_->getattr(slow)->blocks512, 0u);
  std::vector<std::byte> buf(10);
  EXPECT_EQ(vol_->read(fast, 0, buf).err(), EINVAL);
  EXPECT_EQ(vol_->readlink(walk("one")).err(), EINVAL);
}

TEST_P(ReadTree, HardLinksShareTheInode) {
  // Shows that two names of one file resolve to one inode with nlink 2.
  EXPECT_EQ(walk("hl"), walk("b4096"));
  EXPECT_EQ(vol_->getattr(walk("hl"))->nlink, 2);
}

TEST_P(ReadTree, SparseFileHolesReadAsZero) {
  // Shows that holes read as zeros and take no blocks.
  const uint32_t ino = walk("sparse");
  auto a = vol_->getattr(ino);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size, kSparseHoleEnd + 10);
  EXPECT_LT(a->blocks512 * 512, 64u * 1024u);
  std::vector<std::byte> buf(8192);
  ASSERT_EQ(*vol_->read(ino, 1024 * 1024, buf), buf.size());
  EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](std::byte b) { return b == std::byte{0}; }));
  std::vector<std::byte> tail(10);
  ASSERT_EQ(*vol_->read(ino, kSparseHoleEnd, tail), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(tail.data()), 10), "0123456789");
}

TEST_P(ReadTree, ReaddirResumesFromCookie) {
  // Shows that readdir in small batches, resumed with the returned cookie,
  // lists every entry of a multi-block directory exactly once.
  const uint32_t many = walk("many");
  std::set<std::string> names;
  uint64_t cookie = 0;
  for (int rounds = 0; rounds < 1000; ++rounds) {
    auto r = vol_->readdir(many, cookie, 7);
    ASSERT_TRUE(r.ok());
    for (const auto& e : r->entries) EXPECT_TRUE(names.insert(e.name).second) << e.name;
    cookie = r->next_cookie;
    if (r->eof) break;
  }
  EXPECT_EQ(names.size(), 152u);  // 150 files plus "." and ".."
  EXPECT_TRUE(names.count(".") && names.count(".."));
  auto root = vol_->readdir(Volume::root(), 0, 1000);
  ASSERT_TRUE(root.ok());
  for (const auto& e : root->entries) {
    if (e.name == "d1") {
      EXPECT_EQ(e.type, FileType::Directory);
    } else if (e.name == "fast") {
      EXPECT_EQ(e.type, FileType::Symlink);
    } else if (e.name == "one") {
      EXPECT_EQ(e.type, FileType::Regular);
    }
  }
}

TEST_P(ReadTree, StatVfsMatchesGeometry) {
  // Shows statvfs reports the image geometry.
  auto s = vol_->statvfs();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->block_size, GetParam());
  EXPECT_EQ(s->blocks * s->block_size, 16384u * 1024u);
  EXPECT_GT(s->blocks_free, 0u);
  EXPECT_LE(s->blocks_avail, s->blocks_free);
  EXPECT_GE(s->files, 512u);
}

TEST_P(ReadTree, ReadsXattrBlockWrittenByDebugfs) {
  // Shows that an attribute block written by e2fsprogs (debugfs ea_set,
  // too large for the inode's extra space) parses, hashes included.
  const std::string value(200, 'v');
  std::string out;
  ASSERT_EQ(run(tool("debugfs") + " -w -R \"ea_set /one user.seed " + value + "\" " +
                    (dir_ / "img").string(),
                &out),
            0)
      << out;
  io_ = std::make_unique<MemBlockIo>(load(dir_ / "img"));
  auto m = Volume::mount(*io_, MountOptions{});
  ASSERT_TRUE(m.volume) << m.reason;
  vol_ = std::move(m.volume);
  const uint32_t one = walk("one");
  EXPECT_EQ(*vol_->listextattr(one), std::vector<std::string>{"user.seed"});
  auto v = vol_->getextattr(one, "user.seed");
  ASSERT_TRUE(v.ok()) << v.err();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->data()), v->size()), value);
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, ReadTree, ::testing::Values(1024u, 2048u, 4096u));

}  // namespace
}  // namespace vfsim::ext2::test
