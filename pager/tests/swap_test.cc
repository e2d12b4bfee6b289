// Anonymous (memfs / tmpfs-like) pages under memory pressure: with swap they
// are paged out and back in; without, a write that needs memory fails with
// ENOSPC instead of being accepted and lost.
#include <gtest/gtest.h>

#include "pager/tests/test_util.h"

namespace vfsim::pager {
namespace {

using testing::pattern;
using testing::Rig;

// Three writers write 3x memory's worth of anonymous pages while two readers
// read them back; with enough swap, every page reads back what was written,
// under many schedules.
TEST(Swap, EverythingWrittenReadsBackUnderPressure) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    PagerConfig c;
    c.pages = 32;
    c.swap_slots = 96;
    Rig rig(c, seed);
    Pager& p = *rig.pager;
    std::vector<PageObject*> objs;
    rig.machine->spawn("setup", [&] {
      for (int w = 0; w < 3; ++w) objs.push_back(&p.create_anon_object("f" + std::to_string(w)));
      std::vector<sim::LwpId> ids;
      for (int w = 0; w < 3; ++w) {
        ids.push_back(rig.machine->spawn("writer" + std::to_string(w), [&, w] {
          for (std::uint64_t i = 0; i < 30; ++i)
            EXPECT_EQ(p.write(*objs[w], i * kPageSize, pattern(w * 1000 + i), KM_SLEEP).err(), 0);
        }));
      }
      for (int r = 0; r < 2; ++r) {
        ids.push_back(rig.machine->spawn("reader" + std::to_string(r), [&] {
          std::vector<std::byte> buf(kPageSize);
          for (int w = 0; w < 3; ++w) {
            for (std::uint64_t i = 0; i < 30; i += 3) {
              EXPECT_EQ(p.read(*objs[w], i * kPageSize, buf).err(), 0);
              // Either not written yet (zeros) or the writer's pattern.
              EXPECT_TRUE(buf == pattern(w * 1000 + i) || buf == std::vector<std::byte>(kPageSize));
            }
          }
        }));
      }
      for (sim::LwpId id : ids) rig.machine->join(id);
      std::vector<std::byte> buf(kPageSize);
      for (int w = 0; w < 3; ++w) {
        for (std::uint64_t i = 0; i < 30; ++i) {
          EXPECT_EQ(p.read(*objs[w], i * kPageSize, buf).err(), 0);
          EXPECT_EQ(buf, pattern(w * 1000 + i)) << "file " << w << " page " << i;
        }
      }
      EXPECT_GT(p.stats().swap_used, 0u);
      for (PageObject* o : objs) p.destroy_object(*o);
      EXPECT_EQ(p.stats().swap_used, 0u);
      EXPECT_EQ(p.stats().anon_pages, 0u);
    });
    const auto r = rig.run();
    ASSERT_EQ(r.outcome, sim::Outcome::pass) << "seed " << seed << ": " << r.message;
  }
}

// Without swap, anonymous data may fill memory less the pagedaemon's target;
// the write beyond fails with ENOSPC, and what was written before is intact.
TEST(Swap, WithoutSwapWritesFailWithEnospc) {
  PagerConfig c;
  c.pages = 32;
  c.swap_slots = 0;
  Rig rig(c);
  rig.machine->spawn("writer", [&] {
    Pager& p = *rig.pager;
    PageObject& obj = p.create_anon_object("f");
    std::uint64_t ok = 0;
    Status e;
    for (std::uint64_t i = 0; i < 40 && e.ok(); ++i) {
      e = p.write(obj, i * kPageSize, pattern(i), KM_SLEEP);
      if (e.ok()) ++ok;
    }
    EXPECT_EQ(e.err(), ENOSPC);
    EXPECT_EQ(ok, p.stats().anon_limit);
    std::vector<std::byte> buf(kPageSize);
    for (std::uint64_t i = 0; i < ok; ++i) {
      EXPECT_EQ(p.read(obj, i * kPageSize, buf).err(), 0);
      EXPECT_EQ(buf, pattern(i));
    }
    // Rewriting an existing page needs no new memory and still works.
    EXPECT_EQ(p.write(obj, 0, pattern(99), KM_SLEEP).err(), 0);
    p.destroy_object(obj);
  });
  EXPECT_EQ(rig.run().outcome, sim::Outcome::pass);
}

}  // namespace
}  // namespace vfsim::pager
