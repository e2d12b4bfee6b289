// Write tests for 1, 2 and 4 KiB blocks. Every test ends by syncing the
// volume, saving the image and requiring `e2fsck -fn` to report it clean, so
// each shows both the operation's result and that the on-disk structures
// (bitmaps, counts, link counts, directory and xattr blocks) stay consistent.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "fsdrivers/ext2/tests/image_util.h"
#include "fsdrivers/ext2/volume.h"

namespace vfsim::ext2::test {
namespace {

constexpr int64_t kNow = 1700000000;  // a fixed past time: e2fsck rejects future times

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

class WriteTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    dir_ = scratch_dir();
    ASSERT_NO_FATAL_FAILURE(make_image(dir_ / "img", GetParam(), 16384, "-N 1024"));
    mount_image();
  }

  void mount_image(const std::vector<std::byte>* data = nullptr) {
    vol_.reset();
    io_ = std::make_unique<MemBlockIo>(data ? *data : load(dir_ / "img"));
    auto m = Volume::mount(*io_, MountOptions{});
    ASSERT_TRUE(m.volume) << m.reason;
    vol_ = std::move(m.volume);
  }

  // Syncs, writes the image out and runs e2fsck -fn on it.
  void expect_fsck_clean() {
    ASSERT_TRUE(vol_->sync().ok());
    save(dir_ / "out.img", io_->data());
    std::string report;
    EXPECT_EQ(fsck(dir_ / "out.img", &report), 0) << report;
  }

  // Syncs and mounts the written image again, as a fresh Volume.
  void remount() {
    ASSERT_TRUE(vol_->unmount().ok());
    std::vector<std::byte> data = io_->data();
    mount_image(&data);
  }

  std::vector<std::byte> read_all(uint32_t ino) {
    auto a = vol_->getattr(ino);
    EXT2_TEST_REQUIRE(a.ok());
    std::vector<std::byte> out(a->size);
    auto n = vol_->read(ino, 0, out);
    EXT2_TEST_REQUIRE(n.ok() && *n == out.size());
    return out;
  }

  uint32_t create(uint32_t dir, std::string_view name) {
    auto r = vol_->create(dir, name, 0644, 1000, 100, kNow);
    EXT2_TEST_REQUIRE(r.ok());
    return *r;
  }

  uint64_t ptrs() const { return GetParam() / 4; }

  fs::path dir_;
  std::unique_ptr<MemBlockIo> io_;
  std::unique_ptr<Volume> vol_;
};

TEST_P(WriteTest, CreateWriteReadAndPersist) {
  // Shows that data written to a new file reads back, attributes are set,
  // and everything survives a sync and remount.
  const uint32_t ino = create(Volume::root(), "hello");
  auto data = pattern(10000, 42);
  ASSERT_EQ(*vol_->write(ino, 0, data, kNow), data.size());
  ASSERT_EQ(*vol_->write(ino, 3, bytes_of("XYZ"), kNow), 3u);
  std::memcpy(data.data() + 3, "XYZ", 3);
  EXPECT_EQ(read_all(ino), data);
  auto a = vol_->getattr(ino);
  EXPECT_EQ(a->mode, 0100644);
  EXPECT_EQ(a->uid, 1000u);
  EXPECT_EQ(a->gid, 100u);
  EXPECT_EQ(a->mtime, kNow);
  EXPECT_EQ(vol_->create(Volume::root(), "hello", 0644, 0, 0, kNow).err(), EEXIST);
  remount();
  EXPECT_EQ(*vol_->lookup(Volume::root(), "hello"), ino);
  EXPECT_EQ(read_all(ino), data);
  expect_fsck_clean();
}

TEST_P(WriteTest, ExtendThroughIndirectLevelsThenTruncate) {
  // Shows sparse writes landing in the single, double and triple indirect
  // ranges, reads of the holes between them, and that truncating back to
  // zero returns every block to the free pool.
  const uint64_t free_before = vol_->statvfs()->blocks_free;
  const uint32_t ino = create(Volume::root(), "f");
  const uint64_t bs = GetParam();
  const uint64_t offsets[] = {0, 11 * bs + 100, 13 * bs + 5, (12 + ptrs() + 3) * bs,
                              (12 + ptrs() + ptrs() * ptrs() + 1) * bs - 7};
  for (uint64_t off : offsets) ASSERT_EQ(*vol_->write(ino, off, pattern(bs, off), kNow), bs) << off;
  for (uint64_t off : offsets) {
    std::vector<std::byte> buf(bs);
    ASSERT_EQ(*vol_->read(ino, off, buf), bs);
    EXPECT_EQ(buf, pattern(bs, off)) << off;
  }
  std::vector<std::byte> hole(bs);
  ASSERT_EQ(*vol_->read(ino, (12 + ptrs() + 100) * bs, hole), bs);
  EXPECT_EQ(hole, std::vector<std::byte>(bs));
  expect_fsck_clean();
  SetAttr sa;
  sa.size = (12 + ptrs() + 4) * bs;  // drops the triple indirect tree
  ASSERT_TRUE(vol_->setattr(ino, sa, kNow).ok());
  expect_fsck_clean();
  sa.size = 0;
  ASSERT_TRUE(vol_->setattr(ino, sa, kNow).ok());
  EXPECT_EQ(vol_->getattr(ino)->blocks512, 0u);
  EXPECT_EQ(vol_->statvfs()->blocks_free, free_before);
  expect_fsck_clean();
}

TEST_P(WriteTest, TruncateZeroesTheCutTail) {
  // Shows that bytes cut off by a truncate read as zero after the file is
  // extended again (no stale data resurfaces).
  const uint32_t ino = create(Volume::root(), "t");
  ASSERT_EQ(*vol_->write(ino, 0, pattern(5000, 1), kNow), 5000u);
  SetAttr sa;
  sa.size = 100;
  ASSERT_TRUE(vol_->setattr(ino, sa, kNow).ok());
  sa.size = 5000;
  ASSERT_TRUE(vol_->setattr(ino, sa, kNow).ok());
  auto all = read_all(ino);
  auto expect = pattern(5000, 1);
  std::fill(expect.begin() + 100, expect.end(), std::byte{0});
  EXPECT_EQ(all, expect);
  expect_fsck_clean();
}

TEST_P(WriteTest, NamespaceOperations) {
  // Shows unlink, link, rename (within and across directories, over an
  // existing file, of a directory), mkdir and rmdir with their errors.
  const uint32_t root = Volume::root();
  const uint32_t a = *vol_->mkdir(root, "a", 0755, 0, 0, kNow);
  const uint32_t b = *vol_->mkdir(root, "b", 0755, 0, 0, kNow);
  const uint32_t sub = *vol_->mkdir(a, "sub", 0700, 0, 0, kNow);
  EXPECT_EQ(vol_->getattr(a)->nlink, 3);
  const uint32_t f = create(a, "f");
  ASSERT_TRUE(vol_->write(f, 0, pattern(3000, 5), kNow).ok());
  ASSERT_TRUE(vol_->link(b, "f-link", f, kNow).ok());
  EXPECT_EQ(vol_->getattr(f)->nlink, 2);
  EXPECT_EQ(vol_->link(b, "dirlink", a, kNow).err(), EPERM);
  ASSERT_TRUE(vol_->remove(a, "f", kNow).ok());
  EXPECT_EQ(vol_->getattr(f)->nlink, 1);
  EXPECT_EQ(vol_->lookup(a, "f").err(), ENOENT);
  EXPECT_EQ(read_all(f), pattern(3000, 5));
  // Rename a file across directories, then over an existing file.
  ASSERT_TRUE(vol_->rename(b, "f-link", a, "moved", kNow).ok());
  EXPECT_EQ(*vol_->lookup(a, "moved"), f);
  const uint32_t g = create(b, "g");
  ASSERT_TRUE(vol_->rename(b, "g", a, "moved", kNow).ok());
  EXPECT_EQ(*vol_->lookup(a, "moved"), g);
  EXPECT_EQ(vol_->getattr(f).err(), EIO);  // f's inode was freed
  // Rename a directory across parents: ".." and link counts follow.
  ASSERT_TRUE(vol_->rename(a, "sub", b, "sub2", kNow).ok());
  EXPECT_EQ(*vol_->lookup(sub, ".."), b);
  EXPECT_EQ(vol_->getattr(a)->nlink, 2);
  EXPECT_EQ(vol_->getattr(b)->nlink, 3);
  EXPECT_EQ(vol_->rename(root, "b", sub, "inside", kNow).err(), EINVAL);  // into own subtree
  // Replace an empty directory by rename; refuse a non-empty one.
  ASSERT_TRUE(vol_->mkdir(a, "empty", 0755, 0, 0, kNow).ok());
  EXPECT_EQ(vol_->rename(root, "b", a, "moved", kNow).err(), ENOTDIR);
  EXPECT_EQ(vol_->rename(a, "moved", b, "sub2", kNow).err(), EISDIR);
  ASSERT_TRUE(vol_->rename(b, "sub2", a, "empty", kNow).ok());
  EXPECT_EQ(vol_->getattr(a)->nlink, 3);
  EXPECT_EQ(vol_->getattr(b)->nlink, 2);
  EXPECT_EQ(vol_->rmdir(root, "a", kNow).err(), ENOTEMPTY);
  EXPECT_EQ(vol_->rmdir(a, "moved", kNow).err(), ENOTDIR);
  EXPECT_EQ(vol_->remove(root, "a", kNow).err(), EPERM);
  ASSERT_TRUE(vol_->rmdir(a, "empty", kNow).ok());
  ASSERT_TRUE(vol_->remove(a, "moved", kNow).ok());
  ASSERT_TRUE(vol_->rmdir(root, "a", kNow).ok());
  EXPECT_EQ(vol_->getattr(root)->nlink, 4);  // ".", "..", and the ".." of lost+found and b
  expect_fsck_clean();
}

TEST_P(WriteTest, SymlinksAndDeviceNodes) {
  // Shows fast (in-inode) and slow (block) symlinks, and character, block,
  // fifo and socket nodes with their device numbers.
  const uint32_t root = Volume::root();
  const std::string long_target(GetParam() - 1, 'L');
  const uint32_t s1 = *vol_->symlink(root, "short", "target/file", 0, 0, kNow);
  const uint32_t s2 = *vol_->symlink(root, "long", long_target, 0, 0, kNow);
  EXPECT_EQ(*vol_->readlink(s1), "target/file");
  EXPECT_EQ(*vol_->readlink(s2), long_target);
  EXPECT_EQ(vol_->symlink(root, "toolong", std::string(GetParam(), 'x'), 0, 0, kNow).err(),
            ENAMETOOLONG);
  const uint32_t c = *vol_->mknod(root, "tty", 0020620, (4 << 8) | 1, 0, 0, kNow);
  const uint32_t bdev = *vol_->mknod(root, "disk", 0060660, 0x00103005, 0, 0, kNow);
  const uint32_t fifo = *vol_->mknod(root, "fifo", 0010644, 0, 0, 0, kNow);
  ASSERT_TRUE(vol_->mknod(root, "sock", 0140755, 0, 0, 0, kNow).ok());
  EXPECT_EQ(vol_->mknod(root, "reg", 0100644, 0, 0, 0, kNow).err(), EINVAL);
  EXPECT_EQ(vol_->getattr(c)->rdev, uint32_t{(4 << 8) | 1});
  EXPECT_EQ(vol_->getattr(bdev)->rdev, 0x00103005u);
  EXPECT_EQ(vol_->getattr(fifo)->type, FileType::Fifo);
  expect_fsck_clean();
  ASSERT_TRUE(vol_->remove(root, "long", kNow).ok());
  ASSERT_TRUE(vol_->remove(root, "tty", kNow).ok());
  expect_fsck_clean();
}

TEST_P(WriteTest, ExtendedAttributes) {
  // Shows xattr set/get/list/delete in the user, trusted and security
  // namespaces, the create/replace flags, a full block answering ENOSPC,
  // and that the block is freed with its last attribute.
  const uint32_t root = Volume::root();
  const uint32_t f = create(root, "x");
  const uint64_t free_before = vol_->statvfs()->blocks_free;
  ASSERT_TRUE(vol_->setextattr(f, "user.color", bytes_of("blue"), kNow).ok());
  ASSERT_TRUE(vol_->setextattr(f, "trusted.t", bytes_of(""), kNow).ok());
  ASSERT_TRUE(vol_->setextattr(f, "security.selinux", bytes_of("system_u:object_r:x"), kNow).ok());
  ASSERT_TRUE(vol_->setextattr(f, "user.color", bytes_of("green!"), kNow).ok());
  auto v = vol_->getextattr(f, "user.color");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->data()), v->size()), "green!");
  EXPECT_EQ(vol_->getextattr(f, "user.nope").err(), ENODATA);
  EXPECT_EQ(vol_->getextattr(f, "system.x").err(), EOPNOTSUPP);
  EXPECT_EQ(vol_->setextattr(f, "user.color", bytes_of("a"), kNow, XattrFlag::Create).err(),
            EEXIST);
  EXPECT_EQ(vol_->setextattr(f, "user.new", bytes_of("a"), kNow, XattrFlag::Replace).err(),
            ENODATA);
  auto names = vol_->listextattr(f);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"user.color", "trusted.t", "security.selinux"}));
  EXPECT_EQ(vol_->setextattr(f, "user.big", pattern(GetParam(), 1), kNow).err(), ENOSPC);
  ASSERT_TRUE(vol_->setextattr(root, "user.on-root", pattern(100, 3), kNow).ok());
  expect_fsck_clean();
  ASSERT_TRUE(vol_->deleteextattr(f, "user.color", kNow).ok());
  ASSERT_TRUE(vol_->deleteextattr(f, "trusted.t", kNow).ok());
  ASSERT_TRUE(vol_->deleteextattr(f, "security.selinux", kNow).ok());
  EXPECT_EQ(vol_->deleteextattr(f, "security.selinux", kNow).err(), ENODATA);
  ASSERT_TRUE(vol_->deleteextattr(root, "user.on-root", kNow).ok());
  EXPECT_EQ(vol_->statvfs()->blocks_free, free_before);
  expect_fsck_clean();
  // An inode freed with its attribute block frees the block too.
  ASSERT_TRUE(vol_->setextattr(f, "user.k", bytes_of("v"), kNow).ok());
  ASSERT_TRUE(vol_->remove(root, "x", kNow).ok());
  expect_fsck_clean();
}

TEST_P(WriteTest, ModifyTreeMadeByMke2fs) {
  // Shows that an image populated by mke2fs -d (possibly with hashed
  // directories) stays consistent after removals and insertions.
  fs::path src = dir_ / "src";
  fs::create_directories(src / "many");
  for (int i = 0; i < 300; ++i)
    write_host_file(src / "many" / ("n" + std::to_string(i)), pattern(i * 37, i));
  write_host_file(src / "big", pattern(400000, 9));
  ASSERT_NO_FATAL_FAILURE(make_image(dir_ / "img", GetParam(), 16384, "-N 1024", src));
  mount_image();
  const uint32_t many = *vol_->lookup(Volume::root(), "many");
  for (int i = 0; i < 300; i += 3)
    ASSERT_TRUE(vol_->remove(many, "n" + std::to_string(i), kNow).ok());
  for (int i = 0; i < 50; ++i) create(many, "added-" + std::to_string(i));
  ASSERT_TRUE(vol_->remove(Volume::root(), "big", kNow).ok());
  EXPECT_EQ(read_all(*vol_->lookup(many, "n7")), pattern(7 * 37, 7));
  expect_fsck_clean();
}

TEST_P(WriteTest, RandomWorkloadMatchesModel) {
  // Shows, for a seeded random sequence of creates, writes, truncates,
  // renames and unlinks in two directories, that file contents match an
  // in-memory model before and after remount and e2fsck stays clean.
  SplitMix64 rng(0x5EED0000 + GetParam());
  const uint32_t root = Volume::root();
  const uint32_t dirs[2] = {root, *vol_->mkdir(root, "d", 0755, 0, 0, kNow)};
  std::map<std::pair<int, std::string>, std::vector<std::byte>> model;
  for (int step = 0; step < 400; ++step) {
    const int d = static_cast<int>(rng.below(2));
    const std::string name = "f" + std::to_string(rng.below(12));
    auto it = model.find({d, name});
    const uint64_t op = rng.below(10);
    if (it == model.end()) {
      ASSERT_TRUE(vol_->create(dirs[d], name, 0600, 0, 0, kNow).ok());
      model[{d, name}] = {};
    } else if (op < 5) {
      const size_t off = rng.below(3 * GetParam() * 14);
      auto data = pattern(rng.below(3 * GetParam()) + 1, rng.next());
      ASSERT_EQ(*vol_->write(*vol_->lookup(dirs[d], name), off, data, kNow), data.size());
      auto& m = it->second;
      if (m.size() < off + data.size()) m.resize(off + data.size());
      std::copy(data.begin(), data.end(), m.begin() + static_cast<std::ptrdiff_t>(off));
    } else if (op < 7) {
      SetAttr sa;
      sa.size = rng.below(it->second.size() + 1);
      ASSERT_TRUE(vol_->setattr(*vol_->lookup(dirs[d], name), sa, kNow).ok());
      it->second.resize(*sa.size);
    } else if (op < 9) {
      const int d2 = static_cast<int>(rng.below(2));
      const std::string n2 = "f" + std::to_string(rng.below(12));
      ASSERT_TRUE(vol_->rename(dirs[d], name, dirs[d2], n2, kNow).ok());
      auto data = std::move(it->second);
      model.erase(it);
      model[{d2, n2}] = std::move(data);
    } else {
      ASSERT_TRUE(vol_->remove(dirs[d], name, kNow).ok());
      model.erase(it);
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, data] : model)
      EXPECT_EQ(read_all(*vol_->lookup(dirs[key.first], key.second)), data);
    remount();
  }
  expect_fsck_clean();
}

TEST_P(WriteTest, FillingTheDiskAnswersEnospcAndStaysConsistent) {
  // Shows that running out of blocks yields a short write then ENOSPC, and
  // that the partially written file and the bitmaps stay consistent.
  const uint32_t ino = create(Volume::root(), "fill");
  std::vector<std::byte> chunk(256 * 1024, std::byte{0x5A});
  uint64_t off = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = vol_->write(ino, off, chunk, kNow);
    if (!r.ok()) {
      EXPECT_EQ(r.err(), ENOSPC);
      break;
    }
    off += *r;
  }
  EXPECT_EQ(vol_->statvfs()->blocks_free, 0u);
  EXPECT_EQ(vol_->mkdir(Volume::root(), "nospace", 0755, 0, 0, kNow).err(), ENOSPC);
  EXPECT_EQ(vol_->getattr(ino)->size, off);
  expect_fsck_clean();
  ASSERT_TRUE(vol_->remove(Volume::root(), "fill", kNow).ok());
  expect_fsck_clean();
}

TEST_P(WriteTest, UnlinkedInodeLivesUntilInactive) {
  // Shows that with defer_free_unlinked an inode unlinked to zero links
  // stays readable and writable by number (an open file), a removed
  // directory refuses new entries, inactive() frees both, a zero clock
  // still gives the freed inode a non-zero dtime, and the image is clean.
  vol_.reset();
  MountOptions opts;
  opts.defer_free_unlinked = true;
  auto m = Volume::mount(*io_, opts);
  ASSERT_TRUE(m.volume) << m.reason;
  vol_ = std::move(m.volume);
  const uint32_t ino = create(Volume::root(), "open");
  ASSERT_TRUE(vol_->write(ino, 0, pattern(5000, 7), kNow).ok());
  const uint32_t dir = *vol_->mkdir(Volume::root(), "gone", 0755, 0, 0, kNow);
  ASSERT_TRUE(vol_->remove(Volume::root(), "open", kNow).ok());
  ASSERT_TRUE(vol_->rmdir(Volume::root(), "gone", kNow).ok());
  EXPECT_EQ(vol_->getattr(ino)->nlink, 0u);
  EXPECT_EQ(read_all(ino), pattern(5000, 7));
  EXPECT_TRUE(vol_->write(ino, 5000, bytes_of("more"), kNow).ok());
  EXPECT_EQ(vol_->create(dir, "x", 0644, 0, 0, kNow).err(), ENOENT);
  EXPECT_EQ(vol_->lookup(Volume::root(), "open").err(), ENOENT);
  ASSERT_TRUE(vol_->inactive(ino, 0).ok());
  ASSERT_TRUE(vol_->inactive(dir, kNow).ok());
  EXPECT_EQ(vol_->getattr(ino).err(), EIO);  // freed: no longer a live inode
  expect_fsck_clean();
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, WriteTest, ::testing::Values(1024u, 2048u, 4096u));

}  // namespace
}  // namespace vfsim::ext2::test
