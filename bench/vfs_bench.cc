// The VFS op mix of issue 3, through vfsim + memfs and through real
// syscalls on the host's tmpfs (/dev/shm), in one run. One iteration is:
// create (open O_CREAT), write 4 KiB, close, open, read 4 KiB, close, stat,
// rename, unlink — 9 syscalls. Items are syscalls, so items_per_second
// compares directly.
//  - BM_HostTmpfs: real syscalls in a scratch directory under /dev/shm.
//  - BM_Vfsim/1lwp: one lwp, no other lwp to switch to (no preemption).
//  - BM_Vfsim/2lwp_random, 2lwp_pct: two lwps each running the mix on
//    their own files, the strategy deciding at every scheduling point where
//    both are ready; random switches lwp at about half of them, pct only at
//    its change points. Items count both lwps' syscalls.
//  - BM_HostTmpfs8, BM_Vfsim/mix8_*: the issue's literal "plain loop of
//    those 8 syscalls": one open that creates (O_RDWR), write 4 KiB, lseek
//    back, read, close, stat, rename, unlink.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "boot/world.h"
#include "sim/machine.h"
#include "sim/strategy.h"
#include "vfs/kernel.h"

namespace {

constexpr int kSyscallsPerIteration = 9;
const std::string kPage(4096, 'v');

// One iteration of a mix on the host, on files a and b of a scratch directory.
using HostMix = void (*)(const char* a, const char* b);

void host_mix9(const char* a, const char* b) {
  char buf[4096];
  struct stat st {};
  int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  benchmark::DoNotOptimize(write(fd, kPage.data(), kPage.size()));
  close(fd);
  fd = open(a, O_RDONLY);
  benchmark::DoNotOptimize(read(fd, buf, sizeof buf));
  close(fd);
  benchmark::DoNotOptimize(stat(a, &st));
  benchmark::DoNotOptimize(rename(a, b));
  benchmark::DoNotOptimize(unlink(b));
}

// The "plain loop of those 8 syscalls": one open that creates,
// write 4 KiB, seek back, read it, close, stat, rename, unlink.
void host_mix8(const char* a, const char* b) {
  char buf[4096];
  struct stat st {};
  int fd = open(a, O_CREAT | O_RDWR | O_TRUNC, 0644);
  benchmark::DoNotOptimize(write(fd, kPage.data(), kPage.size()));
  benchmark::DoNotOptimize(lseek(fd, 0, SEEK_SET));
  benchmark::DoNotOptimize(read(fd, buf, sizeof buf));
  close(fd);
  benchmark::DoNotOptimize(stat(a, &st));
  benchmark::DoNotOptimize(rename(a, b));
  benchmark::DoNotOptimize(unlink(b));
}

void BM_HostTmpfs(benchmark::State& state, HostMix mix, int syscalls_per_iteration) {
  char dir[] = "/dev/shm/vfsim-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("cannot create a directory under /dev/shm");
    return;
  }
  const std::string a = std::string(dir) + "/a", b = std::string(dir) + "/b";
  for (auto _ : state) mix(a.c_str(), b.c_str());
  rmdir(dir);
  state.SetItemsProcessed(state.iterations() * syscalls_per_iteration);
}
// The names stay those of earlier runs in docs/PERFORMANCE.md.
BENCHMARK_CAPTURE(BM_HostTmpfs, , host_mix9, kSyscallsPerIteration)->Name("BM_HostTmpfs");
BENCHMARK_CAPTURE(BM_HostTmpfs, , host_mix8, 8)->Name("BM_HostTmpfs8");

using vfsim::vfs::Kernel;
using vfsim::vfs::Proc;

// Both mixes end the same way: read 4 KiB from the open fd, close it, then
// stat, rename and unlink by name. Aborts the run on any error.
void vfs_mix_tail(Kernel& k, Proc& p, int fd, const std::string& a, const std::string& b) {
  auto& m = k.machine();
  auto data = k.read(p, fd, 4096);
  if (!data.ok() || data->size() != 4096) m.panic("bench: read failed");
  (void)k.close(p, fd);
  if (!k.stat(p, a).ok()) m.panic("bench: stat failed");
  if (!k.rename(p, a, b).ok()) m.panic("bench: rename failed");
  if (!k.unlink(p, b).ok()) m.panic("bench: unlink failed");
}

// Creates a and writes 4 KiB to it; returns the fd.
int vfs_create_write(Kernel& k, Proc& p, const std::string& a, int oflags) {
  auto& m = k.machine();
  auto fd = k.open(p, a, O_CREAT | O_TRUNC | oflags, 0644);
  if (!fd.ok()) m.panic("bench: create failed");
  if (!k.write(p, *fd, kPage).ok()) m.panic("bench: write failed");
  return *fd;
}

// One iteration of the 9-syscall mix in the simulation.
void vfs_mix(Kernel& k, Proc& p, const std::string& a, const std::string& b) {
  (void)k.close(p, vfs_create_write(k, p, a, O_WRONLY));
  auto fd = k.open(p, a, O_RDONLY);
  if (!fd.ok()) k.machine().panic("bench: open failed");
  vfs_mix_tail(k, p, *fd, a, b);
}

// The 8-syscall loop of BM_HostTmpfs8 in the simulation.
void vfs_mix8(Kernel& k, Proc& p, const std::string& a, const std::string& b) {
  const int fd = vfs_create_write(k, p, a, O_RDWR);
  if (!k.lseek(p, fd, 0, SEEK_SET).ok()) k.machine().panic("bench: lseek failed");
  vfs_mix_tail(k, p, fd, a, b);
}

using MixFn = void (*)(Kernel&, Proc&, const std::string&, const std::string&);

void BM_Vfsim(benchmark::State& state, int nlwps, const char* strategy_name, MixFn mix = vfs_mix,
              int syscalls_per_iteration = kSyscallsPerIteration) {
  using namespace vfsim;
  sim::StrategyParams params;
  auto strategy = sim::make_strategy(strategy_name, params);
  strategy->begin_run(0, 1);
  sim::MachineOptions mo;
  mo.step_budget = ~std::uint64_t{0};
  sim::Machine m(mo, *strategy);
  boot::World w(m, boot::BootConfig{});  // memfs at "/"
  Kernel& k = w.kernel();
  std::uint64_t other_iterations = 0;
  m.spawn("bench", [&] {
    if (!w.mount_root().ok()) m.panic("bench: mount failed");
    Proc& p = k.proc_create("bench", vn::Cred{});
    k.attach_current_lwp(p);
    bool done = false;
    std::vector<sim::LwpId> others;
    for (int i = 1; i < nlwps; ++i) {
      others.push_back(m.spawn("other" + std::to_string(i), [&, i] {
        Proc& q = k.proc_create("other", vn::Cred{});
        k.attach_current_lwp(q);
        const std::string a = "/o" + std::to_string(i), b = a + "b";
        while (!done) {
          mix(k, q, a, b);
          ++other_iterations;
        }
      }));
    }
    for (auto _ : state) mix(k, p, "/a", "/b");
    done = true;
    for (auto id : others) m.join(id);
    (void)k.shutdown();
  });
  auto r = m.run();
  if (r.failed()) state.SkipWithError(r.message.c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() + other_iterations) *
                          syscalls_per_iteration);
  state.counters["steps_per_syscall"] =
      static_cast<double>(r.steps) /
      static_cast<double>((state.iterations() + other_iterations) * syscalls_per_iteration);
  state.counters["preemptions_per_iteration"] =
      static_cast<double>(r.preemptions) /
      static_cast<double>(state.iterations() ? state.iterations() : 1);
}
BENCHMARK_CAPTURE(BM_Vfsim, 1lwp, 1, "replay");
// A fixed number of iterations, so `perf stat -e instructions:u` over this
// one benchmark counts instructions per iteration on a noisy machine.
BENCHMARK_CAPTURE(BM_Vfsim, 1lwp_fixed, 1, "replay")->Iterations(20000);
BENCHMARK_CAPTURE(BM_Vfsim, 2lwp_random, 2, "random");
BENCHMARK_CAPTURE(BM_Vfsim, 2lwp_random_fixed, 2, "random")->Iterations(5000);
BENCHMARK_CAPTURE(BM_Vfsim, 2lwp_pct, 2, "pct");
BENCHMARK_CAPTURE(BM_Vfsim, 2lwp_pct_fixed, 2, "pct")->Iterations(20000);
BENCHMARK_CAPTURE(BM_Vfsim, mix8_1lwp, 1, "replay", vfs_mix8, 8);
BENCHMARK_CAPTURE(BM_Vfsim, mix8_1lwp_fixed, 1, "replay", vfs_mix8, 8)->Iterations(20000);
BENCHMARK_CAPTURE(BM_Vfsim, mix8_2lwp_random, 2, "random", vfs_mix8, 8);
BENCHMARK_CAPTURE(BM_Vfsim, mix8_2lwp_pct, 2, "pct", vfs_mix8, 8);

}  // namespace

BENCHMARK_MAIN();
