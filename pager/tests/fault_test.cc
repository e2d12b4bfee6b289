// SQLite-style out-of-memory testing at the pager level: a workload runs
// once per allocation it makes, with exactly that allocation failing.
#include <gtest/gtest.h>

#include "pager/tests/test_util.h"

namespace vfsim::pager {
namespace {

using testing::FakeBackend;
using testing::pattern;
using testing::Rig;

struct SweepRun {
  sim::RunResult result;
  std::uint64_t allocations = 0;
  std::uint64_t injected = 0;
  std::uint64_t errors_seen = 0;  // ENOMEM / ENOSPC returned to the workload
  std::vector<std::string> bad;   // anything else that went wrong
};

// Two lwps each write 60 pages of an anonymous file and 30 of a vnode-like
// file (each write preceded by a small kmem allocation, like a request
// header), then fsync and read everything back. Memory is 32 pages, so the
// pagedaemon swaps and puts. Every error must be ENOMEM/ENOSPC, and every
// write that succeeded must read back.
SweepRun run_sweep_workload(PagerConfig c, std::uint64_t seed) {
  c.pages = 32;
  c.swap_slots = 128;
  Rig rig(c, seed);
  Pager& p = *rig.pager;
  FakeBackend be0(p), be1(p);
  FakeBackend* bes[2] = {&be0, &be1};
  SweepRun out;
  auto note = [&](Status e, const std::string& what) {
    if (e.ok()) return;
    if (e.err() == ENOMEM || e.err() == ENOSPC) ++out.errors_seen;
    else out.bad.push_back(what + " returned " + std::to_string(e.err()));
  };
  for (int w = 0; w < 2; ++w) {
    rig.machine->spawn("user" + std::to_string(w), [&, w] {
      PageObject& anon = p.create_anon_object("anon" + std::to_string(w));
      PageObject& file = p.create_object("file" + std::to_string(w), *bes[w]);
      std::map<std::pair<int, std::uint64_t>, std::uint64_t> model;  // (obj, page) -> pattern
      for (std::uint64_t i = 0; i < 90; ++i) {
        KmemBlock hdr = p.kmem_alloc(256, KM_SLEEP);  // a request header; may wait
        if (!hdr) {
          note(Status(ENOMEM), "kmem_alloc");
          continue;
        }
        const int which = i < 60 ? 0 : 1;
        const std::uint64_t pg = which == 0 ? i : i - 60;
        const std::uint64_t pat = w * 10000 + i;
        const Status e = p.write(which == 0 ? anon : file, pg * kPageSize, pattern(pat), KM_SLEEP);
        note(e, "write");
        if (e.ok()) model[{which, pg}] = pat;
        p.kmem_free(hdr);
      }
      note(p.fsync(file), "fsync");
      std::vector<std::byte> buf(kPageSize);
      for (const auto& [key, pat] : model) {
        const Status e = p.read(key.first == 0 ? anon : file, key.second * kPageSize, buf);
        note(e, "read");
        if (e.ok() && buf != pattern(pat)) out.bad.push_back("page content differs");
      }
      p.destroy_object(anon);
      p.destroy_object(file);
    });
  }
  out.result = rig.run();
  out.allocations = p.stats().allocations;
  out.injected = p.stats().injected_failures;
  return out;
}

// Fails allocation k for every k the clean run makes (at least 500): no run
// panics or leaks, every failure reaches the workload as ENOMEM/ENOSPC (or
// is absorbed by a daemon's retry), and every successful write reads back.
TEST(AllocFaults, FailEachAllocationInTurn) {
  const SweepRun clean = run_sweep_workload(PagerConfig{}, 1);
  ASSERT_EQ(clean.result.outcome, sim::Outcome::pass) << clean.result.message;
  ASSERT_TRUE(clean.bad.empty()) << clean.bad.front();
  ASSERT_GE(clean.allocations, 500u);
  std::uint64_t surfaced = 0;
  for (std::uint64_t k = 1; k <= clean.allocations; ++k) {
    PagerConfig c;
    c.kmem_fail_nth = k;
    const SweepRun r = run_sweep_workload(c, 1);
    ASSERT_EQ(r.result.outcome, sim::Outcome::pass) << "k=" << k << ": " << r.result.message;
    ASSERT_TRUE(r.bad.empty()) << "k=" << k << ": " << r.bad.front();
    if (r.injected == 1) surfaced += r.errors_seen > 0 ? 1 : 0;
  }
  // Failures in a syscall's context reach it; daemon-context ones are retried.
  EXPECT_GT(surfaced, clean.allocations / 2);
}

// The same properties with random failures (p = 5%) over many seeds.
TEST(AllocFaults, RandomFailuresOverSeeds) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    PagerConfig c;
    c.kmem_fail_p = 0.05;
    const SweepRun r = run_sweep_workload(c, seed);
    ASSERT_EQ(r.result.outcome, sim::Outcome::pass) << "seed " << seed << ": " << r.result.message;
    ASSERT_TRUE(r.bad.empty()) << "seed " << seed << ": " << r.bad.front();
    EXPECT_GT(r.injected, 0u);
  }
}

}  // namespace
}  // namespace vfsim::pager
