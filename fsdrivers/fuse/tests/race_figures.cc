// Figures for docs/fuse.md: schedules per second of the GETATTR/WRITE race
// (fixes on, pct depth 4) through puffs (memfs served by p2k) and through
// FUSE (memfs_ll served by libfuse with 2 workers, behind the same puffs
// stub), measured side by side in one run. Not a test: it prints.
//
//   fuse_race_figures [schedules [fuse_workers]]
//     The two sides alternate in ten rounds (see main), so that both see
//     the same load on a shared machine; the ratio is given by wall and
//     CPU time (docs/PERFORMANCE.md, "FUSE vs puffs").
//   fuse_race_figures steps [fuse_workers]
//     Where one schedule's scheduling points go, by lwp and tag.
//   fuse_race_figures empty
//     The fixed cost of a run: mount, unmount and nothing between.
#include <fcntl.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

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

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);  // determinism-ok: a figure, not a decision
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// One side's totals over the rounds.
struct Side {
  std::uint64_t schedules = 0;
  std::uint64_t max_steps = 0;
  double wall = 0;
  double cpu = 0;
  bool pass = true;
  void run(const sim::RunFn& fn, const sim::ExploreOptions& eo) {
    const double c0 = cpu_seconds();
    const sim::ExploreSummary s = sim::explore(fn, eo);
    cpu += cpu_seconds() - c0;
    wall += s.seconds;
    schedules += s.schedules_explored;
    max_steps = std::max(max_steps, s.max_steps);
    pass = pass && s.outcome == sim::Outcome::pass;
  }
  void report(const char* what) const {
    std::printf("%-40s %8llu schedules  %8.0f schedules/s  (cpu %8.0f/s)  %s  max steps %llu\n",
                what, static_cast<unsigned long long>(schedules),
                static_cast<double>(schedules) / wall, static_cast<double>(schedules) / cpu,
                pass ? "pass" : "FAIL", static_cast<unsigned long long>(max_steps));
  }
};

// Runs one schedule (random, seed 1) with the trace kept and prints its
// scheduling points by lwp group and tag, most frequent first.
void print_steps(const char* what, const sim::RunFn& fn) {
  sim::MachineOptions mo;
  mo.seed = 1;
  mo.keep_trace = true;
  auto st = sim::make_strategy("random", sim::StrategyParams{});
  (void)st->begin_run(0, 1);
  const sim::RunResult r = fn(mo, *st);
  std::map<std::pair<std::string, std::string>, int> by;
  int total = 0;
  for (const auto& e : r.events) {
    if (e.kind != "sched") continue;
    std::string who = "?";
    if (e.lwp < r.lwps.size()) {
      who = r.lwps[e.lwp].group.empty() ? r.lwps[e.lwp].name : r.lwps[e.lwp].group;
    }
    ++by[{who, e.detail}];
    ++total;
  }
  std::vector<std::pair<int, std::pair<std::string, std::string>>> v;
  for (const auto& [k, n] : by) v.push_back({n, k});
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::printf("%s: %d scheduling points, outcome %s\n", what, total,
              std::string(sim::outcome_name(r.outcome)).c_str());
  for (const auto& [n, k] : v)
    std::printf("  %5d  %-24s %s\n", n, k.first.c_str(), k.second.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "steps") == 0) {
    print_steps("over puffs",
                puffs::testing::world_fn({{"workers", "2"}},
                                         [](puffs::testing::World& w) { append_race(w); }));
    fuse::testing::WorldOptions fo;
    fo.fs = "memfs_ll";
    fo.workers = argc > 2 ? std::atoi(argv[2]) : 2;
    print_steps("over FUSE",
                fuse::testing::world_fn(fo, [](fuse::testing::World& w) { append_race(w); }));
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "empty") == 0) {
    fuse::testing::WorldOptions fo;
    fo.fs = "memfs_ll";
    Side a, b;
    sim::ExploreOptions eo;
    eo.strategy = "pct";
    eo.schedules = 2000;
    a.run(puffs::testing::world_fn({{"workers", "2"}}, [](puffs::testing::World&) {}), eo);
    b.run(fuse::testing::world_fn(fo, [](fuse::testing::World&) {}), eo);
    a.report("empty puffs");
    b.report("empty fuse");
    return 0;
  }
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
  fuse::testing::WorldOptions fo;
  fo.fs = "memfs_ll";
  fo.workers = argc > 2 ? std::atoi(argv[2]) : 2;
  const sim::RunFn puffs_fn = puffs::testing::world_fn(
      {{"workers", "2"}}, [](puffs::testing::World& w) { append_race(w); });
  const sim::RunFn fuse_fn =
      fuse::testing::world_fn(fo, [](fuse::testing::World& w) { append_race(w); });
  // The machine is shared and its load swings within seconds: the two
  // sides alternate in kRounds rounds (each with its own pct seed, the
  // first side alternating too), so that both see the same load, and CPU
  // time is reported beside wall time.
  constexpr std::uint64_t kRounds = 10;
  Side puffs_side, fuse_side;
  for (std::uint64_t r = 0; r < kRounds; ++r) {
    sim::ExploreOptions eo;
    eo.strategy = "pct";
    eo.depth = 4;
    eo.seed = r + 1;
    eo.schedules = n / kRounds + (r < n % kRounds ? 1 : 0);
    if (eo.schedules == 0) continue;
    if (r % 2 == 0) {
      puffs_side.run(puffs_fn, eo);
      fuse_side.run(fuse_fn, eo);
    } else {
      fuse_side.run(fuse_fn, eo);
      puffs_side.run(puffs_fn, eo);
    }
  }
  puffs_side.report("getattr_write_race over puffs (p2k memfs)");
  fuse_side.report(fo.workers == 1 ? "getattr_write_race over FUSE, 1 worker"
                                   : "getattr_write_race over FUSE (memfs_ll)");
  std::printf("FUSE / puffs = %.2f (wall), %.2f (cpu)\n", puffs_side.wall / fuse_side.wall,
              puffs_side.cpu / fuse_side.cpu);
  return puffs_side.pass && fuse_side.pass ? 0 : 1;
}
