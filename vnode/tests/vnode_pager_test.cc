// The vnode pager: page-ins and page-outs of a vnode's object go through
// VOP_GETPAGES / VOP_PUTPAGES with the vnode locked, and the pagedaemon
// never waits for a vnode lock.
#include "vnode/vnode_pager.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "vnode/tests/test_fs.h"
#include "vnode/vnode_if.h"

namespace vfsim::vn {
namespace {

using testing::World;

// getpages / putpages over a map, counting calls and checking the lock.
class PagedOps final : public VnodeOps {
 public:
  Status getpages(Vnode& vp, std::uint64_t off, std::span<std::byte> dst) override {
    ++gets;
    auto it = store.find(off);
    std::fill(dst.begin(), dst.end(), it == store.end() ? std::byte{0} : it->second);
    return kOk;
  }
  Status putpages(Vnode& vp, std::uint64_t off, std::span<const std::byte> src) override {
    ++puts;
    store[off] = src[0];
    return kOk;
  }
  Status inactive(Vnode&, bool* recycle) override {
    *recycle = false;
    return kOk;
  }
  Status reclaim(Vnode& vp) override {
    vp.data = nullptr;
    return kOk;
  }
  std::map<std::uint64_t, std::byte> store;
  int gets = 0, puts = 0;
};

pager::PagerConfig quiet() {
  pager::PagerConfig c;
  c.pages = 16;
  c.start_pagedaemon = false;
  c.syncer_period = 0;
  return c;
}

void run(World& w, std::function<void()> body) {
  w.machine.spawn("t", std::move(body));
  auto r = w.machine.run();
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// Shows: a read pages in through VOP_GETPAGES and fsync puts through
// VOP_PUTPAGES, with the caller holding the vnode lock (as the VFS does) or
// not (the pager then takes it).
TEST(VnodePager, PagesGoThroughTheVops) {
  World w;
  pager::Pager pg(w.machine, quiet());
  PagedOps ops;
  VnodePager vpager;
  run(w, [&] {
    auto vp = w.vcache.get(w.mount, 5);
    ASSERT_TRUE(vp.ok());
    (*vp)->op = &ops;  // this test's getpages / putpages instead of TestFs's
    ops.store[0] = std::byte{7};
    pager::PageObject& obj = vnode_object(pg, vpager, **vp);
    std::vector<std::byte> buf(pager::kPageSize);
    EXPECT_EQ(pg.read(obj, 0, buf).err(), 0);  // unlocked: the pager locks
    EXPECT_EQ(buf[100], std::byte{7});
    vn_lock(**vp, true);
    std::vector<std::byte> page(pager::kPageSize, std::byte{9});
    EXPECT_EQ(pg.write(obj, pager::kPageSize, page, pager::KM_SLEEP).err(), 0);
    EXPECT_EQ(pg.fsync(obj).err(), 0);  // locked by us: called through
    vn_unlock(**vp);
    EXPECT_EQ(ops.gets, 1);
    EXPECT_EQ(ops.puts, 1);
    EXPECT_EQ(ops.store[pager::kPageSize], std::byte{9});
    pg.destroy_object(obj);
    w.vcache.vrele(**vp);
  });
}

// Shows: in the pagedaemon's context a locked vnode answers EAGAIN at once
// (a transient error: the page stays dirty) instead of waiting for the lock.
TEST(VnodePager, PagedaemonDoesNotWaitForTheVnodeLock) {
  World w;
  pager::Pager pg(w.machine, quiet());
  PagedOps ops;
  VnodePager vpager;
  Vnode* vnode = nullptr;
  pager::PageObject* obj = nullptr;
  Status seen(-1);
  w.machine.spawn("holder", [&] {
    auto vp = w.vcache.get(w.mount, 5);
    ASSERT_TRUE(vp.ok());
    vnode = *vp;
    vnode->op = &ops;
    obj = &vnode_object(pg, vpager, *vnode);
    vn_lock(*vnode, true);
    w.machine.sleep_for(10 * sim::kMillisecond);  // holds the lock meanwhile
    vn_unlock(*vnode);
    w.machine.sleep_for(10 * sim::kMillisecond);
    pg.destroy_object(*obj);
    w.vcache.vrele(*vnode);
  });
  w.machine.spawn(
      "pagedaemon-like",
      [&] {
        w.machine.sleep_for(sim::kMillisecond);
        std::vector<std::byte> page(pager::kPageSize);
        seen = vpager.putpages(*obj, 0, page);
        EXPECT_EQ(w.machine.now(), sim::kMillisecond);  // did not wait
      },
      false, pager::kTagPagedaemon);
  auto r = w.machine.run();
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
  EXPECT_EQ(seen.err(), EAGAIN);
  EXPECT_EQ(ops.puts, 0);
}

}  // namespace
}  // namespace vfsim::vn
