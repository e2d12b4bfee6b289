// The World: a file-system type registered from its own folder (testfs, the
// way every driver registers) mounts and serves; puffs's server serves any
// registered type, with that type's own mount options; the World owns the
// servers it started and hands the kernel its pager; a BootConfig with a bad
// value names the knob. Each test drives a real machine through ukfs.
#include "boot/world.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "boot/tests/testfs/testfs.h"
#include "boot/ukfs.h"

namespace vfsim::boot {
namespace {

namespace fs = std::filesystem;

// A run with testfs known besides the built-in types, as root on memfs.
sim::RunResult run(const std::function<void(ukfs::Ukfs&)>& body, ukfs::Options o = {}) {
  o.extra_fs_types.push_back(testfs::fstype());
  return ukfs::run(o, body);
}

// Shows: a type registered from its own folder mounts with mount(2) under
// its name, serves lookups, reads, stat and getdents through the VFS, its
// driver's errno comes back (EROFS), and it unmounts leaving nothing behind.
TEST(World, NewTypeFromItsOwnFolderMounts) {
  auto r = run([](ukfs::Ukfs& u) {
    vfs::Kernel& k = u.kernel();
    ASSERT_TRUE(u.mkdir("/t", 0755).ok());
    ASSERT_TRUE(k.mount(u.proc(), "testfs", "/t", {{"hello", "hello, world\n"}, {"x", "y"}}).ok());
    auto data = u.read_file("/t/hello");
    ASSERT_TRUE(data.ok()) << data.err();
    EXPECT_EQ(*data, "hello, world\n");
    auto names = u.list("/t");
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"hello", "x"}));
    auto st = u.stat("/t/x");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->size, 1u);
    EXPECT_EQ(u.write_file("/t/new", "z").err(), EROFS);
    EXPECT_EQ(k.mount(u.proc(), "testfs", "/d", {{"a/b", "bad name"}}).err(), ENOENT);
    ASSERT_TRUE(u.mkdir("/d", 0755).ok());
    EXPECT_EQ(k.mount(u.proc(), "testfs", "/d", {{"a/b", "bad name"}}).err(), EINVAL);
    EXPECT_TRUE(k.unmount(u.proc(), "/t").ok());
    EXPECT_EQ(u.stat("/t/hello").err(), ENOENT);
  });
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// Shows: the same type as the root file system of a World.
TEST(World, NewTypeAsTheRoot) {
  ukfs::Options o;
  o.fstype = "testfs";
  o.args = {{"motd", "welcome"}};
  auto r = run([](ukfs::Ukfs& u) { EXPECT_EQ(*u.read_file("/motd"), "welcome"); }, o);
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// Shows: a type the World was not given is unknown to mount(2).
TEST(World, TypesComeFromTheBootConfig) {
  auto r = ukfs::run({}, [](ukfs::Ukfs& u) {
    ASSERT_TRUE(u.mkdir("/t", 0755).ok());
    EXPECT_EQ(u.kernel().mount(u.proc(), "testfs", "/t", {}).err(), ENODEV);
  });
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// Shows: puffs serves any registered type by name (`backend`), passing it
// every option puffs does not define; the server is a process the World
// owns (one, with its worker lwps, alive), reads come through the server;
// an unknown backend is ENODEV and a bad puffs option EINVAL, at mount(2).
// The backend is built inside the server's process (its fault domain): a
// backend that refuses leaves that process dead with no lwp, and a bad
// puffs option starts none.
TEST(World, PuffsServesAnyRegisteredTypeAsItsBackend) {
  auto r = run([](ukfs::Ukfs& u) {
    vfs::Kernel& k = u.kernel();
    ASSERT_TRUE(u.mkdir("/p", 0755).ok());
    EXPECT_EQ(k.mount(u.proc(), "puffs", "/p", {{"backend", "nosuchfs"}}).err(), ENODEV);
    EXPECT_EQ(k.mount(u.proc(), "puffs", "/p", {{"reply_drop_at", "x"}}).err(), EINVAL);
    EXPECT_EQ(k.mount(u.proc(), "puffs", "/p", {{"workers", "0"}}).err(), EINVAL);
    // memfs refuses an option it does not know: puffs handed it over.
    EXPECT_EQ(k.mount(u.proc(), "puffs", "/p", {{"no_such_option", "1"}}).err(), EINVAL);
    ASSERT_EQ(u.world().servers().size(), 2u);  // nosuchfs, no_such_option
    for (const auto& dead : u.world().servers()) {
      EXPECT_TRUE(dead->dead());
      EXPECT_TRUE(dead->lwps().empty());
    }
    ASSERT_TRUE(k.mount(u.proc(), "puffs", "/p",
                        {{"backend", "testfs"}, {"workers", "2"}, {"greeting", "through puffs"}})
                    .ok());
    ASSERT_EQ(u.world().servers().size(), 3u);
    const vn::UserServer& server = *u.world().servers().back();
    EXPECT_EQ(server.lwps().size(), 2u);
    EXPECT_FALSE(server.dead());
    auto data = u.read_file("/p/greeting");
    ASSERT_TRUE(data.ok()) << data.err();
    EXPECT_EQ(*data, "through puffs");
    auto st = u.stat("/p/greeting");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->size, 13u);
    EXPECT_EQ(u.write_file("/p/new", "z").err(), EROFS);  // testfs's answer, over the wire
    EXPECT_TRUE(k.unmount(u.proc(), "/p").ok());
  });
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// Runs a host command; true when it exits 0.
bool sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// Shows: ext2 behind puffs (the rump file-server arrangement): the server
// mounts an image made by mke2fs with ext2's own option image=..., and a
// file in it reads back through the kernel stub, the socket and p2k.
TEST(World, PuffsServesExt2WithItsImageOption) {
  const fs::path dir = fs::path(BOOT_TEST_TMPDIR) / "puffs_ext2";
  fs::remove_all(dir);
  fs::create_directories(dir / "src");
  std::ofstream(dir / "src" / "f") << "ext2 data";
  const fs::path img = dir / "img";
  ASSERT_TRUE(sh("E2FSPROGS_FAKE_TIME=1600000000 mke2fs -q -F -t ext2 -b 1024 -d " +
                 (dir / "src").string() + " " + img.string() + " 1024 >/dev/null 2>&1"))
      << "mke2fs failed";
  ukfs::Options o;
  o.start_time = 1'700'000'000 * sim::kSecond;  // after the image's times
  auto r = run(
      [&](ukfs::Ukfs& u) {
        ASSERT_TRUE(u.mkdir("/e", 0755).ok());
        ASSERT_TRUE(
            u.kernel()
                .mount(u.proc(), "puffs", "/e", {{"backend", "ext2"}, {"image", img.string()}})
                .ok());
        auto data = u.read_file("/e/f");
        ASSERT_TRUE(data.ok()) << data.err();
        EXPECT_EQ(*data, "ext2 data");
        EXPECT_TRUE(u.kernel().unmount(u.proc(), "/e").ok());
      },
      o);
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// Shows: the kernel is handed the World's pager (none without memory), and
// a server the World owns reports its death: after crash(), dead() and the
// mount answers ENXIO.
TEST(World, OwnsThePagerAndTheServers) {
  ukfs::Options o;
  pager::PagerConfig pc;
  pc.pages = 64;
  o.pager = pc;
  auto r = run(
      [](ukfs::Ukfs& u) {
        ASSERT_NE(u.world().pager(), nullptr);
        EXPECT_EQ(u.kernel().pager(), u.world().pager());
        ASSERT_TRUE(u.mkdir("/p", 0755).ok());
        ASSERT_TRUE(u.kernel().mount(u.proc(), "puffs", "/p", {}).ok());
        ASSERT_TRUE(u.write_file("/p/f", "x").ok());
        vn::UserServer& server = *u.world().servers().front();
        server.crash();
        EXPECT_TRUE(server.dead());
        EXPECT_EQ(u.stat("/p/f").err(), ENXIO);
        EXPECT_TRUE(u.kernel().unmount(u.proc(), "/p", true).ok());
      },
      o);
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
  auto none = ukfs::run({}, [](ukfs::Ukfs& u) {
    EXPECT_EQ(u.world().pager(), nullptr);
    EXPECT_EQ(u.kernel().pager(), nullptr);
  });
  EXPECT_EQ(none.outcome, sim::Outcome::pass) << none.message;
}

// Shows: BootConfig::check names the knob of every rule it holds.
TEST(BootConfig, CheckNamesTheKnob) {
  EXPECT_FALSE(BootConfig{}.check());
  auto knob_of = [](const BootConfig& c) { return c.check() ? c.check()->knob : "(none)"; };
  BootConfig c;
  c.desiredvnodes = 0;
  EXPECT_EQ(knob_of(c), "vfs.desiredvnodes");
  c = BootConfig{};
  c.pager = pager::PagerConfig{};
  c.pager->pages = 50;
  c.pager->freemin = 100;
  EXPECT_EQ(knob_of(c), "pager.freemin");
  c.pager->freemin = 0;
  c.pager->freetarg = 51;
  EXPECT_EQ(knob_of(c), "pager.freetarg");
  c.pager->freemin = 20;
  c.pager->freetarg = 10;
  EXPECT_EQ(knob_of(c), "pager.freemin");
  c.pager->freemin = 4;
  EXPECT_FALSE(c.check());
  c = BootConfig{};
  c.puffs.workers = 0;
  EXPECT_EQ(knob_of(c), "puffs.workers");
  c.puffs.workers = 1;
  c.puffs.retry = 2;
  EXPECT_EQ(knob_of(c), "puffs.retry");  // resends need a timeout
  c.puffs.timeout_ms = 5;
  EXPECT_FALSE(c.check());
}

// Shows: ukfs::Options::step_budget reaches the machine. The same body (a
// few thousand stats) ends as Outcome::budget under a budget of 1,000 steps
// and passes under the default and under the unbounded budget the image
// tools use (cli/fs_image.cc), so a tool's long copy is not cut short by a
// livelock guard meant for scenarios.
TEST(Ukfs, StepBudgetReachesTheMachine) {
  const auto body = [](ukfs::Ukfs& fs) {
    ASSERT_TRUE(fs.mkdir("/d", 0755).ok());
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE(fs.stat("/d").ok());
  };
  ukfs::Options small;
  small.step_budget = 1000;
  const sim::RunResult cut = ukfs::run(small, body);
  EXPECT_EQ(cut.outcome, sim::Outcome::budget) << cut.message;
  EXPECT_FALSE(ukfs::run({}, body).failed());
  ukfs::Options unbounded;
  unbounded.step_budget = std::numeric_limits<std::uint64_t>::max();
  EXPECT_FALSE(ukfs::run(unbounded, body).failed());
}

}  // namespace
}  // namespace vfsim::boot
