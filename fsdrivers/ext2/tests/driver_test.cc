// Tests of the ext2 VOP driver through the whole machine: images made by
// `mke2fs -t ext2` (empty, and with -d from a host tree) are mounted as "/"
// of a fresh machine through the VFS; each test runs system calls, unmounts
// (writing the image back through the block-device model), and requires
// `e2fsck -fn` to find the written image clean. Also: a corrupt image is
// refused with a one-line reason, disk faults become errnos rather than
// crashes, and concurrent writers under many schedules leave a clean image.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "boot/world.h"
#include "fsdrivers/ext2/ext2_node.h"
#include "fsdrivers/ext2/tests/driver_util.h"
#include "fsdrivers/ext2/tests/image_util.h"
#include "sim/tests/test_util.h"

namespace vfsim::ext2drv::test {
namespace {

namespace fs = std::filesystem;
using ext2::test::fsck;
using ext2::test::make_image;
using ext2::test::scratch_dir;

std::string read_all(vfs::Kernel& k, vfs::Proc& p, std::string_view path) {
  auto fd = k.open(p, path, O_RDONLY);
  EXPECT_TRUE(fd.ok()) << path << " errno " << fd.err();
  if (!fd.ok()) return {};
  std::string all;
  for (;;) {
    auto chunk = k.read(p, *fd, 100000);
    EXPECT_TRUE(chunk.ok()) << path;
    if (!chunk.ok() || chunk->empty()) break;
    all += *chunk;
  }
  EXPECT_TRUE(k.close(p, *fd).ok());
  return all;
}

void write_all(vfs::Kernel& k, vfs::Proc& p, std::string_view path, std::string_view data,
               int flags = O_WRONLY | O_CREAT | O_TRUNC) {
  auto fd = k.open(p, path, flags, 0644);
  ASSERT_TRUE(fd.ok()) << path << " errno " << fd.err();
  auto n = k.write(p, *fd, data);
  EXPECT_TRUE(n.ok() && *n == data.size()) << path;
  EXPECT_TRUE(k.close(p, *fd).ok());
}

std::vector<std::string> names(vfs::Kernel& k, vfs::Proc& p, std::string_view dir) {
  std::vector<std::string> out;
  auto fd = k.open(p, dir, O_RDONLY | O_DIRECTORY);
  EXPECT_TRUE(fd.ok()) << dir;
  if (!fd.ok()) return out;
  for (;;) {
    auto ents = k.getdents(p, *fd, 7);
    EXPECT_TRUE(ents.ok());
    if (!ents.ok() || ents->empty()) break;
    for (auto& e : *ents) out.push_back(e.name);
  }
  EXPECT_TRUE(k.close(p, *fd).ok());
  std::sort(out.begin(), out.end());
  return out;
}

std::string big_text(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 31 + seed) % 26);
  return s;
}

void expect_clean(const fs::path& img) {
  std::string report;
  EXPECT_EQ(fsck(img, &report), 0) << report;
}

// A tree made on the host and put into the image by mke2fs -d reads back
// through the driver: names, contents (a 300 KiB file crosses the indirect
// blocks), a sparse file's hole, fast and slow symlinks, hard links, a fifo;
// and the image stays clean after a read-only workload.
TEST(Ext2Driver, ReadsATreeMadeByMke2fs) {
  const fs::path dir = scratch_dir();
  const fs::path src = dir / "src";
  fs::create_directories(src / "sub" / "deeper");
  std::ofstream(src / "hello.txt") << "hello, world\n";
  std::ofstream(src / "sub" / "big") << big_text(300 * 1024, 1);
  {
    std::ofstream sparse(src / "sparse");
    sparse.seekp(200000);
    sparse << "end";
  }
  fs::create_symlink("hello.txt", src / "fast");
  fs::create_symlink(std::string(100, 'x'), src / "slow");
  fs::create_hard_link(src / "hello.txt", src / "sub" / "hard");
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0640), 0);
  ASSERT_NO_FATAL_FAILURE(make_image(dir / "img", 1024, 4096, "", src));

  auto r = run_on_image(image_run((dir / "img").string()), [](vfs::Kernel& k, vfs::Proc& p) {
    EXPECT_EQ(names(k, p, "/"), (std::vector<std::string>{".", "..", "fast", "fifo", "hello.txt",
                                                          "lost+found", "slow", "sparse", "sub"}));
    EXPECT_EQ(read_all(k, p, "/hello.txt"), "hello, world\n");
    EXPECT_EQ(read_all(k, p, "/sub/big"), big_text(300 * 1024, 1));
    const std::string sparse = read_all(k, p, "/sparse");
    EXPECT_EQ(sparse.size(), 200003u);
    EXPECT_EQ(sparse.substr(0, 10), std::string(10, '\0'));
    EXPECT_EQ(*k.readlink(p, "/fast"), "hello.txt");
    EXPECT_EQ(*k.readlink(p, "/slow"), std::string(100, 'x'));
    EXPECT_EQ(read_all(k, p, "/fast"), "hello, world\n");
    EXPECT_EQ(k.stat(p, "/sub/hard")->nlink, 2u);
    EXPECT_EQ(k.stat(p, "/sub/hard")->ino, k.stat(p, "/hello.txt")->ino);
    EXPECT_TRUE(S_ISFIFO(k.lstat(p, "/fifo")->mode));
    EXPECT_EQ(k.lstat(p, "/fifo")->mode & 07777, 0640u);
    EXPECT_EQ(k.stat(p, "/sub")->nlink, 3u);
    EXPECT_EQ(k.stat(p, "/nope").err(), ENOENT);
  });
  EXPECT_EQ(r.mount_err, 0) << r.mount_reason;
  EXPECT_FALSE(r.run.failed()) << r.run.message;
  expect_clean(dir / "img");
}

class Ext2Write : public ::testing::TestWithParam<std::uint32_t> {};

// Every namespace and data operation the driver implements, on 1, 2 and 4
// KiB blocks; the written image is e2fsck-clean, and a second mount sees
// what the first wrote (contents, links, modes, owners, devices, xattrs).
TEST_P(Ext2Write, WorkloadLeavesACleanImageThatRemounts) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, GetParam(), 8192, "-N 256"));
  auto r = run_on_image(image_run(img), [](vfs::Kernel& k, vfs::Proc& p) {
    ASSERT_TRUE(k.mkdir(p, "/d", 0755).ok());
    ASSERT_TRUE(k.mkdir(p, "/d/e", 0700).ok());
    write_all(k, p, "/d/f", big_text(70000, 2));
    write_all(k, p, "/d/f", "appended", O_WRONLY | O_APPEND);
    write_all(k, p, "/g", "short");
    EXPECT_TRUE(k.link(p, "/g", "/d/g2").ok());
    EXPECT_TRUE(k.symlink(p, "/d/f", "/ln").ok());
    EXPECT_TRUE(k.symlink(p, std::string(200, 'y'), "/longln").ok());
    EXPECT_TRUE(k.mknod(p, "/chr", S_IFCHR | 0600, makedev(4, 64)).ok());
    EXPECT_TRUE(k.mknod(p, "/blk", S_IFBLK | 0600, makedev(300, 1000)).ok());
    EXPECT_TRUE(k.mkfifo(p, "/fifo", 0644).ok());
    EXPECT_TRUE(k.rename(p, "/d/e", "/e2").ok());
    EXPECT_TRUE(k.rename(p, "/g", "/d/g3").ok());
    EXPECT_TRUE(k.chmod(p, "/d/g3", 0604).ok());
    EXPECT_TRUE(k.chown(p, "/d/g3", 1000, 100).ok());
    EXPECT_TRUE(k.truncate(p, "/d/f", 5000).ok());
    write_all(k, p, "/tmp", "gone soon");
    EXPECT_TRUE(k.unlink(p, "/tmp").ok());
    EXPECT_TRUE(k.mkdir(p, "/rm", 0755).ok());
    EXPECT_TRUE(k.rmdir(p, "/rm").ok());
    EXPECT_EQ(k.rmdir(p, "/d").err(), ENOTEMPTY);
    EXPECT_TRUE(k.setxattr(p, "/d/f", "user.color", "blue", 0).ok());
    EXPECT_TRUE(k.setxattr(p, "/d/f", "trusted.t", "x", 0).ok());
    EXPECT_EQ(*k.getxattr(p, "/d/f", "user.color"), "blue");
  });
  EXPECT_EQ(r.mount_err, 0) << r.mount_reason;
  ASSERT_FALSE(r.run.failed()) << r.run.message;
  expect_clean(img);

  auto again = run_on_image(image_run(img), [](vfs::Kernel& k, vfs::Proc& p) {
    EXPECT_EQ(names(k, p, "/d"), (std::vector<std::string>{".", "..", "f", "g2", "g3"}));
    EXPECT_EQ(read_all(k, p, "/d/f"), big_text(70000, 2).substr(0, 5000));
    EXPECT_EQ(read_all(k, p, "/d/g2"), "short");
    EXPECT_EQ(k.stat(p, "/d/g2")->nlink, 2u);
    EXPECT_EQ(k.stat(p, "/d/g3")->mode & 07777, 0604u);
    EXPECT_EQ(k.stat(p, "/d/g3")->uid, 1000u);
    EXPECT_EQ(k.stat(p, "/e2")->mode & 07777, 0700u);
    EXPECT_EQ(*k.readlink(p, "/ln"), "/d/f");
    EXPECT_EQ(*k.readlink(p, "/longln"), std::string(200, 'y'));
    EXPECT_EQ(k.stat(p, "/chr")->rdev, makedev(4, 64));
    EXPECT_EQ(k.stat(p, "/blk")->rdev, makedev(300, 1000));
    EXPECT_TRUE(S_ISFIFO(k.stat(p, "/fifo")->mode));
    EXPECT_EQ(*k.getxattr(p, "/d/f", "user.color"), "blue");
    EXPECT_EQ(*k.getxattr(p, "/d/f", "trusted.t"), "x");
    EXPECT_EQ(k.stat(p, "/tmp").err(), ENOENT);
    EXPECT_EQ(k.stat(p, "/d/f")->mtime / sim::kSecond, kStartTime / sim::kSecond);
  });
  EXPECT_FALSE(again.run.failed()) << again.run.message;
  expect_clean(img);
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, Ext2Write, ::testing::Values(1024u, 2048u, 4096u));

// A file unlinked while open keeps its data until the last close; then its
// inode and blocks are freed (e2fsck would report an unattached inode or
// wrong free counts otherwise).
TEST(Ext2Driver, OpenUnlinkedFileLivesUntilClose) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096));
  auto r = run_on_image(image_run(img), [](vfs::Kernel& k, vfs::Proc& p) {
    auto fd = k.open(p, "/f", O_RDWR | O_CREAT, 0644);
    ASSERT_TRUE(fd.ok());
    EXPECT_TRUE(k.write(p, *fd, big_text(20000, 3)).ok());
    EXPECT_TRUE(k.unlink(p, "/f").ok());
    EXPECT_EQ(k.stat(p, "/f").err(), ENOENT);
    EXPECT_EQ(*k.pread(p, *fd, 10, 0), big_text(10, 3));
    EXPECT_TRUE(k.pwrite(p, *fd, "more", 20000).ok());
    EXPECT_EQ(k.fstat(p, *fd)->nlink, 0u);
    EXPECT_EQ(k.fstat(p, *fd)->size, 20004u);
    EXPECT_TRUE(k.close(p, *fd).ok());
  });
  ASSERT_FALSE(r.run.failed()) << r.run.message;
  expect_clean(img);
}

// A zeroed superblock and a truncated image are refused at mount with the
// core's one-line reason naming the image; nothing runs and nothing is
// written.
TEST(Ext2Driver, RefusesCorruptImagesWithAReason) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096));
  auto bytes = ext2::test::load(img);
  std::fill(bytes.begin() + 1024, bytes.begin() + 2048, std::byte{0});
  ext2::test::save(dir / "zero.img", bytes);
  bool ran = false;
  auto r = run_on_image(image_run((dir / "zero.img").string()),
                        [&](vfs::Kernel&, vfs::Proc&) { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_NE(r.mount_err, 0);
  EXPECT_NE(r.mount_reason.find("zero.img"), std::string::npos) << r.mount_reason;
  EXPECT_EQ(r.mount_reason.find('\n'), std::string::npos);
  EXPECT_EQ(ext2::test::load(dir / "zero.img"), bytes);

  fs::resize_file(img, 100 * 1024);
  r = run_on_image(image_run(img), [&](vfs::Kernel&, vfs::Proc&) { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_NE(r.mount_err, 0);
  EXPECT_FALSE(r.mount_reason.empty());
  EXPECT_EQ(r.mount_reason.find('\n'), std::string::npos);
  auto missing =
      run_on_image(image_run((dir / "missing.img").string()), [&](vfs::Kernel&, vfs::Proc&) {});
  EXPECT_EQ(missing.mount_err, EIO);
  EXPECT_NE(missing.mount_reason.find("missing.img"), std::string::npos);
}

// A failed kernel assertion inside the ext2 core (which has no Machine and
// throws sim::PanicError) ends the run as a panic at the driver's boundary,
// Ext2Mount::call, which names it as the core's; the call never returns.
TEST(Ext2Driver, CoreAssertionIsAMachinePanic) {
  const fs::path dir = scratch_dir();
  ASSERT_NO_FATAL_FAILURE(make_image(dir / "img", 1024, 4096));
  bool returned = false;
  auto r = run_on_image(image_run((dir / "img").string()), [&](vfs::Kernel& k, vfs::Proc&) {
    auto& e2 = static_cast<Ext2Mount&>(k.root_mount()->fs());
    (void)e2.call([](ext2::Volume&) {
      VFSIM_ASSERT(1 + 1 == 3, "a core invariant");
      return ext2::kOk;
    });
    returned = true;
  });
  EXPECT_EQ(r.run.outcome, sim::Outcome::panic) << r.run.message;
  EXPECT_EQ(
      r.run.message.find("ext2 core invariant: KASSERT failed: 1 + 1 == 3 (a core invariant) at "),
      0u)
      << r.run.message;
  EXPECT_FALSE(returned);
}

// Disk faults injected under the driver (a failing or torn write, a failing
// read, at many positions) surface as errnos from system calls or from
// unmount — the run itself never panics, hangs or leaks.
TEST(Ext2Driver, DiskFaultsBecomeErrnosNotCrashes) {
  const fs::path dir = scratch_dir();
  const std::string clean = (dir / "clean.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(clean, 1024, 4096));
  int errors_seen = 0;
  for (std::string kind : {"write_eio_nth", "torn_write_nth", "read_eio_nth"}) {
    for (int nth = 1; nth <= 40; nth += 3) {
      const std::string img = (dir / "f.img").string();
      fs::copy_file(clean, img, fs::copy_options::overwrite_existing);
      ImageRun run = image_run(img, {{kind, std::to_string(nth)}});
      auto r = run_on_image(run, [&](vfs::Kernel& k, vfs::Proc& p) {
        for (int i = 0; i < 6; ++i) {
          const std::string path = "/f" + std::to_string(i);
          auto fd = k.open(p, path, O_WRONLY | O_CREAT, 0644);
          if (!fd.ok()) {
            ++errors_seen;
            continue;
          }
          if (!k.write(p, *fd, big_text(3000, i)).ok()) ++errors_seen;
          if (!k.fsync(p, *fd).ok()) ++errors_seen;
          (void)k.close(p, *fd);
          if (!k.mkdir(p, "/d" + std::to_string(i), 0755).ok()) ++errors_seen;
        }
        const auto st = ext2_stats(k.root_mount()->fs());
        EXPECT_TRUE(st && st->disk_reads > 0 && st->volume_calls > 0);
        if (st && nth <= 10 && kind != "read_eio_nth") {
          EXPECT_EQ(st->disk_faults, 1u) << kind << "=" << nth;
        }
      });
      // A failed unmount is reported as an expectation with its errno;
      // anything else (panic, leak, hang) is a driver bug.
      EXPECT_TRUE(!r.run.failed() || r.run.outcome == sim::Outcome::expectation)
          << kind << "=" << nth << ": " << r.run.message;
      if (r.run.failed()) ++errors_seen;
    }
  }
  EXPECT_GT(errors_seen, 0);
}

// Shows: write(2) on a volume that fills up returns the bytes it wrote, and
// the next write, with nothing left to write into, answers ENOSPC (not
// EFBIG, which is for the largest file size); the file's size is what was
// written and reads back; the image stays e2fsck-clean. A write starting at
// the largest file size still answers EFBIG. (Before, the first write
// answered EFBIG after storing its bytes.)
TEST(Ext2Driver, ShortWriteWhenTheVolumeFills) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "full.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 1024));
  const std::string data = big_text(2 << 20, 3);
  auto r = run_on_image(image_run(img), [&](vfs::Kernel& k, vfs::Proc& p) {
    auto fd = k.open(p, "/f", O_RDWR | O_CREAT, 0644);
    ASSERT_TRUE(fd.ok());
    auto n = k.write(p, *fd, data);
    ASSERT_TRUE(n.ok()) << "errno " << n.err();
    EXPECT_GT(*n, 100'000u);
    EXPECT_LT(*n, data.size());
    EXPECT_EQ(k.write(p, *fd, std::string_view(data).substr(*n)).err(), ENOSPC);
    auto st = k.fstat(p, *fd);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->size, *n);
    auto back = k.pread(p, *fd, 4096, static_cast<std::int64_t>(*n - 4096));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, data.substr(*n - 4096, 4096));
    EXPECT_EQ(k.pwrite(p, *fd, "x", std::int64_t{1} << 40).err(), EFBIG);
    EXPECT_TRUE(k.close(p, *fd).ok());
  });
  ASSERT_EQ(r.run.outcome, sim::Outcome::pass) << r.run.message;
  expect_clean(img);
}

// The workload of the write-error sweep: files written and fsynced, a
// directory, a rename and an unlink on the ext2 mount at `dir` (a write that
// comes back short is written on from there). Every syscall must answer
// success, EIO (the failed write) or ENOENT (a name an earlier failure kept
// from existing); returns how many answered EIO or came back short.
int eio_workload(vfs::Kernel& k, vfs::Proc& p, const std::string& dir) {
  int eio = 0;
  auto seen = [&](int err, const std::string& what) {
    EXPECT_TRUE(err == 0 || err == EIO || err == ENOENT) << what << ": errno " << err;
    eio += err == EIO;
  };
  for (int i = 0; i < 3; ++i) {
    const std::string path = dir + "/f" + std::to_string(i);
    auto fd = k.open(p, path, O_WRONLY | O_CREAT, 0644);
    seen(fd.err(), "open " + path);
    if (!fd.ok()) continue;
    // As an application does: a short count, then the rest again, which
    // answers the errno that stopped the first write.
    const std::string text = big_text(2500, i);
    std::string_view rest = text;
    while (!rest.empty()) {
      auto n = k.write(p, *fd, rest);
      seen(n.err(), "write " + path);
      if (!n.ok()) break;
      EXPECT_GT(*n, 0u);
      eio += *n < rest.size();  // a short count reports the failed write too
      rest.remove_prefix(*n);
    }
    seen(k.fsync(p, *fd).err(), "fsync " + path);
    seen(k.close(p, *fd).err(), "close " + path);
  }
  seen(k.mkdir(p, dir + "/d", 0755).err(), "mkdir");
  seen(k.rename(p, dir + "/f0", dir + "/d/g").err(), "rename");
  seen(k.unlink(p, dir + "/f1").err(), "unlink");
  return eio;
}

bool fault_fired(const sim::RunResult& r) {
  for (const sim::TraceEvent& e : r.events) {
    if (e.kind == "disk_fault_write_eio") return true;
  }
  return false;
}

// Shows: a disk write error on any write of a workload, the unmount's own
// write-back included, is an errno and never a panic. For each n from 1 until
// the workload makes fewer than n writes, ext2 is mounted at /mnt (on a memfs
// root) with write_eio_nth=n; the workload's syscalls answer success, EIO or
// ENOENT; the failed write is reported by some syscall or by unmount(2); an
// unmount that fails with EIO leaves the volume mounted and usable (a stat
// through it answers), and a second unmount, with the fault spent, succeeds.
// The run ends as a pass. (Before, a failed unmount freed the volume and left
// it in the mount table: the next stat was the KASSERT volume_ != nullptr.)
TEST(Ext2Driver, WriteErrorAtEveryWriteIsAnErrno) {
  const fs::path dir = scratch_dir();
  const std::string clean = (dir / "clean.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(clean, 1024, 2048));
  int nth = 1;
  int unmount_failures = 0;
  for (;; ++nth) {
    ASSERT_LT(nth, 1000) << "the workload should make fewer writes";
    const std::string img = (dir / "w.img").string();
    fs::copy_file(clean, img, fs::copy_options::overwrite_existing);
    int reported = 0;
    bool unmount_failed = false;
    auto r = sim::testing::run_once_keeping(
        [&](sim::Machine& m) {
          auto w = std::make_shared<boot::World>(m, boot::BootConfig{});
          vfs::Kernel* k = &w->kernel();
          m.spawn("test", [&, w = w.get(), k] {
            m.sleep_for(kStartTime);
            ASSERT_TRUE(w->mount_root().ok());
            vfs::Proc& p = k->proc_create("test", vn::Cred{});
            k->attach_current_lwp(p);
            ASSERT_TRUE(k->mkdir(p, "/mnt", 0755).ok());
            const vn::Status ms = k->mount(
                p, "ext2", "/mnt", {{"image", img}, {"write_eio_nth", std::to_string(nth)}});
            ASSERT_TRUE(ms.ok()) << ms.err();
            reported += eio_workload(*k, p, "/mnt");
            const vn::Status us = k->unmount(p, "/mnt");
            EXPECT_TRUE(us.ok() || us.err() == EIO) << "unmount: errno " << us.err();
            if (!us.ok()) {
              unmount_failed = true;
              ++reported;
              const int st = k->stat(p, "/mnt/d").err();
              EXPECT_TRUE(st == 0 || st == ENOENT) << "stat after a failed unmount: " << st;
              EXPECT_TRUE(k->unmount(p, "/mnt").ok()) << "the second unmount";
            }
            EXPECT_TRUE(k->shutdown().ok());
          });
          return w;  // released after the run, before the machine
        },
        "random", 1, /*keep_trace=*/true);
    ASSERT_EQ(r.outcome, sim::Outcome::pass) << "write_eio_nth=" << nth << ": " << r.message;
    if (!fault_fired(r)) break;  // past the workload's last write
    EXPECT_GT(reported, 0) << "write_eio_nth=" << nth << ": the failed write went unreported";
    unmount_failures += unmount_failed;
  }
  std::printf("write_eio_nth 1..%d: %d unmounts failed\n", nth - 1, unmount_failures);
  EXPECT_GT(nth, 20) << "the workload makes more writes than that";
  EXPECT_GT(unmount_failures, 0) << "some fault should land in the unmount's write-back";
}

// Shows: the same on the root file system, whose unmount at shutdown cannot
// be retried by anyone: a write-back error there makes the shutdown unmount
// it by force (trace event vfs_shutdown) and the run passes; the first write
// failing (write_eio_nth=1, the first write of the workload) and one in five
// writes failing (write_eio_ppm=200000) alike.
TEST(Ext2Driver, WriteErrorAtShutdownIsForcedNotAPanic) {
  const fs::path dir = scratch_dir();
  const std::string clean = (dir / "clean.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(clean, 1024, 2048));
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"write_eio_nth", "1"}, {"write_eio_ppm", "200000"}}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      const std::string img = (dir / "s.img").string();
      fs::copy_file(clean, img, fs::copy_options::overwrite_existing);
      ImageRun run = image_run(img, {{key, value}});
      run.seed = seed;
      run.keep_trace = true;
      auto r =
          run_on_image(run, [](vfs::Kernel& k, vfs::Proc& p) { (void)eio_workload(k, p, ""); });
      ASSERT_EQ(r.run.outcome, sim::Outcome::pass)
          << key << "=" << value << " seed " << seed << ": " << r.run.message;
    }
  }
}

// Two processes create, write and remove files in one directory while the
// scheduler interleaves them at every disk request: for 20 seeds the image
// is e2fsck-clean afterwards and each file has exactly its writer's bytes.
TEST(Ext2Driver, ConcurrentWritersLeaveACleanImage) {
  const fs::path dir = scratch_dir();
  const std::string clean = (dir / "clean.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(clean, 1024, 4096));
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const std::string img = (dir / "c.img").string();
    fs::copy_file(clean, img, fs::copy_options::overwrite_existing);
    ImageRun run = image_run(img);
    run.seed = seed;
    auto r = run_on_image(run, [](vfs::Kernel& k, vfs::Proc& p0) {
      sim::Machine& m = k.machine();
      std::vector<sim::LwpId> lwps;
      for (int w = 0; w < 2; ++w) {
        vfs::Proc& p = k.proc_create("w" + std::to_string(w), vn::Cred{});
        lwps.push_back(m.spawn("writer" + std::to_string(w), [&k, &p, w] {
          k.attach_current_lwp(p);
          for (int i = 0; i < 4; ++i) {
            const std::string path = "/w" + std::to_string(w) + "_" + std::to_string(i);
            write_all(k, p, path, big_text(1500 * (i + 1), w));
            if (i % 2 == 1) {
              EXPECT_TRUE(k.unlink(p, path).ok());
            }
          }
        }));
      }
      for (sim::LwpId id : lwps) m.join(id);
      for (int w = 0; w < 2; ++w) {
        EXPECT_EQ(read_all(k, p0, "/w" + std::to_string(w) + "_2"), big_text(4500, w));
      }
    });
    ASSERT_FALSE(r.run.failed()) << "seed " << seed << ": " << r.run.message;
    expect_clean(img);
  }
}

}  // namespace
}  // namespace vfsim::ext2drv::test
