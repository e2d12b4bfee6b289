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
  c.swap_slots = 32;
  return c;
}

// A second read of a cached page is served from the cache: getpages runs
// once, and both reads return the backing store's bytes.
TEST(PageCache, ReadHitDoesNotPageIn) {
  Rig rig(small());
  FakeBackend be(*rig.pager);
  be.store[0] = pattern(5);
  rig.machine->spawn("reader", [&] {
    PageObject& obj = rig.pager->create_object("f", be);
    std::vector<std::byte> a(kPageSize), b(kPageSize);
    EXPECT_EQ(rig.pager->read(obj, 0, a).err(), 0);
    EXPECT_EQ(rig.pager->read(obj, 0, b).err(), 0);
    EXPECT_EQ(a, pattern(5));
    EXPECT_EQ(b, pattern(5));
    EXPECT_EQ(be.getpages_calls, 1u);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// Writes stay in the cache (dirty) until fsync puts them; then the backing
// store has them and the pages are clean.
TEST(PageCache, FsyncPutsDirtyPages) {
  PagerConfig c = small();
  c.syncer_period = 0;
  Rig rig(c);
  FakeBackend be(*rig.pager);
  rig.machine->spawn("writer", [&] {
    PageObject& obj = rig.pager->create_object("f", be);
    const auto data = pattern(9, 3 * kPageSize);
    std::size_t n = 0;
    EXPECT_EQ(rig.pager->write(obj, 0, data, KM_SLEEP, &n).err(), 0);
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(obj.dirty_pages(), 3u);
    EXPECT_TRUE(be.store.empty());
    EXPECT_EQ(rig.pager->fsync(obj).err(), 0);
    EXPECT_EQ(obj.dirty_pages(), 0u);
    ASSERT_EQ(be.store.size(), 3u);
    EXPECT_TRUE(std::equal(be.store[kPageSize].begin(), be.store[kPageSize].end(),
                           data.begin() + kPageSize));
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// A write covering part of a page first pages in the old bytes, so the rest
// of the page survives; a whole-page write needs no page-in.
TEST(PageCache, PartialWriteKeepsOldBytes) {
  Rig rig(small());
  FakeBackend be(*rig.pager);
  be.store[0] = pattern(1);
  be.store[kPageSize] = pattern(2);
  rig.machine->spawn("writer", [&] {
    PageObject& obj = rig.pager->create_object("f", be);
    const auto patch = pattern(3, 100);
    EXPECT_EQ(rig.pager->write(obj, 10, patch, KM_SLEEP).err(), 0);
    EXPECT_EQ(be.getpages_calls, 1u);
    EXPECT_EQ(rig.pager->write(obj, kPageSize, pattern(4), KM_SLEEP).err(), 0);
    EXPECT_EQ(be.getpages_calls, 1u);
    std::vector<std::byte> got(kPageSize);
    EXPECT_EQ(rig.pager->read(obj, 0, got).err(), 0);
    auto want = pattern(1);
    std::copy(patch.begin(), patch.end(), want.begin() + 10);
    EXPECT_EQ(got, want);
    EXPECT_EQ(rig.pager->fsync(obj).err(), 0);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// Truncation drops the pages past the new size and zeros the tail of the
// last page, so extending the file again reads zeros there.
TEST(PageCache, TruncateZerosTailAndDropsPages) {
  Rig rig(small());
  rig.machine->spawn("t", [&] {
    PageObject& obj = rig.pager->create_anon_object("anon");
    EXPECT_EQ(rig.pager->write(obj, 0, pattern(7, 3 * kPageSize), KM_SLEEP).err(), 0);
    EXPECT_EQ(rig.pager->truncate(obj, kPageSize + 100).err(), 0);
    EXPECT_EQ(obj.resident_pages(), 2u);
    std::vector<std::byte> got(kPageSize);
    EXPECT_EQ(rig.pager->read(obj, kPageSize, got).err(), 0);
    const auto full = pattern(7, 3 * kPageSize);
    for (std::size_t i = 0; i < kPageSize; ++i) {
      const std::byte want = i < 100 ? full[kPageSize + i] : std::byte{0};
      ASSERT_EQ(got[i], want) << i;
    }
    EXPECT_EQ(rig.pager->read(obj, 2 * kPageSize, got).err(), 0);
    EXPECT_EQ(got, std::vector<std::byte>(kPageSize));
    rig.pager->destroy_object(obj);
    EXPECT_EQ(rig.pager->stats().anon_pages, 0u);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// Reading a never-written anonymous range costs no page at all.
TEST(PageCache, AnonymousHoleReadsZerosWithoutAPage) {
  Rig rig(small());
  rig.machine->spawn("t", [&] {
    PageObject& obj = rig.pager->create_anon_object("anon");
    std::vector<std::byte> got(2 * kPageSize, std::byte{1});
    EXPECT_EQ(rig.pager->read(obj, 0, got).err(), 0);
    EXPECT_EQ(got, std::vector<std::byte>(2 * kPageSize));
    EXPECT_EQ(obj.resident_pages(), 0u);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// An object still alive at teardown is reported as a leak.
TEST(PageCache, UndestroyedObjectIsALeak) {
  Rig rig(small());
  rig.machine->spawn("t", [&] {
    PageObject& obj = rig.pager->create_anon_object("forgotten");
    EXPECT_EQ(rig.pager->write(obj, 0, pattern(1), KM_SLEEP).err(), 0);
  });
  const auto r = rig.run();
  EXPECT_EQ(r.outcome, sim::Outcome::leak);
  EXPECT_NE(r.message.find("forgotten"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace vfsim::pager
