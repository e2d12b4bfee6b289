// Ownership and mode rules that POSIX leaves to the personality, on every
// file system (memfs, ext2 on a fresh mke2fs image, memfs served through
// puffs) under both personalities: chown(-1, -1) by anyone is a no-op; a
// write that stores bytes, or a chown, by a caller who is not root clears
// S_ISUID and S_ISGID (Linux: S_ISGID only with group-execute); NetBSD's
// chmod refuses the sticky bit on a non-directory (EFTYPE) and S_ISGID
// outside the caller's groups (EPERM), where Linux allows the first and
// drops the second; bind(2) of an AF_UNIX socket makes a socket node. Each
// test runs the calls and checks errno, type and mode.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "vfs/tests/test_util.h"

namespace vfsim::vfs {
namespace {

using ukfs::Ukfs;

constexpr vn::Uid kSame = static_cast<vn::Uid>(-1);

struct FsCase {
  std::string name;
  std::string fstype;
};

std::string ext2_image() {
  const std::string dir = VFS_TEST_TMPDIR;
  const std::string img = dir + "/attr-" + std::to_string(getpid()) + ".img";
  const std::string cmd = "mkdir -p '" + dir +
                          "' && PATH=$PATH:/sbin:/usr/sbin mke2fs -q -F -t ext2 -b 1024 '" + img +
                          "' 1024k >/dev/null 2>&1";
  const int st = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << cmd;
  return img;
}

class PosixAttr : public ::testing::TestWithParam<std::tuple<FsCase, Personality>> {
 protected:
  bool netbsd() const { return std::get<1>(GetParam()) == Personality::NetBSD; }
  // Runs `body` on a fresh file system of the case, as root, and expects a
  // clean run.
  void run(const std::function<void(Ukfs&)>& body) {
    const auto& [fc, personality] = GetParam();
    ukfs::Options o;
    o.fstype = fc.fstype;
    o.personality = personality;
    if (fc.fstype == "ext2") o.args = {{"image", ext2_image()}};
    auto r = ukfs::run(o, body);
    EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
  }
};

std::uint32_t mode_of(Ukfs& fs, const std::string& path) {
  auto st = fs.kernel().stat(fs.proc(), path);
  EXPECT_TRUE(st.ok()) << path;
  return st.ok() ? st->mode & 07777 : 0;
}

// A file owned by alice (1000, group 100) with `mode`.
void alice_file(Ukfs& fs, const std::string& path, std::uint32_t mode) {
  ASSERT_TRUE(fs.write_file(path, "").ok());
  ASSERT_TRUE(fs.kernel().chown(fs.proc(), path, 1000, 100).ok());
  ASSERT_TRUE(fs.kernel().chmod(fs.proc(), path, mode).ok());
}

void append(Ukfs& fs, vfs::Proc& p, const std::string& path, std::string_view data) {
  auto fd = fs.kernel().open(p, path, O_WRONLY | O_APPEND);
  ASSERT_TRUE(fd.ok()) << path << ": errno " << fd.err();
  auto n = fs.kernel().write(p, *fd, data);
  EXPECT_TRUE(n.ok() && *n == data.size());
  EXPECT_TRUE(fs.kernel().close(p, *fd).ok());
}

// Shows: chown, lchown and fchown with (-1, -1) by a process that owns
// nothing succeed and change nothing (uid, gid, mode, ctime); a missing
// path is still ENOENT. On Linux a chown(-1, -1) of a set-id file would
// clear S_ISUID, so a non-owner's is EPERM and changes nothing either
// (measured on Linux 6.18: 06755 file, uid 1001: EPERM); of a 0644 file it
// succeeds.
TEST_P(PosixAttr, ChownMinusOneByNonOwnerIsANoOp) {
  const bool bsd = netbsd();
  run([bsd](Ukfs& fs) {
    auto& k = fs.kernel();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    ASSERT_TRUE(k.chmod(fs.proc(), "/f", 06755).ok());
    auto& bob = fs.new_process("bob", vn::Cred{1001, 101, {}});
    const auto before = k.stat(fs.proc(), "/f");
    ASSERT_TRUE(before.ok());
    k.machine().sleep_for(2 * sim::kSecond);
    const int want = bsd ? 0 : EPERM;
    EXPECT_EQ(k.chown(bob, "/f", kSame, kSame).err(), want);
    EXPECT_EQ(k.lchown(bob, "/f", kSame, kSame).err(), want);
    auto fd = k.open(bob, "/f", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(k.fchown(bob, *fd, kSame, kSame).err(), want);
    EXPECT_TRUE(k.close(bob, *fd).ok());
    EXPECT_EQ(k.chown(bob, "/f", 1001, kSame).err(), EPERM);
    const auto after = k.stat(fs.proc(), "/f");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->uid, before->uid);
    EXPECT_EQ(after->gid, before->gid);
    EXPECT_EQ(after->mode, before->mode);
    EXPECT_EQ(after->ctime, before->ctime);
    EXPECT_EQ(k.chown(bob, "/none", kSame, kSame).err(), ENOENT);
    ASSERT_TRUE(fs.write_file("/plain", "x").ok());
    EXPECT_EQ(k.chown(bob, "/plain", kSame, kSame).err(), 0);
    EXPECT_EQ(mode_of(fs, "/plain"), 0644u);
  });
}

// Shows: a write by its owner who is not root clears S_ISUID and S_ISGID
// (06755 -> 0755); with S_ISGID but no group-execute (02745) NetBSD clears
// it and Linux keeps it; a write of no bytes, and a write by root, clear
// nothing.
TEST_P(PosixAttr, WriteByNonRootClearsSetIdBits) {
  const bool bsd = netbsd();
  run([bsd](Ukfs& fs) {
    auto& alice = fs.new_process("alice", vn::Cred{1000, 100, {}});
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/suid", 06755));
    append(fs, alice, "/suid", "");
    EXPECT_EQ(mode_of(fs, "/suid"), 06755u);
    append(fs, alice, "/suid", "x");
    EXPECT_EQ(mode_of(fs, "/suid"), 0755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/sgid", 02745));
    append(fs, alice, "/sgid", "x");
    EXPECT_EQ(mode_of(fs, "/sgid"), bsd ? 0745u : 02745u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/byroot", 06777));
    append(fs, fs.proc(), "/byroot", "x");
    EXPECT_EQ(mode_of(fs, "/byroot"), 06777u);
  });
}

// Shows: a chown by an owner who is not root (to its own group) clears the
// same bits of a file (NetBSD both; Linux S_ISGID only with group-execute),
// not of a directory. Root's chown clears nothing on NetBSD; on Linux it
// clears S_ISUID and S_ISGID-with-group-execute like anyone's, and so does a
// chown(-1, -1) by the owner or root (measured on Linux 6.18, ext4: root's
// chown of 06755 leaves 0755, of 06644 02644, of 02745 02745; the owner's
// chown(-1, -1) of 06755 leaves 0755).
TEST_P(PosixAttr, ChownByNonRootClearsSetIdBits) {
  const bool bsd = netbsd();
  run([bsd](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& alice = fs.new_process("alice", vn::Cred{1000, 100, {}});
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/a", 06755));
    EXPECT_EQ(k.chown(alice, "/a", kSame, 100).err(), 0);
    EXPECT_EQ(mode_of(fs, "/a"), 0755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/b", 06745));
    EXPECT_EQ(k.chown(alice, "/b", 1000, kSame).err(), 0);
    EXPECT_EQ(mode_of(fs, "/b"), bsd ? 0745u : 02745u);
    ASSERT_TRUE(k.mkdir(fs.proc(), "/d", 0755).ok());
    ASSERT_TRUE(k.chown(fs.proc(), "/d", 1000, 100).ok());
    ASSERT_TRUE(k.chmod(fs.proc(), "/d", 02775).ok());
    EXPECT_EQ(k.chown(alice, "/d", kSame, 100).err(), 0);
    EXPECT_EQ(mode_of(fs, "/d"), 02775u);
    EXPECT_EQ(k.chown(fs.proc(), "/d", 0, 0).err(), 0);
    EXPECT_EQ(mode_of(fs, "/d"), 02775u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/c", 06755));
    EXPECT_EQ(k.chown(fs.proc(), "/c", 1001, 101).err(), 0);
    EXPECT_EQ(mode_of(fs, "/c"), bsd ? 06755u : 0755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/e", 06644));
    EXPECT_EQ(k.chown(fs.proc(), "/e", 1001, 101).err(), 0);
    EXPECT_EQ(mode_of(fs, "/e"), bsd ? 06644u : 02644u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/g", 02745));
    EXPECT_EQ(k.chown(fs.proc(), "/g", 1001, 101).err(), 0);
    EXPECT_EQ(mode_of(fs, "/g"), 02745u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/h", 06755));
    EXPECT_EQ(k.chown(fs.proc(), "/h", kSame, kSame).err(), 0);
    EXPECT_EQ(mode_of(fs, "/h"), bsd ? 06755u : 0755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/i", 06755));
    EXPECT_EQ(k.chown(alice, "/i", kSame, kSame).err(), 0);
    EXPECT_EQ(mode_of(fs, "/i"), bsd ? 06755u : 0755u);
  });
}

// Shows: open(2) with O_TRUNC, truncate(2) and ftruncate(2) by a caller who
// is not root clear S_ISUID and S_ISGID-with-group-execute on Linux, even of
// an empty file and for a non-owner with write permission, and nothing on
// NetBSD; root's truncation clears nothing (measured on Linux 6.18, ext4:
// O_TRUNC by the owner of 06755 leaves 0755, of 06745 02745, of an empty
// 06755 file 0755; by uid 1001 of a 06777 file 0777; by root 06755).
TEST_P(PosixAttr, TruncateByNonRootClearsSetIdBits) {
  const bool bsd = netbsd();
  run([bsd](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& alice = fs.new_process("alice", vn::Cred{1000, 100, {}});
    auto& bob = fs.new_process("bob", vn::Cred{1001, 101, {}});
    auto open_trunc = [&](vfs::Proc& p, const std::string& path) {
      auto fd = k.open(p, path, O_WRONLY | O_TRUNC);
      ASSERT_TRUE(fd.ok()) << path << ": errno " << fd.err();
      EXPECT_TRUE(k.close(p, *fd).ok());
    };
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/a", 06755));
    append(fs, fs.proc(), "/a", "data");
    ASSERT_NO_FATAL_FAILURE(open_trunc(alice, "/a"));
    EXPECT_EQ(mode_of(fs, "/a"), bsd ? 06755u : 0755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/b", 06745));
    append(fs, fs.proc(), "/b", "data");
    ASSERT_NO_FATAL_FAILURE(open_trunc(alice, "/b"));
    EXPECT_EQ(mode_of(fs, "/b"), bsd ? 06745u : 02745u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/empty", 06755));
    ASSERT_NO_FATAL_FAILURE(open_trunc(alice, "/empty"));
    EXPECT_EQ(mode_of(fs, "/empty"), bsd ? 06755u : 0755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/other", 06777));
    ASSERT_NO_FATAL_FAILURE(open_trunc(bob, "/other"));
    EXPECT_EQ(mode_of(fs, "/other"), bsd ? 06777u : 0777u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/t", 06755));
    EXPECT_EQ(k.truncate(alice, "/t", 2).err(), 0);
    EXPECT_EQ(mode_of(fs, "/t"), bsd ? 06755u : 0755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/ft", 06755));
    auto fd = k.open(fs.proc(), "/ft", O_WRONLY);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(k.ftruncate(fs.proc(), *fd, 3).err(), 0);  // root: nothing cleared
    EXPECT_EQ(mode_of(fs, "/ft"), 06755u);
    EXPECT_TRUE(k.close(fs.proc(), *fd).ok());
    fd = k.open(alice, "/ft", O_WRONLY);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(k.ftruncate(alice, *fd, 1).err(), 0);
    EXPECT_EQ(mode_of(fs, "/ft"), bsd ? 06755u : 0755u);
    EXPECT_TRUE(k.close(alice, *fd).ok());
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/byroot", 06755));
    ASSERT_NO_FATAL_FAILURE(open_trunc(fs.proc(), "/byroot"));
    EXPECT_EQ(mode_of(fs, "/byroot"), 06755u);
    auto st = k.stat(fs.proc(), "/t");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->size, 2u);
  });
}

// Shows: chmod by an owner who is not root: the sticky bit on a file is
// EFTYPE on NetBSD and set on Linux, on a directory set in both; S_ISGID on
// a file of a group the owner is not in is EPERM on NetBSD and dropped on
// Linux (the rest of the mode set); root may do both everywhere.
TEST_P(PosixAttr, ChmodStickyAndSetgidByNonRoot) {
  const bool bsd = netbsd();
  run([bsd](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& alice = fs.new_process("alice", vn::Cred{1000, 100, {}});
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/f", 0644));
    EXPECT_EQ(k.chmod(alice, "/f", 01644).err(), bsd ? kEFTYPE : 0);
    EXPECT_EQ(mode_of(fs, "/f"), bsd ? 0644u : 01644u);
    ASSERT_TRUE(k.mkdir(fs.proc(), "/d", 0755).ok());
    ASSERT_TRUE(k.chown(fs.proc(), "/d", 1000, 100).ok());
    EXPECT_EQ(k.chmod(alice, "/d", 01755).err(), 0);
    EXPECT_EQ(mode_of(fs, "/d"), 01755u);
    ASSERT_NO_FATAL_FAILURE(alice_file(fs, "/g", 0644));
    ASSERT_TRUE(k.chown(fs.proc(), "/g", 1000, 0).ok());  // a group alice is not in
    EXPECT_EQ(k.chmod(alice, "/g", 02755).err(), bsd ? EPERM : 0);
    EXPECT_EQ(mode_of(fs, "/g"), bsd ? 0644u : 0755u);
    EXPECT_EQ(k.chmod(alice, "/g", 02755).err(), bsd ? EPERM : 0);
    EXPECT_EQ(k.chmod(fs.proc(), "/g", 03755).err(), 0);
    EXPECT_EQ(mode_of(fs, "/g"), 03755u);
  });
}

// Shows: bind(2) makes a socket node (S_IFSOCK, 0777 & ~umask, one name) and
// a second bind of the name is EADDRINUSE; open(2) of it answers ENXIO
// (Linux) or EOPNOTSUPP (NetBSD), even for root; connect(2) answers
// ECONNREFUSED (nothing listens), ENOENT for a missing name, and for a
// regular file ENOTSOCK (NetBSD) or ECONNREFUSED (Linux); the node can be
// renamed, hard-linked, chmod'ed, chown'ed and unlinked like a file.
TEST_P(PosixAttr, BindMakesASocketNode) {
  const bool bsd = netbsd();
  run([bsd](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_EQ(k.bind_unix(p, "/s").err(), 0);
    auto st = k.lstat(p, "/s");
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(S_ISSOCK(st->mode));
    EXPECT_EQ(st->mode & 07777, 0755u);  // the umask is 022
    EXPECT_EQ(st->nlink, 1u);
    EXPECT_EQ(k.bind_unix(p, "/s").err(), EADDRINUSE);
    EXPECT_EQ(k.open(p, "/s", O_RDONLY).err(), bsd ? EOPNOTSUPP : ENXIO);
    EXPECT_EQ(k.open(p, "/s", O_RDWR | O_CREAT, 0644).err(), bsd ? EOPNOTSUPP : ENXIO);
    EXPECT_EQ(k.connect_unix(p, "/s").err(), ECONNREFUSED);
    EXPECT_EQ(k.connect_unix(p, "/none").err(), ENOENT);
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    EXPECT_EQ(k.connect_unix(p, "/f").err(), bsd ? ENOTSOCK : ECONNREFUSED);
    EXPECT_EQ(k.rename(p, "/s", "/t").err(), 0);
    EXPECT_EQ(k.link(p, "/t", "/u").err(), 0);
    EXPECT_EQ(k.lstat(p, "/u")->nlink, 2u);
    EXPECT_EQ(k.chmod(p, "/u", 0700).err(), 0);
    EXPECT_EQ(k.chown(p, "/u", 1000, 100).err(), 0);
    st = k.lstat(p, "/t");
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(S_ISSOCK(st->mode));
    EXPECT_EQ(st->mode & 07777, 0700u);
    EXPECT_EQ(st->uid, 1000u);
    auto& bob = fs.new_process("bob", vn::Cred{1001, 101, {}});
    EXPECT_EQ(k.connect_unix(bob, "/t").err(), EACCES);
    EXPECT_EQ(k.unlink(p, "/t").err(), 0);
    EXPECT_EQ(k.unlink(p, "/u").err(), 0);
    EXPECT_EQ(k.lstat(p, "/u").err(), ENOENT);
  });
}

// Shows: utimensat(2) with nanoseconds: every file system keeps them (atime
// and mtime read back to the nanosecond): memfs and memfs through puffs in
// memory, ext2 (mke2fs's 256-byte inodes here) in the ext4 i_*_extra fields.
// 128-byte inodes keep whole seconds: cli_fs_tests
// FsSyscall.NanosecondTimesByInodeSize, against debugfs.
TEST_P(PosixAttr, NanosecondTimes) {
  run([](Ukfs& fs) {
    auto& k = fs.kernel();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    const Timespec times[2] = {{1'000'000'000, 123'456'789}, {1'100'000'000, 987'654'321}};
    ASSERT_EQ(k.utimensat(fs.proc(), AT_FDCWD, "/f", times, 0).err(), 0);
    auto st = k.stat(fs.proc(), "/f");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->atime / sim::kSecond, 1'000'000'000);
    EXPECT_EQ(st->mtime / sim::kSecond, 1'100'000'000);
    EXPECT_EQ(st->atime % sim::kSecond, 123'456'789);
    EXPECT_EQ(st->mtime % sim::kSecond, 987'654'321);
  });
}

INSTANTIATE_TEST_SUITE_P(
    Filesystems, PosixAttr,
    ::testing::Combine(::testing::Values(FsCase{"memfs", "memfs"}, FsCase{"ext2", "ext2"},
                                         FsCase{"memfs_through_puffs", "puffs"}),
                       ::testing::Values(Personality::NetBSD, Personality::Linux)),
    [](const auto& info) {
      return std::get<0>(info.param).name + "_" +
             std::string(personality_name(std::get<1>(info.param)));
    });

}  // namespace
}  // namespace vfsim::vfs
