// The msdosfs out-of-space bug (rump paper): extending a file on a full
// volume failed at page-out time; the kernel ignored the error and dropped
// the data from the page cache, so the application never learnt of it.
#include <gtest/gtest.h>

#include "pager/tests/test_util.h"

namespace vfsim::pager {
namespace {

using testing::FakeBackend;
using testing::pattern;
using testing::Rig;

PagerConfig cfg(bool kept) {
  PagerConfig c;
  c.pages = 32;
  c.syncer_period = 0;
  c.writeback_errors_kept = kept;
  return c;
}

// Default: the ENOSPC of the page-out comes back from fsync, the data stays
// in the cache (still readable, still dirty), and a second fsync that fails
// again says so again.
TEST(Writeback, ErrorIsKeptAndReturnedByFsync) {
  Rig rig(cfg(true));
  FakeBackend be(*rig.pager);
  be.capacity_pages = 2;
  rig.machine->spawn("app", [&] {
    PageObject& obj = rig.pager->create_object("fat file", be);
    const auto data = pattern(1, 4 * kPageSize);
    EXPECT_EQ(rig.pager->write(obj, 0, data, KM_SLEEP).err(), 0);
    EXPECT_EQ(rig.pager->fsync(obj).err(), ENOSPC);
    EXPECT_EQ(obj.dirty_pages(), 2u);
    std::vector<std::byte> got(4 * kPageSize);
    EXPECT_EQ(rig.pager->read(obj, 0, got).err(), 0);
    EXPECT_EQ(got, data);
    EXPECT_EQ(rig.pager->fsync(obj).err(), ENOSPC);
    be.capacity_pages = 10;  // space was freed on the volume
    EXPECT_EQ(rig.pager->fsync(obj).err(), 0);
    EXPECT_EQ(be.store.size(), 4u);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// An error met by the pagedaemon (memory pressure, no fsync) is not lost
// either: close (take_error) returns it.
TEST(Writeback, PagedaemonErrorReachesClose) {
  Rig rig(cfg(true));
  FakeBackend be(*rig.pager);
  FakeBackend other(*rig.pager);
  be.capacity_pages = 1;
  rig.machine->spawn("app", [&] {
    PageObject& obj = rig.pager->create_object("fat file", be);
    PageObject& big = rig.pager->create_object("other", other);
    EXPECT_EQ(rig.pager->write(obj, 0, pattern(1, 3 * kPageSize), KM_SLEEP).err(), 0);
    std::vector<std::byte> buf(kPageSize);
    for (std::uint64_t i = 0; i < 64; ++i)
      EXPECT_EQ(rig.pager->read(big, i * kPageSize, buf).err(), 0);
    EXPECT_GE(rig.pager->stats().writeback_errors, 1u);
    EXPECT_EQ(rig.pager->take_error(obj).err(), ENOSPC);
    EXPECT_EQ(rig.pager->take_error(obj).err(), 0);
    rig.pager->destroy_object(obj);
    rig.pager->destroy_object(big);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

// pager.writeback_errors_kept=false (historic msdosfs): fsync says 0, the
// pages that did not fit are gone from the cache and read back as zeros.
TEST(Writeback, HistoricBehaviourLosesDataSilently) {
  Rig rig(cfg(false));
  FakeBackend be(*rig.pager);
  be.capacity_pages = 2;
  rig.machine->spawn("app", [&] {
    PageObject& obj = rig.pager->create_object("fat file", be);
    const auto data = pattern(1, 4 * kPageSize);
    EXPECT_EQ(rig.pager->write(obj, 0, data, KM_SLEEP).err(), 0);
    EXPECT_EQ(rig.pager->fsync(obj).err(), 0);  // the bug: no error
    EXPECT_EQ(rig.pager->take_error(obj).err(), 0);
    std::vector<std::byte> got(4 * kPageSize);
    EXPECT_EQ(rig.pager->read(obj, 0, got).err(), 0);
    EXPECT_TRUE(std::equal(got.begin(), got.begin() + 2 * kPageSize, data.begin()));
    EXPECT_EQ(std::vector<std::byte>(got.begin() + 2 * kPageSize, got.end()),
              std::vector<std::byte>(2 * kPageSize));
    EXPECT_EQ(rig.pager->stats().writeback_dropped, 2u);
    rig.pager->destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

}  // namespace
}  // namespace vfsim::pager
