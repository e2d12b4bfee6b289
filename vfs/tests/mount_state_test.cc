// The mount state machine (vnode/vnode.h): a mount is MOUNTED until
// unmount(2) takes it to UNMOUNTING; a failed unmount brings it back; a
// forced one with vnodes still referenced leaves it DEAD (out of the table)
// until its last vnode is freed and it is GONE. Shown on memfs through the
// VFS, and an edge not in the diagram ends the run as a panic.
#include <gtest/gtest.h>

#include "vfs/tests/test_util.h"

namespace vfsim::vfs {
namespace {

using testing::run_ukfs;
using ukfs::Ukfs;

// The mount a descriptor's file is on (the kernel keeps a dead one).
vn::Mount& mount_of(Kernel& k, Proc& p, int fd) {
  auto f = k.getfile(p, fd);
  EXPECT_TRUE(f.ok());
  vn::Mount& mp = (*f)->vp->mount();
  k.putfile(**f);
  return mp;
}

// Shows: mounted; a busy unmount fails and it is mounted again; a forced
// unmount with a file open leaves it dead, out of the mount table, with
// the covered directory back; the close frees the last vnode: gone.
TEST(MountState, MountedUnmountingDeadGone) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.mkdir("/mnt", 0755).ok());
    ASSERT_TRUE(k.mount(p, "memfs", "/mnt", {}).ok());
    auto fd = k.open(p, "/mnt/f", O_CREAT | O_RDWR, 0644);
    ASSERT_TRUE(fd.ok());
    vn::Mount& mp = mount_of(k, p, *fd);
    EXPECT_EQ(mp.state(), vn::MountState::mounted);
    EXPECT_EQ(k.unmount(p, "/mnt").err(), EBUSY);
    EXPECT_EQ(mp.state(), vn::MountState::mounted);
    const std::size_t mounts = k.mount_count();
    ASSERT_TRUE(k.unmount(p, "/mnt", /*force=*/true).ok());
    EXPECT_EQ(mp.state(), vn::MountState::dead);
    EXPECT_EQ(k.mount_count(), mounts - 1);
    EXPECT_EQ(k.stat(p, "/mnt/f").err(), ENOENT);  // the covered directory, empty
    EXPECT_EQ(k.fstat(p, *fd).err(), ENXIO);       // the dead vnode
    EXPECT_EQ(k.close(p, *fd).err(), ENXIO);
    EXPECT_EQ(mp.state(), vn::MountState::gone);
  });
}

// Shows: mount_state_change asserts the edge: MOUNTED -> GONE is not one,
// and the run ends as a panic naming the mount and the states.
TEST(MountState, AnEdgeNotDrawnPanics) {
  auto r = ukfs::run({}, [](Ukfs& fs) {
    ASSERT_TRUE(fs.mkdir("/mnt", 0755).ok());
    ASSERT_TRUE(fs.kernel().mount(fs.proc(), "memfs", "/mnt", {}).ok());
    auto fd = fs.kernel().open(fs.proc(), "/mnt", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    vn::Mount& mp = mount_of(fs.kernel(), fs.proc(), *fd);
    vn::mount_state_change(mp, vn::MountState::mounted, vn::MountState::gone);
  });
  EXPECT_EQ(r.outcome, sim::Outcome::panic);
  EXPECT_NE(r.message.find("not an edge: mount /mnt"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("mounted -> gone"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace vfsim::vfs
