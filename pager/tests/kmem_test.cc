#include <gtest/gtest.h>

#include "pager/tests/test_util.h"

namespace vfsim::pager {
namespace {

using testing::FakeBackend;
using testing::pattern;
using testing::Rig;

PagerConfig small(std::size_t pages = 32) {
  PagerConfig c;
  c.pages = pages;
  c.swap_slots = 0;
  c.syncer_period = 0;
  return c;
}

// free + cache + kmem + wired == total after every kind of allocation, and
// small kmem allocations share an arena page.
TEST(Kmem, AccountingAddsUp) {
  Rig rig(small());
  rig.machine->spawn("t", [&] {
    Pager& p = *rig.pager;
    KmemBlock a = p.kmem_alloc(100, KM_SLEEP);    // a test: may wait
    KmemBlock b = p.kmem_alloc(200, KM_NOSLEEP);  // a test: must not wait
    ASSERT_TRUE(a && b);
    EXPECT_EQ(p.stats().kmem, 1u);
    KmemBlock c = p.kmem_alloc(3 * kPageSize, KM_SLEEP);  // a test: may wait
    EXPECT_EQ(p.stats().kmem, 4u);
    EXPECT_EQ(p.wire(2, KM_SLEEP).err(), 0);
    PageObject& obj = p.create_anon_object("anon");
    EXPECT_EQ(p.write(obj, 0, pattern(1, 2 * kPageSize), KM_SLEEP).err(), 0);
    const PagerStats s = p.stats();
    EXPECT_EQ(s.free + s.cache + s.kmem + s.wired, s.total);
    EXPECT_EQ(s.cache, 2u);
    EXPECT_EQ(s.wired, 2u);
    EXPECT_EQ(p.check(), "");
    p.kmem_free(a);
    p.kmem_free(b);
    p.kmem_free(c);
    p.unwire(2);
    p.destroy_object(obj);
    EXPECT_EQ(p.stats().free, 32u);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// KM_NOSLEEP fails at once when memory is short; KM_SLEEP waits until the
// memory comes back (here: another lwp unwires it after a while).
TEST(Kmem, NosleepFailsSleepWaits) {
  Rig rig(small());
  bool got = false;
  rig.machine->spawn("hog", [&] {
    EXPECT_EQ(rig.pager->wire(32, KM_NOSLEEP).err(), 0);
    rig.machine->sleep_for(50 * sim::kMillisecond);
    rig.pager->unwire(32);
  });
  rig.machine->spawn("alloc", [&] {
    rig.machine->sleep_for(sim::kMillisecond);
    KmemBlock n = rig.pager->kmem_alloc(10, KM_NOSLEEP);  // a test: must not wait
    EXPECT_FALSE(n);
    KmemBlock s = rig.pager->kmem_alloc(10, KM_SLEEP);  // a test: waits for the hog
    EXPECT_TRUE(s);
    EXPECT_GE(rig.machine->now(), 50 * sim::kMillisecond);
    got = true;
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
  EXPECT_TRUE(got);
}

// A KM_SLEEP allocation that finds memory full of clean cache pages wakes the
// pagedaemon, which frees them, and then succeeds.
TEST(Kmem, SleepingAllocationIsServedByThePagedaemon) {
  Rig rig(small());
  FakeBackend be(*rig.pager);
  rig.machine->spawn("t", [&] {
    Pager& p = *rig.pager;
    PageObject& obj = p.create_object("f", be);
    std::vector<std::byte> buf(kPageSize);
    for (std::uint64_t i = 0; i < 32; ++i) EXPECT_EQ(p.read(obj, i * kPageSize, buf).err(), 0);
    EXPECT_LT(p.stats().free, 8u);
    KmemBlock k = p.kmem_alloc(8 * kPageSize, KM_SLEEP);  // a test: may wait
    EXPECT_TRUE(k);
    EXPECT_GE(p.stats().scans, 1u);
    p.kmem_free(k);
    p.destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// The calling context is known: only the pagedaemon lwp is "in the pagedaemon".
TEST(Kmem, CallingContextIsKnown) {
  Rig rig(small());
  rig.machine->spawn("user", [&] {
    EXPECT_FALSE(rig.pager->in_pagedaemon());
    EXPECT_EQ(rig.machine->current().tags & kTagPagedaemon, 0u);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
  EXPECT_NE(rig.pager->pagedaemon_lwp(), sim::kNoLwp);
  EXPECT_NE(rig.machine->lwp(rig.pager->pagedaemon_lwp())->tags & kTagPagedaemon, 0u);
}

// kmem_fail_nth fails exactly the n-th allocation, even a KM_SLEEP one.
TEST(Kmem, FailNthFailsExactlyThatOne) {
  PagerConfig c = small();
  c.kmem_fail_nth = 3;
  Rig rig(c);
  rig.machine->spawn("t", [&] {
    std::vector<bool> ok;
    for (int i = 0; i < 5; ++i) {
      KmemBlock b = rig.pager->kmem_alloc(64, KM_SLEEP);  // a test: may wait
      ok.push_back(static_cast<bool>(b));
    }
    EXPECT_EQ(ok, (std::vector<bool>{true, true, false, true, true}));
    EXPECT_EQ(rig.pager->stats().injected_failures, 1u);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// kmem_fail_p fails allocations at about the given rate, the same ones for
// the same seed.
TEST(Kmem, FailProbabilityIsSeeded) {
  auto failures = [](std::uint64_t seed) {
    PagerConfig c = small();
    c.kmem_fail_p = 0.25;
    Rig rig(c, seed);
    std::vector<bool> ok;
    rig.machine->spawn("t", [&] {
      for (int i = 0; i < 400; ++i) {
        KmemBlock b = rig.pager->kmem_alloc(64, KM_NOSLEEP);  // a test: must not wait
        ok.push_back(static_cast<bool>(b));
      }
    });
    EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
    return ok;
  };
  const auto a = failures(7);
  EXPECT_EQ(a, failures(7));
  const auto n = std::count(a.begin(), a.end(), false);
  EXPECT_GT(n, 60);
  EXPECT_LT(n, 140);
}

}  // namespace
}  // namespace vfsim::pager
