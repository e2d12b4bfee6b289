// Figures for docs/fuse.md: schedules per second of the GETATTR/WRITE race
// (fixes on, pct depth 4) through puffs (memfs served by p2k) and through
// FUSE (memfs_ll served by libfuse with 2 workers, behind the same puffs
// stub), measured side by side in one run. Not a test: it prints.
//
//   fuse_race_figures [schedules [fuse_workers]]
#include <fcntl.h>

#include <cstdio>
#include <cstdlib>

#include "fsdrivers/fuse/tests/fuse_world.h"
#include "fsdrivers/puffs/tests/puffs_world.h"

namespace {

using namespace vfsim;

template <class W>
void append_race(W& w) {
  auto fd = w.k.open(w.p, "/conf", O_CREAT | O_WRONLY | O_APPEND, 0644);
  if (!fd.ok()) w.m().fail(sim::Outcome::panic, "open failed");
  const int wfd = *fd;
  const sim::LwpId writer = w.m().spawn("writer", [&w, wfd] {
    (void)w.k.write(w.p, wfd, "AAAA");
    w.m().sleep_for(sim::kMillisecond);
    (void)w.k.write(w.p, wfd, "BBBB");
  });
  const sim::LwpId statter = w.m().spawn("stat", [&w, wfd] { (void)w.k.fstat(w.p, wfd); });
  w.m().join(writer);
  w.m().join(statter);
  (void)w.k.close(w.p, wfd);
  auto rfd = w.k.open(w.p, "/conf", O_RDONLY);
  const auto got = w.k.read(w.p, *rfd, 100);
  (void)w.k.close(w.p, *rfd);
  if (!got.ok() || *got != "AAAABBBB") w.m().fail(sim::Outcome::expectation, "lost bytes");
}

void report(const char* what, const sim::ExploreSummary& s) {
  std::printf("%-40s %8llu schedules  %8.0f schedules/s  outcome %s  max steps %llu\n", what,
              static_cast<unsigned long long>(s.schedules_explored), s.schedules_per_second,
              std::string(sim::outcome_name(s.outcome)).c_str(),
              static_cast<unsigned long long>(s.max_steps));
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
  sim::ExploreOptions eo;
  eo.strategy = "pct";
  eo.depth = 4;
  eo.schedules = n;
  auto puffs_run =
      sim::explore(puffs::testing::world_fn({{"workers", "2"}},
                                            [](puffs::testing::World& w) { append_race(w); }),
                   eo);
  fuse::testing::WorldOptions fo;
  fo.fs = "memfs_ll";
  fo.workers = argc > 2 ? std::atoi(argv[2]) : 2;
  auto fuse_run = sim::explore(
      fuse::testing::world_fn(fo, [](fuse::testing::World& w) { append_race(w); }), eo);
  report("getattr_write_race over puffs (p2k memfs)", puffs_run);
  report(fo.workers == 1 ? "getattr_write_race over FUSE, 1 worker"
                         : "getattr_write_race over FUSE (memfs_ll)",
         fuse_run);
  std::printf("FUSE / puffs = %.2f\n",
              fuse_run.schedules_per_second / puffs_run.schedules_per_second);
  return puffs_run.outcome == sim::Outcome::pass && fuse_run.outcome == sim::Outcome::pass ? 0 : 1;
}
