// Personality tests: every row of the table in vfs/personality.cc, shown
// under both personalities, starting with link(2) on a symlink (the PERFUSE
// paper's GlusterFS rename-via-link bug).
#include <sys/stat.h>

#include "vfs/tests/test_util.h"

namespace vfsim::vfs {
namespace {

using testing::run_ukfs;
using ukfs::Ukfs;

class PersonalityTest : public ::testing::TestWithParam<Personality> {};

// Shows: GlusterFS's rename: link(old, new) then unlink(old) where old is a
// symlink. NetBSD's link follows the symlink, so `new` is a hard link to the
// target; Linux links the symlink itself, so `new` is the symlink.
TEST_P(PersonalityTest, LinkOnSymlinkRenameViaLink) {
  const Personality pers = GetParam();
  run_ukfs(
      [pers](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        ASSERT_TRUE(fs.write_file("/target", "T").ok());
        ASSERT_TRUE(fs.symlink("target", "/old").ok());
        ASSERT_TRUE(k.link(p, "/old", "/new").ok());
        ASSERT_TRUE(k.unlink(p, "/old").ok());
        auto st = k.lstat(p, "/new");
        ASSERT_TRUE(st.ok());
        if (pers == Personality::NetBSD) {
          EXPECT_TRUE(S_ISREG(st->mode));
          EXPECT_EQ(st->nlink, 2u);  // target and new
          EXPECT_EQ(k.stat(p, "/target")->nlink, 2u);
        } else {
          EXPECT_TRUE(S_ISLNK(st->mode));
          EXPECT_EQ(*k.readlink(p, "/new"), "target");
          EXPECT_EQ(k.stat(p, "/target")->nlink, 1u);
        }
        EXPECT_EQ(*fs.read_file("/new"), "T");
      },
      pers);
}

// Shows: linkat follows a symlink only with AT_SYMLINK_FOLLOW, the same
// under both personalities.
TEST_P(PersonalityTest, LinkatIsTheSameInBoth) {
  run_ukfs(
      [](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        ASSERT_TRUE(fs.write_file("/t", "T").ok());
        ASSERT_TRUE(fs.symlink("/t", "/s").ok());
        ASSERT_TRUE(k.linkat(p, AT_FDCWD, "/s", AT_FDCWD, "/nofollow", 0).ok());
        ASSERT_TRUE(k.linkat(p, AT_FDCWD, "/s", AT_FDCWD, "/follow", AT_SYMLINK_FOLLOW).ok());
        EXPECT_TRUE(S_ISLNK(k.lstat(p, "/nofollow")->mode));
        EXPECT_EQ(k.lstat(p, "/s")->nlink, 2u);
        EXPECT_TRUE(S_ISREG(k.lstat(p, "/follow")->mode));
        EXPECT_EQ(k.stat(p, "/t")->nlink, 2u);
      },
      GetParam());
}

// Shows: the errno rows — unlink of a directory, rmdir of "..", rename of
// "." — and the unknown xattr prefix row.
TEST_P(PersonalityTest, ErrnoRows) {
  const Personality pers = GetParam();
  const bool nb = pers == Personality::NetBSD;
  run_ukfs(
      [nb](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
        ASSERT_TRUE(fs.mkdir("/d/e", 0755).ok());
        EXPECT_EQ(k.unlink(p, "/d").err(), nb ? EPERM : EISDIR);
        EXPECT_EQ(k.rmdir(p, "/d/e/..").err(), nb ? EINVAL : ENOTEMPTY);
        EXPECT_EQ(k.rename(p, "/d/.", "/x").err(), nb ? EINVAL : EBUSY);
        ASSERT_TRUE(fs.write_file("/f", "x").ok());
        Status s = k.setxattr(p, "/f", "os2.name", "v", 0);
        EXPECT_EQ(s.err(), nb ? 0 : EOPNOTSUPP);
      },
      pers);
}

// Shows: a new file's group (the directory's on NetBSD, the process's on
// Linux unless the directory is set-group-ID) and a new symlink's mode.
TEST_P(PersonalityTest, NewFileGroupAndSymlinkMode) {
  const bool nb = GetParam() == Personality::NetBSD;
  run_ukfs(
      [nb](Ukfs& fs) {
        auto& k = fs.kernel();
        ASSERT_TRUE(fs.mkdir("/d", 0777).ok());
        ASSERT_TRUE(fs.chmod("/d", 0777).ok());
        ASSERT_TRUE(fs.chown("/d", 0, 50).ok());
        auto& u = fs.new_process("u", vn::Cred{1000, 100, {}}, 022);
        auto fd = k.open(u, "/d/f", O_CREAT | O_WRONLY, 0666);
        ASSERT_TRUE(fd.ok());
        ASSERT_TRUE(k.close(u, *fd).ok());
        EXPECT_EQ(k.stat(u, "/d/f")->gid, nb ? 50u : 100u);
        EXPECT_EQ(k.stat(u, "/d/f")->mode & 0777, 0644u);
        ASSERT_TRUE(k.symlink(u, "f", "/d/l").ok());
        EXPECT_EQ(k.lstat(u, "/d/l")->mode & 0777, nb ? 0755u : 0777u);
        ASSERT_TRUE(fs.chmod("/d", 02777).ok());
        ASSERT_TRUE(k.mkdir(u, "/d/sub", 0755).ok());
        EXPECT_EQ(k.stat(u, "/d/sub")->gid, 50u);
      },
      GetParam());
}

// Shows: open(2) of a socket node is EOPNOTSUPP on NetBSD and ENXIO on
// Linux, for any access mode and before the permission check.
TEST_P(PersonalityTest, SocketOpenErrno) {
  const bool nb = GetParam() == Personality::NetBSD;
  run_ukfs(
      [nb](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        ASSERT_TRUE(k.mknod(p, "/s", S_IFSOCK | 0600, 0).ok());
        const int want = nb ? EOPNOTSUPP : ENXIO;
        EXPECT_EQ(k.open(p, "/s", O_RDONLY).err(), want);
        EXPECT_EQ(k.open(p, "/s", O_RDWR | O_NONBLOCK).err(), want);
        auto& u = fs.new_process("u", vn::Cred{1000, 100, {}});
        EXPECT_EQ(k.open(u, "/s", O_WRONLY).err(), want);  // no permission, same errno
      },
      GetParam());
}

// Shows: PIPE_BUF is 512 on NetBSD and 4096 on Linux: with 96 bytes free in
// a fifo, a non-blocking write of 600 bytes is longer than NetBSD's PIPE_BUF
// and writes the 96 that fit, while on Linux it is atomic and EAGAIN; a
// write of exactly PIPE_BUF bytes is atomic under both.
TEST_P(PersonalityTest, FifoPipeBuf) {
  const Personality pers = GetParam();
  const bool nb = pers == Personality::NetBSD;
  run_ukfs(
      [nb, pers](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        const std::size_t pipe_buf = nb ? 512 : 4096;
        EXPECT_EQ(k.rules().pipe_buf, pipe_buf);
        EXPECT_EQ(rules(pers).pipe_buf, pipe_buf);
        ASSERT_TRUE(k.mkfifo(p, "/p", 0600).ok());
        auto rw = k.open(p, "/p", O_RDWR | O_NONBLOCK);
        ASSERT_TRUE(rw.ok());
        ASSERT_EQ(*k.write(p, *rw, std::string(4000, 'a')), 4000u);
        auto w = k.write(p, *rw, std::string(600, 'b'));
        if (nb) {
          ASSERT_TRUE(w.ok());
          EXPECT_EQ(*w, 96u);
        } else {
          EXPECT_EQ(w.err(), EAGAIN);
        }
        ASSERT_TRUE(k.read(p, *rw, 10000).ok());  // empty again
        ASSERT_EQ(*k.write(p, *rw, std::string(4096 - pipe_buf + 1, 'c')), 4096 - pipe_buf + 1);
        EXPECT_EQ(k.write(p, *rw, std::string(pipe_buf, 'd')).err(), EAGAIN);  // one short
        ASSERT_TRUE(k.read(p, *rw, 1).ok());
        EXPECT_EQ(*k.write(p, *rw, std::string(pipe_buf, 'd')), pipe_buf);  // now it fits
        EXPECT_TRUE(k.close(p, *rw).ok());
      },
      pers);
}

INSTANTIATE_TEST_SUITE_P(Both, PersonalityTest,
                         ::testing::Values(Personality::NetBSD, Personality::Linux),
                         [](const auto& info) {
                           return std::string(personality_name(info.param));
                         });

}  // namespace
}  // namespace vfsim::vfs
