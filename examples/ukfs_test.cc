// A test against ukfs, the rump paper's standalone mode: a fresh simulated
// kernel with memfs at "/", path-based calls from one process, and at the
// end of the run the machine's own checks (no vnode leaked, every invariant
// held). It shows rename semantics and an errno, then the same kind of body
// explored under many schedules with two lwps creating files in one
// directory: every schedule must list both.
#include "boot/ukfs.h"

#include <cerrno>
#include <cstdio>
#include <string>

#include "sim/explore.h"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  using vfsim::ukfs::Ukfs;
  const vfsim::sim::RunResult r = vfsim::ukfs::run({}, [](Ukfs& fs) {
    check(fs.mkdir("/d", 0755).ok(), "mkdir /d");
    check(fs.write_file("/d/a", "first").ok(), "write /d/a");
    check(fs.write_file("/d/b", "second").ok(), "write /d/b");
    // rename(2) over an existing file replaces it atomically.
    check(fs.rename("/d/a", "/d/b").ok(), "rename /d/a over /d/b");
    const auto b = fs.read_file("/d/b");
    check(b.ok() && *b == "first", "/d/b holds what /d/a held");
    check(fs.stat("/d/a").err() == ENOENT, "/d/a is gone");
    check(fs.rmdir("/d").err() == ENOTEMPTY, "rmdir of a non-empty directory");
  });
  check(!r.failed(), "the run ended cleanly (no leak, invariants held)");

  // Two lwps create files in one directory, in every order the explorer
  // tries: both names are always there.
  vfsim::sim::ExploreOptions o;
  o.strategy = "random";
  o.schedules = 200;
  const auto summary = vfsim::sim::explore(
      [](const vfsim::sim::MachineOptions& m, vfsim::sim::Strategy& s) {
        return vfsim::ukfs::run({}, m, s, [](Ukfs& fs) {
          (void)fs.mkdir("/d", 0755);
          auto& machine = fs.machine();
          const auto t = machine.spawn("creator", [&fs] { (void)fs.create("/d/x", 0644); });
          (void)fs.create("/d/y", 0644);
          machine.join(t);
          const auto names = fs.list("/d");
          if (!names.ok() || names->size() != 2) machine.panic("a created name is missing");
        });
      },
      o);
  check(summary.outcome == vfsim::sim::Outcome::pass, "every schedule lists both files");
  check(summary.schedules_explored == 200, "200 schedules explored");
  std::printf("%s: ukfs checks, %llu schedules explored\n", failures ? "FAIL" : "pass",
              static_cast<unsigned long long>(summary.schedules_explored));
  return failures == 0 ? 0 : 1;
}
