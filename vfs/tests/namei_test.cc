// namei's exit contract (vfs/namei.h). namei asserts it at every return, so
// a run of many lookups that passes shows it holds for them; ukfs::run's
// teardown check (no vnode with unexplained references) shows that the
// error exits dropped what the walk took. The last tests break the contract
// on purpose through namei_assert_exit and see the run end as a panic naming
// the broken rule.
#include "vfs/namei.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "vfs/tests/test_util.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {
namespace {

using testing::run_ukfs;
using ukfs::Ukfs;

// Shows: every shape of result and every kind of error exit (absent
// component, file in the middle, trailing slash on a file, a symlink loop,
// a dangling and an empty-target-free absolute symlink, a name too long,
// search permission denied, a mount crossed in and out of) answers what the
// rules say, and nd holds exactly what the flags ask for; the run's
// teardown finds no leaked reference.
TEST(Namei, ExitsKeepTheContract) {
  run_ukfs([](Ukfs& fs) {
    auto& k = fs.kernel();
    auto& p = fs.proc();
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    ASSERT_TRUE(fs.write_file("/d/f", "x").ok());
    ASSERT_TRUE(fs.symlink("/d", "/ld").ok());
    ASSERT_TRUE(fs.symlink("/nowhere", "/dangling").ok());
    ASSERT_TRUE(fs.symlink("/loop", "/loop").ok());
    ASSERT_TRUE(fs.mkdir("/locked", 0700).ok());
    ASSERT_TRUE(fs.mkdir("/mnt", 0755).ok());
    ASSERT_TRUE(k.mount(p, "memfs", "/mnt", {}).ok());
    ASSERT_TRUE(fs.mkdir("/mnt/in", 0755).ok());
    const std::string too_long(300, 'n');
    Proc& user = fs.new_process("user", vn::Cred{1000, 1000, {}});

    struct Case {
      const char* path;
      int flags;
      int err;           // 0: success
      bool dvp = false;  // with kWantParent: a parent comes back
      bool vp = true;    // on success: a vnode comes back
      vn::VType type = vn::VType::VDIR;
    };
    const Case cases[] = {
        {"/", 0, 0},
        {"/d", 0, 0},
        {"/d/", 0, 0},
        {"/d/f", 0, 0, false, true, vn::VType::VREG},
        {"/d/f/", 0, ENOTDIR},
        {"/d/f/x", 0, ENOTDIR},
        {"/d/absent/x", 0, ENOENT},
        {"/d/absent", 0, ENOENT},
        {"/d/absent", kWantParent, 0, true, false},
        {"/d/f", kWantParent, 0, true, true, vn::VType::VREG},
        {"/d/..", kWantParent, 0, false, true},
        {"/", kWantParent, 0, false, true},
        {"/ld", 0, 0, false, true, vn::VType::VLNK},
        {"/ld", kFollow, 0},
        {"/ld/f", 0, 0, false, true, vn::VType::VREG},
        {"/dangling", kFollow, ENOENT},
        {"/dangling", kFollow | kWantParent, 0, true, false},
        {"/loop", kFollow, ELOOP},
        {"/loop/x", 0, ELOOP},
        {"/mnt/in/../..", 0, 0},
        {"/mnt", kNoCrossMount, 0},
        {"/mnt/in", kWantParent, 0, true, true},
        {"", 0, ENOENT},
        {"", kEmptyPath, 0},
        {"", kEmptyPath | kWantParent, ENOENT},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string("path \"") + c.path + "\" flags " + std::to_string(c.flags));
      Nameidata nd;
      const Status s = k.namei(p, AT_FDCWD, c.path, c.flags, &nd);
      EXPECT_EQ(s.err(), c.err);
      if (c.err != 0) {
        EXPECT_FALSE(nd.vp);
        EXPECT_FALSE(nd.dvp);
        continue;
      }
      EXPECT_EQ(static_cast<bool>(nd.dvp), c.dvp);
      EXPECT_EQ(static_cast<bool>(nd.vp), c.vp);
      if (nd.vp) {
        EXPECT_EQ(nd.vp->type, c.type);
        EXPECT_FALSE(vn::vn_locked(*nd.vp));
      }
      if (nd.dvp) {
        EXPECT_FALSE(vn::vn_locked(*nd.dvp));
      }
    }
    // Errors that come from the start or from the walk's own checks.
    Nameidata nd;
    EXPECT_EQ(k.namei(p, AT_FDCWD, "/d/" + too_long, 0, &nd).err(), ENAMETOOLONG);
    EXPECT_EQ(k.namei(p, 999, "rel", 0, &nd).err(), EBADF);
    EXPECT_EQ(k.namei(user, AT_FDCWD, "/locked/x", 0, &nd).err(), EACCES);
    EXPECT_FALSE(nd.vp);
    // A relative path from a descriptor that names a file: ENOTDIR.
    auto fd = k.open(p, "/d/f", O_RDONLY);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(k.namei(p, *fd, "x", 0, &nd).err(), ENOTDIR);
    EXPECT_TRUE(k.close(p, *fd).ok());
    ASSERT_TRUE(k.unmount(p, "/mnt").ok());
  });
}

// Shows: namei's exit check fires on a Nameidata that still holds a
// reference after an error: the run ends as a panic naming the rule.
TEST(Namei, ExitCheckPanicsOnAReferenceKeptAfterAnError) {
  auto r = ukfs::run({}, [](Ukfs& fs) {
    auto& k = fs.kernel();
    Nameidata nd;
    ASSERT_TRUE(k.namei(fs.proc(), AT_FDCWD, "/", 0, &nd).ok());
    namei_assert_exit(k.machine(), Status(ENOENT), 0, nd);
  });
  EXPECT_EQ(r.outcome, sim::Outcome::panic);
  EXPECT_NE(r.message.find("namei exit: holds a reference after an error"), std::string::npos)
      << r.message;
}

// Shows: the check fires on a result handed back locked (no flag asks for
// a locked leaf), and on a result that does not match the flags (a parent
// without kWantParent).
TEST(Namei, ExitCheckPanicsOnALockedResult) {
  auto r = ukfs::run({}, [](Ukfs& fs) {
    auto& k = fs.kernel();
    Nameidata nd;
    ASSERT_TRUE(k.namei(fs.proc(), AT_FDCWD, "/", 0, &nd).ok());
    vn::VnLock lock(*nd.vp, vn::LK_SH);
    namei_assert_exit(k.machine(), vn::kOk, 0, nd);
  });
  EXPECT_EQ(r.outcome, sim::Outcome::panic);
  EXPECT_NE(r.message.find("namei exit: a result is unreferenced or locked"), std::string::npos)
      << r.message;
}

TEST(Namei, ExitCheckPanicsOnAParentNotAskedFor) {
  auto r = ukfs::run({}, [](Ukfs& fs) {
    auto& k = fs.kernel();
    Nameidata nd;
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    ASSERT_TRUE(k.namei(fs.proc(), AT_FDCWD, "/d", kWantParent, &nd).ok());
    ASSERT_TRUE(nd.dvp);
    namei_assert_exit(k.machine(), vn::kOk, 0, nd);
  });
  EXPECT_EQ(r.outcome, sim::Outcome::panic);
  EXPECT_NE(r.message.find("namei exit: results not as the flags ask"), std::string::npos)
      << r.message;
}

}  // namespace
}  // namespace vfsim::vfs
