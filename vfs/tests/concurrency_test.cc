// Concurrency tests of the VFS under the explorer: lwps rename, unlink, link
// and look up the same names (the FFS rename race kern/40948: the rename
// source removed half way) and create/remove in one directory. No schedule
// may panic, deadlock or leak a vnode, and nlink must match the names.
#include <sys/stat.h>

#include "sim/explore.h"
#include "vfs/tests/test_util.h"

namespace vfsim::vfs {
namespace {

// Three lwps on one directory tree: a renamer moving a/x <-> b/x and a
// directory between parents, an unlinker removing and recreating a/x, and a
// linker/looker-up. Afterwards every file's nlink equals its names.
sim::RunResult rename_race(const sim::MachineOptions& o, sim::Strategy& s) {
  return ukfs::run({}, o, s, [](ukfs::Ukfs& fs) {
    Kernel& k = fs.kernel();
    sim::Machine& m = fs.machine();
    Proc& root = fs.proc();
    (void)k.mkdir(root, "/a", 0755);
    (void)k.mkdir(root, "/b", 0755);
    (void)k.mkdir(root, "/a/sub", 0755);
    auto fd = k.open(root, "/a/x", O_CREAT | O_WRONLY, 0644);
    if (fd.ok()) (void)k.close(root, *fd);
    Proc& p1 = k.proc_create("p1", vn::Cred{});
    Proc& p2 = k.proc_create("p2", vn::Cred{});
    Proc& p3 = k.proc_create("p3", vn::Cred{});
    auto l1 = m.spawn("renamer", [&] {
      (void)k.rename(p1, "/a/x", "/b/x");
      (void)k.rename(p1, "/a/sub", "/b/sub");
    });
    auto l2 = m.spawn("unlinker", [&] {
      (void)k.unlink(p2, "/a/x");
      (void)k.rename(p2, "/b/sub", "/a/sub2");
    });
    auto l3 = m.spawn("linker", [&] {
      (void)k.link(p3, "/b/x", "/a/y");
      (void)k.stat(p3, "/b/sub");
    });
    m.join(l1);
    m.join(l2);
    m.join(l3);
    for (const char* path : {"/a/x", "/b/x", "/a/y"}) {
      auto st = k.stat(root, path);
      if (!st.ok()) continue;
      int names = 0;
      for (const char* other : {"/a/x", "/b/x", "/a/y"}) {
        auto o2 = k.stat(root, other);
        names += o2.ok() && o2->ino == st->ino;
      }
      VFSIM_KASSERT(m, st->nlink == static_cast<std::uint32_t>(names), "nlink != names");
    }
  });
}

// Shows: 3,000 random and 3,000 PCT schedules of the rename race pass.
TEST(Concurrency, RenameRaceKern40948) {
  for (const char* strategy : {"random", "pct"}) {
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 3000;
    eo.seed = 40948;
    auto summary = sim::explore(rename_race, eo);
    ASSERT_EQ(summary.outcome, sim::Outcome::pass)
        << strategy << ": " << (summary.first_failure ? summary.first_failure->message : "");
  }
}

}  // namespace
}  // namespace vfsim::vfs
