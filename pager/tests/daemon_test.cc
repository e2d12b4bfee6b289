#include <gtest/gtest.h>

#include "pager/tests/test_util.h"

namespace vfsim::pager {
namespace {

using testing::FakeBackend;
using testing::pattern;
using testing::Rig;
using testing::trace_has;

// The syncer puts dirty pages one period after they were dirtied, without
// any fsync; before the period nothing is written.
TEST(Syncer, FlushesDirtyPagesEveryPeriod) {
  PagerConfig c;
  c.pages = 32;
  c.syncer_period = 100 * sim::kMillisecond;
  Rig rig(c);
  FakeBackend be(*rig.pager);
  rig.machine->spawn("writer", [&] {
    PageObject& obj = rig.pager->create_object("f", be);
    EXPECT_EQ(rig.pager->write(obj, 0, pattern(3, 2 * kPageSize), KM_SLEEP).err(), 0);
    rig.machine->sleep_for(50 * sim::kMillisecond);
    EXPECT_TRUE(be.store.empty());
    rig.machine->sleep_for(100 * sim::kMillisecond);
    EXPECT_EQ(be.store.size(), 2u);
    EXPECT_EQ(obj.dirty_pages(), 0u);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// With nothing dirty the syncer sleeps without a timer, so a machine whose
// users all wait forever is reported as stuck instead of ticking on.
TEST(Syncer, IdleSyncerKeepsNoTimer) {
  PagerConfig c;
  c.pages = 32;
  Rig rig(c);
  rig.machine->spawn("stuck", [&] {
    sim::WaitChannel never(*rig.machine, "never");
    never.sleep("forever");
  });
  const auto r = rig.run();
  EXPECT_EQ(r.outcome, sim::Outcome::hang);
  EXPECT_EQ(r.end_time, 0u);
}

// Hysteresis: reading more pages than memory wakes the pagedaemon when free
// memory drops below freemin, and each wakeup frees up to freetarg.
TEST(Pagedaemon, FreesCleanPagesUpToFreetarg) {
  PagerConfig c;
  c.pages = 64;
  c.freemin = 4;
  c.freetarg = 12;
  Rig rig(c);
  FakeBackend be(*rig.pager);
  std::size_t min_free = 64;
  rig.machine->spawn("reader", [&] {
    PageObject& obj = rig.pager->create_object("f", be);
    std::vector<std::byte> buf(kPageSize);
    for (std::uint64_t i = 0; i < 200; ++i) {
      EXPECT_EQ(rig.pager->read(obj, i * kPageSize, buf).err(), 0);
      min_free = std::min(min_free, rig.pager->stats().free);
    }
    EXPECT_GE(rig.pager->stats().scans, 1u);
    EXPECT_GE(rig.pager->stats().pages_reclaimed, 200u - 64u);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
  EXPECT_LT(min_free, 4u);
}

// The pagedaemon writes dirty pages back before freeing them; what it wrote
// reads back from the backing store.
TEST(Pagedaemon, PutsDirtyPagesThenFreesThem) {
  PagerConfig c;
  c.pages = 32;
  c.syncer_period = 0;
  Rig rig(c);
  FakeBackend be(*rig.pager);
  rig.machine->spawn("writer", [&] {
    PageObject& obj = rig.pager->create_object("f", be);
    for (std::uint64_t i = 0; i < 100; ++i)
      EXPECT_EQ(rig.pager->write(obj, i * kPageSize, pattern(i), KM_SLEEP).err(), 0);
    EXPECT_GE(be.store.size(), 60u);
    std::vector<std::byte> buf(kPageSize);
    for (std::uint64_t i = 0; i < 100; ++i) {
      EXPECT_EQ(rig.pager->read(obj, i * kPageSize, buf).err(), 0);
      EXPECT_EQ(buf, pattern(i)) << i;
    }
    EXPECT_EQ(rig.pager->fsync(obj).err(), 0);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// When every page-out fails transiently a scan frees nothing: the trace says
// so, the pagedaemon naps and retries, and memory recovers once the backend
// works again.
TEST(Pagedaemon, ReportsFruitlessScanAndRetries) {
  PagerConfig c;
  c.pages = 32;
  c.syncer_period = 0;
  Rig rig(c, 1, /*keep_trace=*/true);
  FakeBackend be(*rig.pager);
  be.transient_error = Status(EAGAIN);
  rig.machine->spawn("writer", [&] {
    PageObject& obj = rig.pager->create_object("f", be);
    for (std::uint64_t i = 0; i < 40; ++i)
      EXPECT_EQ(rig.pager->write(obj, i * kPageSize, pattern(i), KM_SLEEP).err(), 0);
    EXPECT_EQ(rig.pager->fsync(obj).err(), 0);
    rig.pager->destroy_object(obj);
  });
  rig.machine->spawn("repair", [&] {
    rig.machine->sleep_for(200 * sim::kMillisecond);
    be.transient_error = kOk;
  });
  const auto r = rig.run();
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
  EXPECT_TRUE(trace_has(r, "pagedaemon", "scan freed nothing"));
  EXPECT_GE(rig.pager->stats().fruitless_scans, 1u);
}

}  // namespace
}  // namespace vfsim::pager
