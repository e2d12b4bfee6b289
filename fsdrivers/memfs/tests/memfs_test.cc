// memfs tests: nlink of files and directories, times on the virtual clock,
// sizes and statvfs figures, the sparse page store, page I/O for the pager,
// and nodes freed with their last name and vnode. Driven through ukfs, which
// mounts memfs at "/".
#include <fcntl.h>
#include <gtest/gtest.h>

#include "boot/ukfs.h"
#include "fsdrivers/memfs/file_data.h"
#include "vnode/vnode_if.h"

namespace vfsim::memfs {
namespace {

void run(const std::function<void(ukfs::Ukfs&)>& body, vfs::MountArgs args = {}) {
  ukfs::Options o;
  o.args = std::move(args);
  auto r = ukfs::run(o, body);
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// Shows: a directory's nlink is 2 plus its subdirectories, and follows
// mkdir, rmdir and renames between parents; a file's nlink counts names.
TEST(Memfs, Nlink) {
  run([](ukfs::Ukfs& fs) {
    ASSERT_TRUE(fs.mkdir("/a", 0755).ok());
    ASSERT_TRUE(fs.mkdir("/b", 0755).ok());
    ASSERT_TRUE(fs.mkdir("/a/s", 0755).ok());
    EXPECT_EQ(fs.stat("/")->nlink, 4u);
    EXPECT_EQ(fs.stat("/a")->nlink, 3u);
    ASSERT_TRUE(fs.rename("/a/s", "/b/s").ok());
    EXPECT_EQ(fs.stat("/a")->nlink, 2u);
    EXPECT_EQ(fs.stat("/b")->nlink, 3u);
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    ASSERT_TRUE(fs.link("/f", "/a/g").ok());
    EXPECT_EQ(fs.stat("/f")->nlink, 2u);
    ASSERT_TRUE(fs.remove("/f").ok());
    EXPECT_EQ(fs.stat("/a/g")->nlink, 1u);
    ASSERT_TRUE(fs.rmdir("/b/s").ok());
    EXPECT_EQ(fs.stat("/b")->nlink, 2u);
  });
}

// Shows: times come from the machine's virtual clock: creation sets all
// four, a write moves mtime and ctime, a link moves ctime only, a read
// moves atime.
TEST(Memfs, TimesOnTheVirtualClock) {
  run([](ukfs::Ukfs& fs) {
    auto& m = fs.machine();
    m.sleep_for(5 * sim::kSecond);
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    auto st = *fs.stat("/f");
    EXPECT_EQ(st.birthtime, 5 * sim::kSecond);
    EXPECT_EQ(st.mtime, 5 * sim::kSecond);
    m.sleep_for(sim::kSecond);
    ASSERT_TRUE(fs.link("/f", "/g").ok());
    st = *fs.stat("/f");
    EXPECT_EQ(st.mtime, 5 * sim::kSecond);
    EXPECT_EQ(st.ctime, 6 * sim::kSecond);
    EXPECT_EQ(fs.stat("/")->mtime, 6 * sim::kSecond);
    m.sleep_for(sim::kSecond);
    ASSERT_TRUE(fs.read_file("/f").ok());
    EXPECT_EQ(fs.stat("/f")->atime, 7 * sim::kSecond);
    ASSERT_TRUE(fs.write("/f", 0, "y").ok());
    EXPECT_EQ(fs.stat("/f")->mtime, 7 * sim::kSecond);
  });
}

// Shows: sizes of files, symlinks and sparse files; statvfs counts pages
// and inodes; every file type can be created and stat'ed.
TEST(Memfs, SizesStatvfsAndTypes) {
  run([](ukfs::Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write("/sparse", 1 << 30, "end").ok());
    EXPECT_EQ(fs.stat("/sparse")->size, (1u << 30) + 3);
    EXPECT_EQ(*fs.read("/sparse", 100, 4), std::string(4, '\0'));
    ASSERT_TRUE(fs.symlink("abcdef", "/l").ok());
    EXPECT_EQ(fs.lstat("/l")->size, 6u);
    ASSERT_TRUE(k.mkfifo(p, "/fifo", 0644).ok());
    ASSERT_TRUE(k.mknod(p, "/blk", S_IFBLK | 0600, 7).ok());
    ASSERT_TRUE(k.mknod(p, "/sock", S_IFSOCK | 0600, 0).ok());
    EXPECT_TRUE(S_ISFIFO(fs.stat("/fifo")->mode));
    EXPECT_TRUE(S_ISBLK(fs.stat("/blk")->mode));
    EXPECT_TRUE(S_ISSOCK(fs.stat("/sock")->mode));
    auto sv = *k.statvfs(p, "/");
    EXPECT_EQ(sv.fstypename, "memfs");
    EXPECT_EQ(sv.files - sv.ffree, 6u);  // root + 5
    EXPECT_EQ(sv.blocks - sv.bfree, (1u << 30) / 4096 + 1);
  });
}

// Shows: getpages reads whole pages with zeros past the end of file and
// putpages never writes past it (the pager's contract in vnode.h).
TEST(Memfs, PageIo) {
  run([](ukfs::Ukfs& fs) {
    ASSERT_TRUE(fs.write_file("/f", "hello").ok());
    auto& k = fs.kernel();
    auto fd = k.open(fs.proc(), "/f", O_RDWR);
    ASSERT_TRUE(fd.ok());
    auto f = k.getfile(fs.proc(), *fd);
    ASSERT_TRUE(f.ok());
    vn::Vnode& vp = *(*f)->vp;
    std::vector<std::byte> page(4096, std::byte{1});
    vn::vn_lock(vp, true);
    ASSERT_TRUE(vn::vop_getpages(vp, 0, page).ok());
    EXPECT_EQ(page[0], std::byte{'h'});
    EXPECT_EQ(page[5], std::byte{0});
    page[0] = std::byte{'j'};
    page[100] = std::byte{'!'};
    ASSERT_TRUE(vn::vop_putpages(vp, 0, page).ok());
    vn::vn_unlock(vp);
    k.putfile(**f);
    ASSERT_TRUE(k.close(fs.proc(), *fd).ok());
    EXPECT_EQ(*fs.read_file("/f"), "jello");
  });
}

// Shows: PageStore keeps only touched pages and truncation drops them.
TEST(Memfs, PageStoreIsSparse) {
  PageStore s;
  EXPECT_TRUE(s.write(10 * PageStore::kPage + 1, "ab").ok());
  EXPECT_EQ(s.resident_pages(), 1u);
  EXPECT_EQ(s.size(), 10 * PageStore::kPage + 3);
  std::string out;
  EXPECT_TRUE(s.read(10 * PageStore::kPage, 4, &out).ok());
  EXPECT_EQ(out, std::string("\0ab", 3));
  EXPECT_TRUE(s.truncate(10 * PageStore::kPage + 2).ok());
  out.clear();
  EXPECT_TRUE(s.read(10 * PageStore::kPage, 8, &out).ok());
  EXPECT_EQ(out, std::string("\0a", 2));
  EXPECT_TRUE(s.truncate(0).ok());
  EXPECT_EQ(s.resident_pages(), 0u);
}

// Shows: a page recycled through the pool (dropped by one store, reused by
// another) reads as zeros wherever the new write does not reach, so no
// bytes of a removed file show through.
TEST(Memfs, RecycledPagesReadAsZeros) {
  PageStore::PagePool pool(4);
  {
    PageStore old(&pool);
    EXPECT_TRUE(old.write(0, std::string(PageStore::kPage, 'x')).ok());
  }  // its page goes to the pool
  PageStore s(&pool);
  EXPECT_TRUE(s.write(5, "ab").ok());
  EXPECT_TRUE(s.truncate(PageStore::kPage).ok());
  std::string out;
  EXPECT_TRUE(s.read(0, PageStore::kPage, &out).ok());
  std::string want(PageStore::kPage, '\0');
  want.replace(5, 2, "ab");
  EXPECT_EQ(out, want);
  EXPECT_EQ(s.resident_pages(), 1u);
}

// Shows: nodes are reused after a removal (their memory, never their ino)
// and start blank: neither a directory nor a file made next sees anything
// of the removed file's data.
TEST(Memfs, ReusedNodesStartBlank) {
  run([](ukfs::Ukfs& fs) {
    ASSERT_TRUE(fs.write_file("/f", std::string(3 * PageStore::kPage, 'x')).ok());
    const auto f_ino = fs.stat("/f")->ino;
    ASSERT_TRUE(fs.remove("/f").ok());
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    const auto d = *fs.stat("/d");
    EXPECT_GT(d.ino, f_ino);
    EXPECT_EQ(d.size, 64u);
    EXPECT_EQ(d.blocks, 0u);
    ASSERT_TRUE(fs.rmdir("/d").ok());
    ASSERT_TRUE(fs.write("/g", 1, "y").ok());
    EXPECT_EQ(*fs.read_file("/g"), std::string("\0y", 2));
    EXPECT_EQ(fs.stat("/g")->blocks, PageStore::kPage / 512);
  });
}

// Shows: a removed file's node (and its inode count) goes away with its
// vnode, so the inode limit frees up again.
TEST(Memfs, NodesFreedWithLastNameAndVnode) {
  run(
      [](ukfs::Ukfs& fs) {
        ASSERT_TRUE(fs.write_file("/a", "x").ok());
        ASSERT_TRUE(fs.write_file("/b", "x").ok());
        EXPECT_EQ(fs.write_file("/c", "x").err(), ENOSPC);
        ASSERT_TRUE(fs.remove("/a").ok());
        EXPECT_TRUE(fs.write_file("/c", "x").ok());
      },
      {{"inodes_max", "3"}});
}

}  // namespace
}  // namespace vfsim::memfs
