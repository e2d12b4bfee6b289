// Malformed images: each corruption is either refused at mount with a clear
// one-line reason or answered with EIO by the operations that meet it -
// never a crash, a hang or an unbounded allocation. Images are made valid by
// mke2fs -d and then damaged byte by byte through ImageView.
#include <gtest/gtest.h>

#include "fsdrivers/ext2/tests/image_util.h"
#include "fsdrivers/ext2/volume.h"

namespace vfsim::ext2::test {
namespace {

constexpr int64_t kNow = 1700000000;

class Malformed : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_dir();
    fs::create_directories(dir_ / "src/loop");
    fs::create_directories(dir_ / "src/a/b");
    fs::create_directories(dir_ / "src/c");
    write_host_file(dir_ / "src/big", pattern(40 * 1024, 1));
    write_host_file(dir_ / "src/loop/x", pattern(10, 2));
    ASSERT_NO_FATAL_FAILURE(make_image(dir_ / "img", 1024, 4096, "-N 128", dir_ / "src"));
    img_ = load(dir_ / "img");
    // Inode numbers from the pristine image.
    auto v = mount_ok();
    big_ = *v->lookup(Volume::root(), "big");
    loop_ = *v->lookup(Volume::root(), "loop");
    a_ = *v->lookup(Volume::root(), "a");
    b_ = *v->lookup(a_, "b");
  }

  MountResult mount() {
    io_ = std::make_unique<MemBlockIo>(img_);
    return Volume::mount(*io_, MountOptions{});
  }
  std::unique_ptr<Volume> mount_ok() {
    auto m = mount();
    EXT2_TEST_REQUIRE(m.volume != nullptr);
    return std::move(m.volume);
  }
  ImageView view() { return ImageView{img_}; }
  // Offset of the first directory entry of directory ino's first block.
  std::span<std::byte> dir_block(uint32_t ino) { return view().block(view().inode(ino).block[0]); }

  fs::path dir_;
  std::vector<std::byte> img_;
  std::unique_ptr<MemBlockIo> io_;
  uint32_t big_ = 0, loop_ = 0, a_ = 0, b_ = 0;
};

TEST_F(Malformed, TruncatedImageIsRefused) {
  // Shows that an image cut short is refused with a reason naming the sizes.
  img_.resize(img_.size() / 2);
  auto m = mount();
  EXPECT_FALSE(m.volume);
  EXPECT_NE(m.reason.find("image truncated"), std::string::npos) << m.reason;
  img_.resize(1500);
  m = mount();
  EXPECT_FALSE(m.volume);
  EXPECT_EQ(m.reason, "image truncated: superblock at byte 1024 beyond image size 1500");
  img_.resize(2100);  // superblock present, group descriptor table missing
  put32(std::span(img_), kSuperblockOffset + 24, 1);  // 2 KiB blocks: GDT at byte 2048
  put32(std::span(img_), kSuperblockOffset + 20, 0);
  m = mount();
  EXPECT_FALSE(m.volume);
  EXPECT_NE(m.reason.find("image truncated: group descriptor table at byte"), std::string::npos)
      << m.reason;
}

TEST_F(Malformed, ZeroedSuperblockIsRefused) {
  // Shows that a zeroed superblock is refused because of its magic.
  std::fill(img_.begin() + kSuperblockOffset, img_.begin() + kSuperblockOffset + kSuperblockSize,
            std::byte{0});
  auto m = mount();
  EXPECT_FALSE(m.volume);
  EXPECT_EQ(m.reason, "superblock magic 0x0000 is not 0xEF53");
}

TEST_F(Malformed, HugeInodeCountIsRefused) {
  // Shows that an inode count beyond groups x inodes-per-group is refused.
  put32(std::span(img_), kSuperblockOffset + 0, 0xFFFFFFFF);
  auto m = mount();
  EXPECT_FALSE(m.volume);
  EXPECT_NE(m.reason.find("inode count 4294967295 exceeds"), std::string::npos) << m.reason;
}

TEST_F(Malformed, BadGeometryIsRefused) {
  // Shows a reason for each of several impossible superblock/GDT values.
  const std::pair<size_t, uint32_t> cases[] = {
      {24, 7},     // log block size
      {32, 0},     // blocks per group
      {40, 0},     // inodes per group
      {96, 0x40},  // incompat: extents
  };
  for (auto [off, value] : cases) {
    auto saved = img_;
    put32(std::span(img_), kSuperblockOffset + off, value);
    auto m = mount();
    EXPECT_FALSE(m.volume) << off;
    EXPECT_FALSE(m.reason.empty());
    img_ = saved;
  }
  // A group descriptor whose inode table lies outside its group.
  put32(std::span(img_), 2 * 1024 + 8, 999999);
  auto m = mount();
  EXPECT_FALSE(m.volume);
  EXPECT_NE(m.reason.find("group 0: inode table"), std::string::npos) << m.reason;
}

TEST_F(Malformed, RecLenZeroAnswersEio) {
  // Shows that a directory entry with rec_len 0 (which would loop a naive
  // parser forever) makes lookup and readdir fail with EIO.
  put16(dir_block(Volume::root()), 4, 0);
  auto v = mount_ok();
  EXPECT_EQ(v->lookup(Volume::root(), "big").err(), EIO);
  EXPECT_EQ(v->readdir(Volume::root(), 0, 100).err(), EIO);
  EXPECT_EQ(v->create(Volume::root(), "new", 0644, 0, 0, kNow).err(), EIO);
}

TEST_F(Malformed, RecLenPastBlockAndBadInodeAnswerEio) {
  // Shows EIO for a rec_len running past the block and for an entry that
  // names a reserved or out-of-range inode.
  auto saved = img_;
  put16(dir_block(Volume::root()), 4, 2048);
  EXPECT_EQ(mount_ok()->readdir(Volume::root(), 0, 100).err(), EIO);
  img_ = saved;
  put32(dir_block(Volume::root()), 24, 7);  // the third entry -> resize inode
  EXPECT_EQ(mount_ok()->readdir(Volume::root(), 0, 100).err(), EIO);
  img_ = saved;
  put32(dir_block(Volume::root()), 24, 100000);
  EXPECT_EQ(mount_ok()->readdir(Volume::root(), 0, 100).err(), EIO);
}

TEST_F(Malformed, DirectoryContainingItselfAnswersEio) {
  // Shows that an entry (other than ".") pointing at its own directory, and
  // a ".." chain that cycles, are detected instead of being walked forever.
  auto blk = dir_block(loop_);
  // Entries: "." (12), ".." (12), then "x": point x at loop itself.
  ASSERT_EQ(get32(blk, 24) != 0, true);
  put32(blk, 24, loop_);
  auto v = mount_ok();
  EXPECT_EQ(v->lookup(loop_, "x").err(), EIO);
  EXPECT_EQ(v->remove(loop_, "x", kNow).err(), EIO);
  // b's ".." now names b itself: moving a directory under b must walk up
  // from b, find the cycle and answer EIO.
  put32(dir_block(b_), 12, b_);
  v = mount_ok();
  EXPECT_EQ(v->lookup(a_, "b").err(), EIO);  // b's ".." does not name a
  const uint32_t c = *v->lookup(Volume::root(), "c");
  (void)c;
  EXPECT_EQ(v->rename(Volume::root(), "c", b_, "c", kNow).err(), EIO);
}

TEST_F(Malformed, IndirectBlockPointingAtItselfAnswersEio) {
  // Shows that an indirect block whose first entry names the indirect
  // block itself is caught when mapping (read), and when freeing (unlink),
  // without touching the block twice.
  const Inode n = view().inode(big_);
  const uint32_t ind = n.block[kIndBlock];
  ASSERT_NE(ind, 0u);
  put32(view().block(ind), 0, ind);
  auto v = mount_ok();
  std::vector<std::byte> buf(1024);
  EXPECT_TRUE(v->read(big_, 0, buf).ok());              // direct blocks are fine
  EXPECT_EQ(v->read(big_, 12 * 1024, buf).err(), EIO);  // the self-reference
  EXPECT_EQ(v->write(big_, 12 * 1024, buf, kNow).err(), EIO);
  EXPECT_EQ(v->remove(Volume::root(), "big", kNow).err(), EIO);
  SetAttr sa;
  sa.size = 0;
  EXPECT_EQ(v->setattr(big_, sa, kNow).err(), EIO);
}

TEST_F(Malformed, BlockPointersIntoMetadataAnswerEio) {
  // Shows that block pointers past the end of the file system, or into the
  // superblock / inode table, are refused rather than read or written.
  Inode n = view().inode(big_);
  n.block[0] = 0xFFFFFF00;
  n.block[1] = 1;                                 // the superblock
  n.block[2] = view().inode_offset(big_) / 1024;  // the inode table
  view().put_inode(big_, n);
  auto v = mount_ok();
  std::vector<std::byte> buf(1024);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(v->read(big_, i * 1024, buf).err(), EIO) << i;
    EXPECT_EQ(v->write(big_, i * 1024, buf, kNow).err(), EIO) << i;
  }
}

TEST_F(Malformed, InsaneInodeFieldsAnswerEio) {
  // Shows EIO for an unknown file type, extents flag, oversized directory
  // and a bad xattr block pointer.
  auto check = [&](auto mutate) {
    auto saved = img_;
    Inode n = view().inode(big_);
    mutate(n);
    view().put_inode(big_, n);
    auto v = mount_ok();
    EXPECT_EQ(v->getattr(big_).err(), EIO);
    img_ = saved;
  };
  check([](Inode& n) { n.mode = 0xF1ED; });
  check([](Inode& n) { n.flags |= kExtentsFl; });
  check([](Inode& n) { n.file_acl = 1; });
  check([](Inode& n) { n.links_count = 0; });
  auto saved = img_;
  Inode d = view().inode(loop_);
  d.size = 0xFFFFFC00;  // 4 GiB of directory on a 4 MiB image
  view().put_inode(loop_, d);
  EXPECT_EQ(mount_ok()->readdir(loop_, 0, 10).err(), EIO);
  img_ = saved;
}

TEST_F(Malformed, CorruptXattrBlockAnswersEio) {
  // Shows that a bad magic, an entry whose value lies outside the block and
  // a wrong entry hash all answer EIO.
  auto v = mount_ok();
  const std::string val = "value";
  ASSERT_TRUE(
      v->setextattr(big_, "user.k", std::as_bytes(std::span(val.data(), val.size())), kNow).ok());
  ASSERT_TRUE(v->sync().ok());
  img_ = io_->data();
  const uint32_t xb = view().inode(big_).file_acl;
  ASSERT_NE(xb, 0u);
  const auto pristine = img_;
  put32(view().block(xb), 0, 0x12345678);
  EXPECT_EQ(mount_ok()->listextattr(big_).err(), EIO);
  img_ = pristine;
  put16(view().block(xb), 32 + 2, 1020);  // value offset: past the end with its size
  EXPECT_EQ(mount_ok()->getextattr(big_, "user.k").err(), EIO);
  img_ = pristine;
  put32(view().block(xb), 32 + 12, 0xDEADBEEF);
  EXPECT_EQ(mount_ok()->getextattr(big_, "user.k").err(), EIO);
}

}  // namespace
}  // namespace vfsim::ext2::test
