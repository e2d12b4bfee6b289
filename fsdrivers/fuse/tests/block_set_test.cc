// Shows that BlockSet (the foreign-heap tracker's open-addressed pointer set,
// runtime/block_set.h) answers membership and size exactly as std::set does
// over random sequences of inserts and erases, including erases of absent
// pointers, repeated inserts, growth and backward-shift deletion; and that
// free_all frees every tracked block and leaves the set empty and usable.
#include "fsdrivers/fuse/runtime/block_set.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>
#include <set>
#include <vector>

namespace vfsim::fuse {
namespace {

RC_GTEST_PROP(BlockSet, AgreesWithStdSet, ()) {
  // A pool of distinct addresses (never freed: free_all is not called).
  // Few enough that the table fills to its growth limit and probe runs
  // collide; long enough sequences to erase inside those runs.
  static std::vector<long double> pool(400);
  const auto n = *rc::gen::inRange<std::size_t>(0, 3000);
  const auto ops = *rc::gen::container<std::vector<std::pair<bool, int>>>(
      n, rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange(0, 400)));
  BlockSet set;
  std::set<void*> model;
  for (const auto& [insert, i] : ops) {
    void* p = &pool[static_cast<std::size_t>(i)];
    if (insert) {
      set.insert(p);
      model.insert(p);
    } else {
      set.erase(p);
      model.erase(p);
    }
    RC_ASSERT(set.size() == model.size());
  }
  for (auto& slot : pool) RC_ASSERT(set.contains(&slot) == (model.count(&slot) == 1));
}

TEST(BlockSet, FreeAllFreesAndEmpties) {
  BlockSet set;
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(std::malloc(16));
  for (void* p : blocks) set.insert(p);
  for (int i = 0; i < 1000; i += 2) set.erase(blocks[static_cast<std::size_t>(i)]);
  for (int i = 0; i < 1000; i += 2) std::free(blocks[static_cast<std::size_t>(i)]);
  EXPECT_EQ(set.size(), 500U);
  set.free_all();  // frees the 500 odd blocks (ASan builds would report a leak or double free)
  EXPECT_EQ(set.size(), 0U);
  for (void* p : blocks) EXPECT_FALSE(set.contains(p));
  void* q = std::malloc(8);
  set.insert(q);
  EXPECT_TRUE(set.contains(q));
  set.free_all();
}

}  // namespace
}  // namespace vfsim::fuse
