// Per-syscall errno tests: each test shows one call answering the errno
// POSIX specifies, at the place POSIX puts it, through ukfs on memfs.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vfs/tests/test_util.h"

namespace vfsim::vfs {
namespace {

using testing::run_ukfs;
using ukfs::Ukfs;

vn::Cred user(vn::Uid uid, vn::Gid gid = 100) { return vn::Cred{uid, gid, {}}; }

// Shows: namei's errors — empty path ENOENT, missing component ENOENT, a
// file used as a directory ENOTDIR, NAME_MAX and PATH_MAX ENAMETOOLONG.
TEST(Namei, PathErrors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    EXPECT_EQ(k.stat(p, "").err(), ENOENT);
    EXPECT_EQ(k.stat(p, "/nope/x").err(), ENOENT);
    EXPECT_EQ(k.stat(p, "/f/x").err(), ENOTDIR);
    EXPECT_EQ(k.stat(p, "/" + std::string(256, 'a')).err(), ENAMETOOLONG);
    EXPECT_TRUE(k.mkdir(p, "/" + std::string(255, 'a'), 0755).ok());
    std::string deep;
    while (deep.size() < 1024) deep += "/d";
    EXPECT_EQ(k.stat(p, deep).err(), ENAMETOOLONG);
  });
}

// Shows: a trailing slash demands a directory: stat("f/") and unlink("f/")
// are ENOTDIR, mkdir("d/") and rmdir("d/") work, open("new/", O_CREAT) is EISDIR.
TEST(Namei, TrailingSlash) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    EXPECT_EQ(k.stat(p, "/f/").err(), ENOTDIR);
    EXPECT_EQ(k.unlink(p, "/f/").err(), ENOTDIR);
    EXPECT_TRUE(k.mkdir(p, "/d/", 0755).ok());
    EXPECT_TRUE(k.stat(p, "/d/").ok());
    EXPECT_EQ(k.open(p, "/new/", O_CREAT | O_WRONLY, 0644).err(), EISDIR);
    EXPECT_TRUE(k.rmdir(p, "/d/").ok());
  });
}

// Shows: symlink loops end in ELOOP; a chain of exactly 32 links resolves,
// 33 is ELOOP; a trailing slash follows a final symlink even for lstat.
TEST(Namei, SymlinkLimit) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.symlink("/a", "/b").ok());
    ASSERT_TRUE(fs.symlink("/b", "/a").ok());
    EXPECT_EQ(k.stat(p, "/a").err(), ELOOP);
    ASSERT_TRUE(fs.write_file("/t", "x").ok());
    std::string prev = "/t";
    for (int i = 1; i <= 33; ++i) {
      std::string name = "/l" + std::to_string(i);
      ASSERT_TRUE(fs.symlink(prev, name).ok());
      prev = name;
    }
    EXPECT_TRUE(k.stat(p, "/l32").ok());
    EXPECT_EQ(k.stat(p, "/l33").err(), ELOOP);
    ASSERT_TRUE(fs.mkdir("/dir", 0755).ok());
    ASSERT_TRUE(fs.symlink("/dir", "/ld").ok());
    auto st = k.lstat(p, "/ld/");
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(S_ISDIR(st->mode));
  });
}

// Shows: search permission on every directory of a path (EACCES), root
// bypasses it, and ".." at "/" stays at "/".
TEST(Namei, SearchPermission) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    ASSERT_TRUE(fs.mkdir("/priv", 0700).ok());
    ASSERT_TRUE(fs.write_file("/priv/f", "x").ok());
    auto& u = fs.new_process("u", user(1000));
    EXPECT_EQ(k.stat(u, "/priv/f").err(), EACCES);
    EXPECT_TRUE(k.stat(fs.proc(), "/priv/f").ok());
    auto a = k.stat(fs.proc(), "/../../priv/../priv/f");
    EXPECT_TRUE(a.ok());
  });
}

// Shows: ".." at the root of a mounted file system leads to the directory
// it is mounted on's parent; mount needs root (EPERM), a directory
// (ENOTDIR), a known type (ENODEV); unmount of a busy mount is EBUSY.
TEST(Mount, DotDotCrossesMountPoints) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.mkdir("/mnt", 0755).ok());
    ASSERT_TRUE(fs.write_file("/top", "t").ok());
    ASSERT_TRUE(fs.write_file("/file", "f").ok());
    auto& u = fs.new_process("u", user(1000));
    EXPECT_EQ(k.mount(u, "memfs", "/mnt", {}).err(), EPERM);
    EXPECT_EQ(k.mount(p, "memfs", "/file", {}).err(), ENOTDIR);
    EXPECT_EQ(k.mount(p, "nosuchfs", "/mnt", {}).err(), ENODEV);
    ASSERT_TRUE(k.mount(p, "memfs", "/mnt", {}).ok());
    ASSERT_TRUE(fs.write_file("/mnt/inner", "i").ok());
    EXPECT_EQ(*fs.read_file("/mnt/../top"), "t");
    EXPECT_EQ(k.link(p, "/mnt/inner", "/x").err(), EXDEV);
    EXPECT_EQ(k.rename(p, "/mnt/inner", "/x").err(), EXDEV);
    auto fd = k.open(p, "/mnt/inner", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(k.unmount(p, "/mnt").err(), EBUSY);
    EXPECT_EQ(k.rmdir(p, "/mnt").err(), EBUSY);
    ASSERT_TRUE(k.close(p, *fd).ok());
    EXPECT_TRUE(k.unmount(p, "/mnt").ok());
    EXPECT_EQ(k.stat(p, "/mnt/inner").err(), ENOENT);
  });
}

// Shows: open's errors — ENOENT without O_CREAT, EEXIST with O_CREAT|O_EXCL
// (also on a symlink), EISDIR for writing a directory, ENOTDIR for
// O_DIRECTORY on a file, ELOOP for O_NOFOLLOW on a symlink, EACCES without
// permission, EINVAL for a bad access mode, EBADF on bad descriptors.
TEST(Open, Errors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    ASSERT_TRUE(fs.symlink("/dangling", "/s").ok());
    EXPECT_EQ(k.open(p, "/none", O_RDONLY).err(), ENOENT);
    EXPECT_EQ(k.open(p, "/f", O_CREAT | O_EXCL | O_WRONLY, 0644).err(), EEXIST);
    EXPECT_EQ(k.open(p, "/s", O_CREAT | O_EXCL | O_WRONLY, 0644).err(), EEXIST);
    EXPECT_EQ(k.open(p, "/d", O_WRONLY).err(), EISDIR);
    EXPECT_EQ(k.open(p, "/d", O_RDONLY | O_TRUNC).err(), EISDIR);
    EXPECT_EQ(k.open(p, "/f", O_RDONLY | O_DIRECTORY).err(), ENOTDIR);
    EXPECT_EQ(k.open(p, "/s", O_RDONLY | O_NOFOLLOW).err(), ELOOP);
    EXPECT_EQ(k.open(p, "/f", O_ACCMODE).err(), EINVAL);
    ASSERT_TRUE(fs.chmod("/f", 0600).ok());
    auto& u = fs.new_process("u", user(1000));
    EXPECT_EQ(k.open(u, "/f", O_RDONLY).err(), EACCES);
    EXPECT_EQ(k.open(u, "/d/new", O_CREAT | O_WRONLY, 0644).err(), EACCES);
    EXPECT_EQ(k.close(p, 99).err(), EBADF);
    EXPECT_EQ(k.read(p, -1, 1).err(), EBADF);
    // O_CREAT through a dangling symlink creates its target.
    auto fd = k.open(p, "/s", O_CREAT | O_WRONLY, 0644);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(k.close(p, *fd).ok());
    EXPECT_TRUE(k.stat(p, "/dangling").ok());
  });
}

// Shows: read/write need the right access mode (EBADF), a directory reads
// as EISDIR, pread/pwrite refuse negative offsets (EINVAL), lseek refuses a
// bad whence or a negative result (EINVAL), O_APPEND writes at the end.
TEST(Io, Errors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    auto w = k.open(p, "/f", O_CREAT | O_WRONLY, 0644);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(k.read(p, *w, 4).err(), EBADF);
    EXPECT_EQ(*k.write(p, *w, "hello"), 5u);
    EXPECT_EQ(k.pwrite(p, *w, "x", -1).err(), EINVAL);
    EXPECT_EQ(k.lseek(p, *w, 0, 42).err(), EINVAL);
    EXPECT_EQ(k.lseek(p, *w, -10, SEEK_SET).err(), EINVAL);
    EXPECT_EQ(*k.lseek(p, *w, -1, SEEK_END), 4);
    auto r = k.open(p, "/f", O_RDONLY);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(k.write(p, *r, "x").err(), EBADF);
    EXPECT_EQ(k.pread(p, *r, 1, -1).err(), EINVAL);
    EXPECT_EQ(*k.pread(p, *r, 3, 1), "ell");
    auto a = k.open(p, "/f", O_WRONLY | O_APPEND);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(k.write(p, *a, "!").ok());
    EXPECT_EQ(*fs.read_file("/f"), "hello!");
    auto d = k.open(p, "/", O_RDONLY);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(k.read(p, *d, 1).err(), EISDIR);
    EXPECT_EQ(k.getdents(p, *r).err(), ENOTDIR);
    for (int fd : {*w, *r, *a, *d}) EXPECT_TRUE(k.close(p, fd).ok());
  });
}

// Shows: truncate/ftruncate — EINVAL for a negative length or a descriptor
// not open for writing, EISDIR on a directory, EACCES without write
// permission; growing reads back zeros.
TEST(Truncate, Errors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "abc").ok());
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    EXPECT_EQ(k.truncate(p, "/f", -1).err(), EINVAL);
    EXPECT_EQ(k.truncate(p, "/d", 0).err(), EISDIR);
    ASSERT_TRUE(k.truncate(p, "/f", 5).ok());
    EXPECT_EQ(*fs.read_file("/f"), std::string("abc\0\0", 5));
    auto r = k.open(p, "/f", O_RDONLY);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(k.ftruncate(p, *r, 0).err(), EINVAL);
    ASSERT_TRUE(k.close(p, *r).ok());
    auto& u = fs.new_process("u", user(1000));
    EXPECT_EQ(k.truncate(u, "/f", 0).err(), EACCES);
  });
}

// Shows: mkdir's EEXIST (also for "/" and "."), rmdir's ENOTEMPTY,
// ENOTDIR, EINVAL for ".", EBUSY for "/", ENOENT for a missing name.
TEST(Dirs, MkdirRmdirErrors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    ASSERT_TRUE(fs.write_file("/d/f", "x").ok());
    EXPECT_EQ(k.mkdir(p, "/d", 0755).err(), EEXIST);
    EXPECT_EQ(k.mkdir(p, "/", 0755).err(), EEXIST);
    EXPECT_EQ(k.mkdir(p, "/d/.", 0755).err(), EEXIST);
    EXPECT_EQ(k.mkdir(p, "/nope/x", 0755).err(), ENOENT);
    EXPECT_EQ(k.rmdir(p, "/d").err(), ENOTEMPTY);
    EXPECT_EQ(k.rmdir(p, "/d/f").err(), ENOTDIR);
    EXPECT_EQ(k.rmdir(p, "/d/.").err(), EINVAL);
    EXPECT_EQ(k.rmdir(p, "/").err(), EBUSY);
    EXPECT_EQ(k.rmdir(p, "/none").err(), ENOENT);
    auto& u = fs.new_process("u", user(1000));
    EXPECT_EQ(k.mkdir(u, "/x", 0755).err(), EACCES);
  });
}

// Shows: unlink's ENOENT and EACCES; the sticky bit lets only the owner of
// the file or directory (or root) remove or rename an entry (EPERM).
TEST(Dirs, UnlinkAndSticky) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.mkdir("/tmp", 01777).ok());
    ASSERT_TRUE(fs.chmod("/tmp", 01777).ok());
    auto& alice = fs.new_process("alice", user(1001));
    auto& bob = fs.new_process("bob", user(1002));
    auto fd = k.open(alice, "/tmp/a", O_CREAT | O_WRONLY, 0666);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(k.close(alice, *fd).ok());
    EXPECT_EQ(k.unlink(bob, "/tmp/a").err(), EPERM);
    EXPECT_EQ(k.rename(bob, "/tmp/a", "/tmp/b").err(), EPERM);
    EXPECT_EQ(k.unlink(bob, "/tmp/none").err(), ENOENT);
    EXPECT_TRUE(k.unlink(alice, "/tmp/a").ok());
    ASSERT_TRUE(fs.write_file("/rootfile", "x").ok());
    EXPECT_EQ(k.unlink(bob, "/rootfile").err(), EACCES);
    EXPECT_TRUE(k.unlink(p, "/rootfile").ok());
  });
}

// Shows: link's EEXIST, EPERM for a directory, ENOENT for a missing source;
// symlink's EEXIST and ENOENT for an empty target; readlink's EINVAL.
TEST(Links, Errors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    EXPECT_EQ(k.link(p, "/f", "/d").err(), EEXIST);
    EXPECT_EQ(k.link(p, "/d", "/d2").err(), EPERM);
    EXPECT_EQ(k.link(p, "/none", "/x").err(), ENOENT);
    EXPECT_EQ(k.linkat(p, AT_FDCWD, "/f", AT_FDCWD, "/y", 0x4000).err(), EINVAL);
    ASSERT_TRUE(k.link(p, "/f", "/g").ok());
    EXPECT_EQ(k.stat(p, "/f")->nlink, 2u);
    EXPECT_EQ(k.symlink(p, "x", "/f").err(), EEXIST);
    EXPECT_EQ(k.symlink(p, "", "/e").err(), ENOENT);
    EXPECT_EQ(k.readlink(p, "/f").err(), EINVAL);
    ASSERT_TRUE(k.symlink(p, "/f", "/s").ok());
    EXPECT_EQ(*k.readlink(p, "/s"), "/f");
    EXPECT_EQ(*k.readlink(p, "/s", 1), "/");
  });
}

// Shows: rename's rules — ENOENT for a missing source, EISDIR (file onto a
// directory), ENOTDIR (directory onto a file), ENOTEMPTY (onto a non-empty
// directory), EINVAL (a directory into itself), and success as a no-op for
// two names of one file.
TEST(Rename, Errors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    ASSERT_TRUE(fs.mkdir("/e", 0755).ok());
    ASSERT_TRUE(fs.write_file("/e/in", "y").ok());
    EXPECT_EQ(k.rename(p, "/none", "/x").err(), ENOENT);
    EXPECT_EQ(k.rename(p, "/f", "/d").err(), EISDIR);
    EXPECT_EQ(k.rename(p, "/d", "/f").err(), ENOTDIR);
    EXPECT_EQ(k.rename(p, "/d", "/e").err(), ENOTEMPTY);
    EXPECT_EQ(k.rename(p, "/d", "/d/sub").err(), EINVAL);
    EXPECT_EQ(k.rename(p, "/f", "/x/").err(), ENOTDIR);
    ASSERT_TRUE(k.link(p, "/f", "/f2").ok());
    EXPECT_TRUE(k.rename(p, "/f", "/f2").ok());
    EXPECT_TRUE(k.stat(p, "/f").ok());  // both names stay
    EXPECT_TRUE(k.rename(p, "/d", "/e/in2").ok());
    EXPECT_EQ(k.stat(p, "/e")->nlink, 3u);
    EXPECT_TRUE(k.rename(p, "/f", "/e/in").ok());  // replaces a file
    EXPECT_EQ(*fs.read_file("/e/in"), "x");
  });
}

// Shows: chmod/chown by a non-owner is EPERM; an owner may change the group
// only to one of its groups; utimensat with explicit times needs ownership
// (EPERM), with "now" write permission (EACCES); access(2) checks bits.
TEST(Attrs, OwnershipRules) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    ASSERT_TRUE(fs.chmod("/f", 0644).ok());
    auto& u = fs.new_process("u", vn::Cred{1000, 100, {200}});
    EXPECT_EQ(k.chmod(u, "/f", 0777).err(), EPERM);
    EXPECT_EQ(k.chown(u, "/f", 1000, 100).err(), EPERM);
    ASSERT_TRUE(k.chown(p, "/f", 1000, 100).ok());
    EXPECT_TRUE(k.chown(u, "/f", static_cast<vn::Uid>(-1), 200).ok());
    EXPECT_EQ(k.chown(u, "/f", static_cast<vn::Uid>(-1), 300).err(), EPERM);
    EXPECT_EQ(k.chown(u, "/f", 0, static_cast<vn::Gid>(-1)).err(), EPERM);
    ASSERT_TRUE(fs.write_file("/g", "x").ok());
    Timespec t[2] = {{5, 0}, {6, 0}};
    EXPECT_EQ(k.utimensat(u, AT_FDCWD, "/g", t, 0).err(), EPERM);
    EXPECT_EQ(k.utimensat(u, AT_FDCWD, "/g", nullptr, 0).err(), EACCES);
    ASSERT_TRUE(k.utimensat(p, AT_FDCWD, "/g", t, 0).ok());
    EXPECT_EQ(k.stat(p, "/g")->mtime, 6 * sim::kSecond);
    Timespec bad[2] = {{0, 2'000'000'000}, {0, 0}};
    EXPECT_EQ(k.utimensat(p, AT_FDCWD, "/g", bad, 0).err(), EINVAL);
    EXPECT_EQ(k.access(u, "/g", W_OK).err(), EACCES);
    EXPECT_TRUE(k.access(u, "/g", R_OK).ok());
    EXPECT_EQ(k.access(p, "/g", X_OK).err(), EACCES);  // root needs an x bit
    EXPECT_EQ(k.access(u, "/g", 0100).err(), EINVAL);
  });
}

// Shows: mknod needs root for device nodes (EPERM) but not for fifos; a
// fifo cannot be seeked (ESPIPE); an unknown type is EINVAL.
TEST(Nodes, MknodAndFifo) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    auto& u = fs.new_process("u", user(1000));
    ASSERT_TRUE(fs.mkdir("/pub", 0777).ok());
    ASSERT_TRUE(fs.chmod("/pub", 0777).ok());
    EXPECT_EQ(k.mknod(u, "/pub/c", S_IFCHR | 0600, 0x0102).err(), EPERM);
    EXPECT_TRUE(k.mknod(p, "/c", S_IFCHR | 0600, 0x0102).ok());
    EXPECT_EQ(k.stat(p, "/c")->rdev, 0x0102u);
    EXPECT_TRUE(k.mkfifo(u, "/pub/fifo", 0600).ok());
    EXPECT_EQ(k.mkfifo(u, "/pub/fifo", 0600).err(), EEXIST);
    EXPECT_EQ(k.mknod(p, "/x", S_IFDIR | 0755, 0).err(), EINVAL);
    auto fd = k.open(p, "/pub/fifo", O_RDWR);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(k.lseek(p, *fd, 0, SEEK_SET).err(), ESPIPE);
    EXPECT_EQ(k.pread(p, *fd, 1, 0).err(), ESPIPE);
    ASSERT_TRUE(k.close(p, *fd).ok());
  });
}

// Shows: character and block device nodes cannot be opened (ENXIO: no
// driver is configured for any major), but only after the permission check
// (EACCES first).
TEST(Nodes, DevicesAreEnxio) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(k.mknod(p, "/c", S_IFCHR | 0600, 0x0102).ok());
    ASSERT_TRUE(k.mknod(p, "/b", S_IFBLK | 0600, 0x0304).ok());
    EXPECT_EQ(k.open(p, "/c", O_RDONLY).err(), ENXIO);
    EXPECT_EQ(k.open(p, "/b", O_RDWR).err(), ENXIO);
    EXPECT_EQ(k.open(p, "/c", O_WRONLY | O_NONBLOCK).err(), ENXIO);
    auto& u = fs.new_process("u", user(1000));
    EXPECT_EQ(k.open(u, "/c", O_RDONLY).err(), EACCES);
  });
}

// Shows: the *at calls resolve relative paths from the descriptor, EBADF
// for a bad one and ENOTDIR for a file descriptor; absolute paths ignore it.
TEST(AtCalls, DirectoryDescriptors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    auto dfd = k.open(p, "/d", O_RDONLY | O_DIRECTORY);
    ASSERT_TRUE(dfd.ok());
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    auto ffd = k.open(p, "/f", O_RDONLY);
    ASSERT_TRUE(ffd.ok());
    EXPECT_TRUE(k.mkdirat(p, *dfd, "sub", 0755).ok());
    EXPECT_TRUE(k.stat(p, "/d/sub").ok());
    EXPECT_EQ(k.mkdirat(p, 77, "sub2", 0755).err(), EBADF);
    EXPECT_EQ(k.mkdirat(p, *ffd, "sub2", 0755).err(), ENOTDIR);
    EXPECT_TRUE(k.mkdirat(p, 77, "/abs", 0755).ok());
    auto fd = k.openat(p, *dfd, "g", O_CREAT | O_WRONLY, 0644);
    ASSERT_TRUE(fd.ok());
    EXPECT_TRUE(k.symlinkat(p, "g", *dfd, "lg").ok());
    EXPECT_EQ(*k.readlinkat(p, *dfd, "lg"), "g");
    EXPECT_TRUE(k.fstatat(p, *dfd, "lg", 0).ok());
    EXPECT_TRUE(k.renameat(p, *dfd, "g", *dfd, "h").ok());
    EXPECT_TRUE(k.unlinkat(p, *dfd, "h", 0).ok());
    EXPECT_TRUE(k.unlinkat(p, *dfd, "sub", AT_REMOVEDIR).ok());
    EXPECT_TRUE(k.faccessat(p, *dfd, "lg", F_OK, AT_SYMLINK_NOFOLLOW).ok());
    for (int f : {*dfd, *ffd, *fd}) EXPECT_TRUE(k.close(p, f).ok());
  });
}

// Shows: memfs's limits answer ENOSPC — the inode limit for creates, the
// size limit for writes and growing truncates — and statvfs reports them.
TEST(Limits, Enospc) {
  ukfs::Options o;
  o.args = {{"size_max", "16384"}, {"inodes_max", "4"}};
  run_ukfs(
      [](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        ASSERT_TRUE(fs.write_file("/a", std::string(8192, 'a')).ok());
        EXPECT_EQ(fs.write_file("/b", std::string(12288, 'b')).err(), ENOSPC);
        EXPECT_EQ(k.truncate(p, "/a", 1 << 20).err(), ENOSPC);
        ASSERT_TRUE(fs.mkdir("/c", 0755).ok());
        EXPECT_EQ(k.mkdir(p, "/d", 0755).err(), ENOSPC);
        auto sv = k.statvfs(p, "/");
        ASSERT_TRUE(sv.ok());
        EXPECT_EQ(sv->blocks, 4u);
        EXPECT_EQ(sv->files, 4u);
        EXPECT_EQ(sv->ffree, 0u);
        ASSERT_TRUE(k.unlink(p, "/b").ok());
        EXPECT_EQ(k.statvfs(p, "/")->ffree, 1u);
      },
      Personality::NetBSD, o);
}

// Shows: both xattr APIs and the PERFUSE mapping — Linux names keep their
// prefix, trusted./system./security. go to the system namespace (root
// only: EPERM), user. needs file permission (EACCES); ENODATA, EEXIST and
// ERANGE where Linux puts them; the BSD API sees the same attributes.
TEST(Xattr, BothApis) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    ASSERT_TRUE(fs.chmod("/f", 0644).ok());
    ASSERT_TRUE(k.setxattr(p, "/f", "user.a", "1", 0).ok());
    ASSERT_TRUE(k.setxattr(p, "/f", "trusted.glusterfs.gfid", "g", 0).ok());
    EXPECT_EQ(k.setxattr(p, "/f", "user.a", "2", XATTR_CREATE).err(), EEXIST);
    EXPECT_EQ(k.setxattr(p, "/f", "user.b", "2", XATTR_REPLACE).err(), ENODATA);
    EXPECT_EQ(k.getxattr(p, "/f", "user.none").err(), ENODATA);
    EXPECT_EQ(k.getxattr(p, "/f", "user.a", 0).value(), "1");
    ASSERT_TRUE(k.setxattr(p, "/f", "user.long", "12345", 0).ok());
    EXPECT_EQ(k.getxattr(p, "/f", "user.long", 2).err(), ERANGE);
    EXPECT_EQ(k.setxattr(p, "/f", "", "v", 0).err(), ERANGE);
    auto names = k.listxattr(p, "/f");
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"user.a", "user.long", "trusted.glusterfs.gfid"}));
    EXPECT_EQ(k.listxattr(p, "/f", 5).err(), ERANGE);
    // The BSD API: system namespace holds the trusted. name as given.
    EXPECT_EQ(*k.extattr_get_file(p, "/f", 2, "trusted.glusterfs.gfid"), "g");
    EXPECT_EQ(*k.extattr_get_file(p, "/f", 1, "user.a"), "1");
    EXPECT_EQ(*k.extattr_set_file(p, "/f", 1, "plain", "bsd"), 3u);
    EXPECT_EQ(k.extattr_get_file(p, "/f", 3, "x").err(), EINVAL);
    EXPECT_EQ(k.extattr_get_file(p, "/f", 1, "nope").err(), ENODATA);
    EXPECT_EQ(*k.getxattr(p, "/f", "plain"), "bsd");  // netbsd: no prefix -> user
    auto& u = fs.new_process("u", user(1000));
    EXPECT_EQ(k.getxattr(u, "/f", "trusted.glusterfs.gfid").err(), EPERM);
    EXPECT_EQ(k.setxattr(u, "/f", "user.a", "3", 0).err(), EACCES);
    EXPECT_EQ(*k.getxattr(u, "/f", "user.a"), "1");
    EXPECT_EQ(k.listxattr(u, "/f")->size(), 3u);  // no system names for users
    ASSERT_TRUE(k.removexattr(p, "/f", "user.a").ok());
    EXPECT_EQ(k.removexattr(p, "/f", "user.a").err(), ENODATA);
    EXPECT_EQ(k.setxattr(p, "/f", "user.big", std::string(70000, 'v'), 0).err(), E2BIG);
  });
}

// Shows: a file keeps its data after its last name is gone until the last
// descriptor closes (nlink 0 while open), and the vnode is then reclaimed.
TEST(Lifetime, UnlinkedOpenFile) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    auto fd = k.open(p, "/f", O_CREAT | O_RDWR, 0644);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(k.write(p, *fd, "data").ok());
    ASSERT_TRUE(k.unlink(p, "/f").ok());
    EXPECT_EQ(k.fstat(p, *fd)->nlink, 0u);
    EXPECT_EQ(*k.pread(p, *fd, 4, 0), "data");
    const auto before = k.vcache().stats().reclaims;
    ASSERT_TRUE(k.close(p, *fd).ok());
    EXPECT_EQ(k.vcache().stats().reclaims, before + 1);
    EXPECT_EQ(k.fstat(p, *fd).err(), EBADF);
  });
}

}  // namespace
}  // namespace vfsim::vfs
