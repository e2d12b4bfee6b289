// The calls a file server that names nodes rather than paths uses (vfsim
// mount's FUSE server): open_vnode (with and without O_PATH), AT_EMPTY_PATH
// and the empty path of readlinkat, fd_pass between processes, the f* forms
// of statvfs and the xattr calls, mknodat, renameat2's RENAME_NOREPLACE and a
// process's own descriptor limit. Each test does the call through ukfs on
// memfs and checks the result against what the path form answers.
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "vfs/namei.h"
#include "vfs/tests/test_util.h"

namespace vfsim::vfs {
namespace {

using testing::run_ukfs;
using ukfs::Ukfs;

// The referenced vnode a path names (the caller vreles it).
vn::Vnode* vnode_of(Ukfs& fs, std::string_view path) {
  Nameidata nd;
  EXPECT_TRUE(fs.kernel().namei(fs.proc(), AT_FDCWD, path, 0, &nd).ok());
  return nd.vp.release();
}

// Shows: open_vnode applies open(2)'s checks as the caller — a user without
// read permission gets EACCES, O_TRUNC truncates, a directory opened for
// writing is EISDIR, a symlink ELOOP, O_CREAT EINVAL — and the descriptor
// reads and writes like one open(2) returned.
TEST(NodeCalls, OpenVnodeChecksLikeOpen) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    ASSERT_TRUE(fs.write_file("/f", "hello").ok());
    ASSERT_TRUE(fs.chmod("/f", 0600).ok());
    ASSERT_TRUE(fs.symlink("/f", "/l").ok());
    vn::Vnode* f = vnode_of(fs, "/f");
    vn::Vnode* root = vnode_of(fs, "/");
    vn::Vnode* l = vnode_of(fs, "/l");
    Proc& user = fs.new_process("user", vn::Cred{1000, 1000, {}});
    EXPECT_EQ(k.open_vnode(user, *f, O_RDONLY).err(), EACCES);
    EXPECT_EQ(k.open_vnode(fs.proc(), *root, O_WRONLY).err(), EISDIR);
    EXPECT_EQ(k.open_vnode(fs.proc(), *l, O_RDONLY).err(), ELOOP);
    EXPECT_EQ(k.open_vnode(fs.proc(), *f, O_RDONLY | O_CREAT).err(), EINVAL);
    auto fd = k.open_vnode(fs.proc(), *f, O_RDWR);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(*k.pread(fs.proc(), *fd, 10, 0), "hello");
    ASSERT_TRUE(k.close(fs.proc(), *fd).ok());
    fd = k.open_vnode(fs.proc(), *f, O_WRONLY | O_TRUNC);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(k.fstat(fs.proc(), *fd)->size, 0u);
    ASSERT_TRUE(k.close(fs.proc(), *fd).ok());
    for (vn::Vnode* vp : {f, root, l}) k.vrele(*vp);
  });
}

// Shows: an O_PATH descriptor names any node with no permission check: it
// neither reads, writes nor lists (EBADF), but serves as an *at directory,
// and with AT_EMPTY_PATH (or readlinkat's empty path) as the node itself:
// fstatat, utimensat, faccessat, linkat and readlinkat see the node.
TEST(NodeCalls, PathDescriptorsNameTheNode) {
  run_ukfs(
      [](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        ASSERT_TRUE(fs.mkdir("/d", 0700).ok());
        ASSERT_TRUE(fs.write_file("/d/f", "data").ok());
        ASSERT_TRUE(fs.symlink("target", "/d/s").ok());
        vn::Vnode* d = vnode_of(fs, "/d");
        vn::Vnode* f = vnode_of(fs, "/d/f");
        vn::Vnode* s = vnode_of(fs, "/d/s");
        auto dfd = k.open_vnode(p, *d, O_PATH);
        auto ffd = k.open_vnode(p, *f, O_PATH);
        auto sfd = k.open_vnode(p, *s, O_PATH);
        ASSERT_TRUE(dfd.ok() && ffd.ok() && sfd.ok());
        EXPECT_EQ(k.read(p, *ffd, 4).err(), EBADF);
        EXPECT_EQ(k.write(p, *ffd, "x").err(), EBADF);
        EXPECT_EQ(k.getdents(p, *dfd).err(), EBADF);
        EXPECT_EQ(k.fsync(p, *ffd).err(), EBADF);
        // *at relative to the directory.
        EXPECT_TRUE(k.mkdirat(p, *dfd, "sub", 0755).ok());
        EXPECT_TRUE(fs.stat("/d/sub").ok());
        // The node itself.
        EXPECT_EQ(k.fstatat(p, *ffd, "", AT_EMPTY_PATH)->size, 4u);
        EXPECT_EQ(k.fstatat(p, *ffd, "", 0).err(), ENOENT);
        EXPECT_EQ(*k.readlinkat(p, *sfd, ""), "target");
        const Timespec t[2] = {{100, 0}, {200, 5}};
        EXPECT_TRUE(k.utimensat(p, *ffd, "", t, AT_EMPTY_PATH).ok());
        EXPECT_EQ(fs.stat("/d/f")->mtime, 200 * sim::kSecond + 5);
        EXPECT_TRUE(k.faccessat(p, *ffd, "", R_OK, AT_EMPTY_PATH).ok());
        EXPECT_TRUE(k.linkat(p, *ffd, "", *dfd, "hard", AT_EMPTY_PATH).ok());
        EXPECT_EQ(fs.stat("/d/hard")->ino, fs.stat("/d/f")->ino);
        EXPECT_TRUE(k.fchmod(p, *ffd, 0640).ok());
        EXPECT_EQ(fs.stat("/d/f")->mode & 07777, 0640u);
        EXPECT_TRUE(k.fstatvfs(p, *ffd).ok());
        for (int fd : {*dfd, *ffd, *sfd}) EXPECT_TRUE(k.close(p, fd).ok());
        for (vn::Vnode* vp : {d, f, s}) k.vrele(*vp);
        // openat(O_PATH) does the same by path, following a symlink unless
        // O_NOFOLLOW.
        auto byname = k.openat(p, AT_FDCWD, "/d/s", O_PATH | O_NOFOLLOW);
        ASSERT_TRUE(byname.ok());
        EXPECT_EQ(*k.readlinkat(p, *byname, ""), "target");
        EXPECT_TRUE(k.close(p, *byname).ok());
      },
      Personality::Linux);
}

// Shows: fd_pass moves an open file to another process (the same offset and
// file), leaves the old descriptor free, and VOP_CLOSE runs only at the
// last close in the receiver.
TEST(NodeCalls, FdPassMovesTheOpenFile) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    Proc& other = fs.new_process("other", vn::Cred{});
    ASSERT_TRUE(fs.write_file("/f", "abcdef").ok());
    auto fd = k.open(fs.proc(), "/f", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(*k.read(fs.proc(), *fd, 2), "ab");
    auto moved = k.fd_pass(fs.proc(), *fd, other);
    ASSERT_TRUE(moved.ok());
    EXPECT_EQ(k.read(fs.proc(), *fd, 2).err(), EBADF);
    EXPECT_EQ(*k.read(other, *moved, 2), "cd");
    EXPECT_TRUE(k.close(other, *moved).ok());
    EXPECT_EQ(k.fd_pass(fs.proc(), *fd, other).err(), EBADF);
  });
}

// Shows: fd_share gives a second process a descriptor of the same open file
// (one offset) while the first keeps its own; closing either leaves the
// other working, and the file is only closed with the last.
TEST(NodeCalls, FdShareKeepsBothDescriptors) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    Proc& other = fs.new_process("other", vn::Cred{});
    ASSERT_TRUE(fs.write_file("/f", "abcdef").ok());
    auto fd = k.open(fs.proc(), "/f", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(*k.read(fs.proc(), *fd, 2), "ab");
    auto shared = k.fd_share(fs.proc(), *fd, other);
    ASSERT_TRUE(shared.ok());
    EXPECT_EQ(*k.read(other, *shared, 2), "cd");
    EXPECT_EQ(*k.read(fs.proc(), *fd, 2), "ef");  // one offset
    EXPECT_TRUE(k.close(other, *shared).ok());
    EXPECT_EQ(*k.pread(fs.proc(), *fd, 3, 0), "abc");
    EXPECT_TRUE(k.close(fs.proc(), *fd).ok());
    EXPECT_EQ(k.fd_share(fs.proc(), *fd, other).err(), EBADF);
  });
}

// Shows: a process's own limit Proc::fd_max bounds its descriptors (EMFILE),
// above the default of 1024 too.
TEST(NodeCalls, DescriptorLimitPerProcess) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    ASSERT_TRUE(fs.write_file("/f", "x").ok());
    fs.proc().fd_max = 3;
    std::vector<int> fds;
    for (int i = 0; i < 3; ++i) fds.push_back(*k.open(fs.proc(), "/f", O_RDONLY));
    EXPECT_EQ(k.open(fs.proc(), "/f", O_RDONLY).err(), EMFILE);
    for (int fd : fds) EXPECT_TRUE(k.close(fs.proc(), fd).ok());
    fs.proc().fd_max = 2000;
    for (int i = 0; i < 1500; ++i) fds.push_back(*k.open(fs.proc(), "/f", O_RDONLY));
    EXPECT_EQ(fds.back(), 1499);
    for (std::size_t i = 3; i < fds.size(); ++i) EXPECT_TRUE(k.close(fs.proc(), fds[i]).ok());
  });
}

// Shows: releasing many of many open files out of order (which leaves
// empty slots in the kernel's file table and squeezes them out once more
// than half are empty) keeps every other descriptor naming its own file,
// and the kernel's invariants (each file's references against the
// descriptors) hold after each round.
TEST(NodeCalls, ManyFilesReleasedOutOfOrder) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    constexpr int kFiles = 400;
    std::vector<int> fds;
    std::vector<std::uint64_t> inos;
    for (int i = 0; i < kFiles; ++i) {
      const std::string path = "/f" + std::to_string(i);
      ASSERT_TRUE(fs.write_file(path, "x").ok());
      fds.push_back(*k.open(p, path, O_PATH));
      inos.push_back(fs.stat(path)->ino);
    }
    // Every third from the top, then every other of the rest from the
    // bottom: more than half released, not in id order.
    std::vector<bool> open(kFiles, true);
    for (int i = kFiles - 1; i >= 0; i -= 3) {
      ASSERT_TRUE(k.close(p, fds[i]).ok());
      open[i] = false;
    }
    EXPECT_EQ(k.check_invariants(), "");
    for (int i = 0, n = 0; i < kFiles; ++i) {
      if (open[i] && n++ % 2 == 0) {
        ASSERT_TRUE(k.close(p, fds[i]).ok());
        open[i] = false;
      }
    }
    EXPECT_EQ(k.check_invariants(), "");
    int left = 0;
    for (int i = 0; i < kFiles; ++i) {
      if (!open[i]) continue;
      ++left;
      auto st = k.fstat(p, fds[i]);
      ASSERT_TRUE(st.ok()) << i;
      EXPECT_EQ(st->ino, inos[i]) << i;
    }
    EXPECT_GT(left, 100);
    for (int i = 0; i < kFiles; ++i) {
      if (open[i]) {
        EXPECT_TRUE(k.close(p, fds[i]).ok());
      }
    }
    EXPECT_EQ(k.check_invariants(), "");
    EXPECT_EQ(k.fstat(p, fds[0]).err(), EBADF);
  });
}

// Shows: flistxattr and fremovexattr do what listxattr and removexattr do
// by path.
TEST(NodeCalls, XattrByDescriptor) {
  run_ukfs(
      [](Ukfs& fs) {
        auto& k = fs.kernel();
        auto& p = fs.proc();
        ASSERT_TRUE(fs.write_file("/f", "x").ok());
        ASSERT_TRUE(k.setxattr(p, "/f", "user.a", "1", 0).ok());
        ASSERT_TRUE(k.setxattr(p, "/f", "user.b", "2", 0).ok());
        auto fd = k.open(p, "/f", O_RDONLY);
        ASSERT_TRUE(fd.ok());
        EXPECT_EQ(*k.flistxattr(p, *fd), (std::vector<std::string>{"user.a", "user.b"}));
        EXPECT_EQ(k.flistxattr(p, *fd, 3).err(), ERANGE);
        EXPECT_TRUE(k.fremovexattr(p, *fd, "user.a").ok());
        EXPECT_EQ(k.fremovexattr(p, *fd, "user.a").err(), ENODATA);
        EXPECT_EQ(*k.listxattr(p, "/f"), (std::vector<std::string>{"user.b"}));
        EXPECT_TRUE(k.close(p, *fd).ok());
      },
      Personality::Linux);
}

// Shows: mknodat makes the node relative to a directory descriptor, and
// renameat2 with RENAME_NOREPLACE refuses an existing target (EEXIST) but
// renames onto a free name; other flags are EINVAL.
TEST(NodeCalls, MknodatAndRenameNoreplace) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    auto dfd = k.open(p, "/d", O_RDONLY | O_DIRECTORY);
    ASSERT_TRUE(dfd.ok());
    EXPECT_TRUE(k.mknodat(p, *dfd, "fifo", S_IFIFO | 0644, 0).ok());
    EXPECT_TRUE(S_ISFIFO(fs.lstat("/d/fifo")->mode));
    ASSERT_TRUE(fs.write_file("/d/a", "a").ok());
    ASSERT_TRUE(fs.write_file("/d/b", "b").ok());
    EXPECT_EQ(k.renameat2(p, *dfd, "a", *dfd, "b", RENAME_NOREPLACE).err(), EEXIST);
    EXPECT_EQ(*fs.read_file("/d/b"), "b");
    EXPECT_TRUE(k.renameat2(p, *dfd, "a", *dfd, "c", RENAME_NOREPLACE).ok());
    EXPECT_EQ(*fs.read_file("/d/c"), "a");
    EXPECT_EQ(k.renameat2(p, *dfd, "c", *dfd, "b", RENAME_EXCHANGE).err(), EINVAL);
    EXPECT_EQ(k.renameat2(p, *dfd, "c", *dfd, "b", 1u << 7).err(), EINVAL);
    EXPECT_TRUE(k.close(p, *dfd).ok());
  });
}

}  // namespace
}  // namespace vfsim::vfs
