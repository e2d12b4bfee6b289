// The per-syscall cost of the VFS op mix of issue 3 (create, write 4 KiB,
// close, open, read 4 KiB, close, stat, rename, unlink: 9 syscalls) through
// three file systems in one run, one lwp, no preemption (issue 14):
//  - BM_OpMix/memfs_direct: memfs under the VFS, no server;
//  - BM_OpMix/puffs: memfs served by p2k through the puffs stub, one puffs
//    socket and 2 server workers (fsdrivers/puffs/tests/puffs_world.h);
//  - BM_OpMix/fuse: memfs_ll, vfsim's low-level libfuse file system, run by
//    Debian's libfuse with 2 workers behind the perfused bridge and
//    /dev/fuse, under the same puffs stub (fsdrivers/fuse/tests/fuse_world.h).
// Items are syscalls, so items_per_second compares directly; the counters
// give the scheduling steps per syscall. The _fixed variants run exactly
// 5,000 iterations, for callgrind or perf stat on a noisy machine.
#include <benchmark/benchmark.h>
#include <fcntl.h>

#include <string>

#include "boot/world.h"
#include "fsdrivers/fuse/tests/fuse_world.h"
#include "fsdrivers/puffs/tests/puffs_world.h"
#include "sim/machine.h"
#include "sim/strategy.h"
#include "vfs/kernel.h"

namespace {

using namespace vfsim;

constexpr int kSyscallsPerIteration = 9;
const std::string kPage(4096, 'v');

void mix(vfs::Kernel& k, vfs::Proc& p) {
  sim::Machine& m = k.machine();
  auto fd = k.open(p, "/a", O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (!fd.ok()) m.panic("bench: create failed");
  if (!k.write(p, *fd, kPage).ok()) m.panic("bench: write failed");
  (void)k.close(p, *fd);
  fd = k.open(p, "/a", O_RDONLY);
  if (!fd.ok()) m.panic("bench: open failed");
  auto data = k.read(p, *fd, 4096);
  if (!data.ok() || data->size() != 4096) m.panic("bench: read failed");
  (void)k.close(p, *fd);
  if (!k.stat(p, "/a").ok()) m.panic("bench: stat failed");
  if (!k.rename(p, "/a", "/b").ok()) m.panic("bench: rename failed");
  if (!k.unlink(p, "/b").ok()) m.panic("bench: unlink failed");
}

sim::MachineOptions options() {
  sim::MachineOptions mo;
  mo.step_budget = ~std::uint64_t{0};
  mo.keep_schedule = false;
  return mo;
}

void finish(benchmark::State& state, const sim::RunResult& r) {
  if (r.failed()) state.SkipWithError(r.message.c_str());
  const auto syscalls = static_cast<double>(state.iterations()) * kSyscallsPerIteration;
  state.SetItemsProcessed(static_cast<std::int64_t>(syscalls));
  state.counters["steps_per_syscall"] =
      static_cast<double>(r.steps) / (syscalls > 0 ? syscalls : 1);
}

void BM_OpMix_memfs(benchmark::State& state) {
  auto st = sim::make_strategy("replay", {});
  (void)st->begin_run(0, 1);
  sim::Machine m(options(), *st);
  boot::World w(m, boot::BootConfig{});  // memfs at "/"
  vfs::Kernel& k = w.kernel();
  m.spawn("bench", [&] {
    if (!w.mount_root().ok()) m.panic("bench: mount failed");
    vfs::Proc& p = k.proc_create("bench", vn::Cred{});
    k.attach_current_lwp(p);
    for (auto _ : state) mix(k, p);
    (void)k.shutdown();
  });
  finish(state, m.run());
}

void BM_OpMix_puffs(benchmark::State& state) {
  auto st = sim::make_strategy("replay", {});
  (void)st->begin_run(0, 1);
  const sim::RunResult r =
      puffs::testing::run_world(options(), *st, {{"workers", "2"}}, [&](puffs::testing::World& w) {
        for (auto _ : state) mix(w.k, w.p);
      });
  finish(state, r);
}

void BM_OpMix_fuse(benchmark::State& state) {
  auto st = sim::make_strategy("replay", {});
  (void)st->begin_run(0, 1);
  fuse::testing::WorldOptions fo;
  fo.fs = "memfs_ll";
  const sim::RunResult r =
      fuse::testing::run_world(options(), *st, fo, [&](fuse::testing::World& w) {
        for (auto _ : state) mix(w.k, w.p);
      });
  finish(state, r);
}

BENCHMARK(BM_OpMix_memfs)->Name("BM_OpMix/memfs_direct");
BENCHMARK(BM_OpMix_puffs)->Name("BM_OpMix/puffs");
BENCHMARK(BM_OpMix_fuse)->Name("BM_OpMix/fuse");
BENCHMARK(BM_OpMix_memfs)->Name("BM_OpMix/memfs_direct_fixed")->Iterations(5000);
BENCHMARK(BM_OpMix_puffs)->Name("BM_OpMix/puffs_fixed")->Iterations(5000);
BENCHMARK(BM_OpMix_fuse)->Name("BM_OpMix/fuse_fixed")->Iterations(5000);

}  // namespace

BENCHMARK_MAIN();
