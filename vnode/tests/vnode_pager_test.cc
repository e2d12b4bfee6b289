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

// Shows: a read under a shared vnode lock pages in through VOP_GETPAGES, and
// fsync puts through VOP_PUTPAGES, both through the vnode pager (the object
// knows its vnode); a put needs no vnode lock.
TEST(VnodePager, PagesGoThroughTheVops) {
  World w;
  pager::Pager pg(w.machine, quiet());
  PagedOps ops;
  run(w, [&] {
    auto vp = w.vcache.get(w.mount, 5);
    ASSERT_TRUE(vp.ok());
    (*vp)->op = &ops;  // this test's getpages / putpages instead of TestFs's
    ops.store[0] = std::byte{7};
    pager::PageObject& obj = vnode_object(pg, **vp, "vnode 5");
    EXPECT_EQ(object_vnode(obj), *vp);
    vn_lock(**vp, false);
    std::vector<std::byte> buf(pager::kPageSize);
    EXPECT_EQ(pg.read(obj, 0, buf).err(), 0);
    EXPECT_EQ(buf[100], std::byte{7});
    vn_unlock(**vp);
    vn_lock(**vp, true);
    std::vector<std::byte> page(pager::kPageSize, std::byte{9});
    EXPECT_EQ(pg.write(obj, pager::kPageSize, page, pager::KM_SLEEP).err(), 0);
    EXPECT_EQ(pg.fsync(obj).err(), 0);  // with the lock
    EXPECT_EQ(pg.write(obj, pager::kPageSize, page, pager::KM_SLEEP).err(), 0);
    vn_unlock(**vp);
    EXPECT_EQ(pg.fsync(obj).err(), 0);  // without it
    EXPECT_EQ(ops.gets, 1);
    EXPECT_EQ(ops.puts, 2);
    EXPECT_EQ(ops.store[pager::kPageSize], std::byte{9});
    pg.destroy_object(obj);
    w.vcache.vrele(**vp);
  });
}

// Shows: an object the vnode pager did not make has no vnode.
TEST(VnodePager, OtherObjectsHaveNoVnode) {
  World w;
  pager::Pager pg(w.machine, quiet());
  run(w, [&] {
    pager::PageObject& anon = pg.create_anon_object("anon");
    EXPECT_EQ(object_vnode(anon), nullptr);
    pg.destroy_object(anon);
  });
}

// Shows: a page-in (VOP_GETPAGES) outside a VOP that holds the vnode lock is
// a kernel bug the vnode pager reports (a panic naming it).
TEST(VnodePager, PageInWithoutTheVnodeLockPanics) {
  World w;
  pager::Pager pg(w.machine, quiet());
  PagedOps ops;
  w.machine.spawn("t", [&] {
    auto vp = w.vcache.get(w.mount, 5);
    ASSERT_TRUE(vp.ok());
    (*vp)->op = &ops;
    pager::PageObject& obj = vnode_object(pg, **vp, "vnode 5");
    std::vector<std::byte> buf(pager::kPageSize);
    (void)pg.read(obj, 0, buf);
  });
  auto r = w.machine.run();
  EXPECT_EQ(r.outcome, sim::Outcome::panic);
  EXPECT_NE(r.message.find("page-in without the vnode lock"), std::string::npos) << r.message;
}

// Shows: the pagedaemon puts the dirty pages of a file whose vnode lock is
// held by the lwp that is asleep for memory writing that very file (a file
// larger than memory, written under its vnode lock). With the old rule (the
// pagedaemon try-locked the vnode and answered EAGAIN) this run never ends:
// the pagedaemon retries the locked vnode forever (the step budget runs out,
// "livelock?"). 20 seeds.
TEST(VnodePager, PagedaemonPutsPagesOfTheLockedFileBeingWritten) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    World w(seed);
    pager::PagerConfig c;
    c.pages = 16;
    c.syncer_period = 0;
    pager::Pager pg(w.machine, c);
    pg.start();
    PagedOps ops;
    w.machine.spawn("writer", [&] {
      auto vp = w.vcache.get(w.mount, 5);
      ASSERT_TRUE(vp.ok());
      (*vp)->op = &ops;
      pager::PageObject& obj = vnode_object(pg, **vp, "vnode 5");
      vn_lock(**vp, true);
      for (std::uint64_t i = 0; i < 40; ++i) {
        std::vector<std::byte> page(pager::kPageSize, std::byte{static_cast<unsigned char>(i)});
        ASSERT_EQ(pg.write(obj, i * pager::kPageSize, page, pager::KM_SLEEP).err(), 0) << i;
      }
      EXPECT_EQ(pg.fsync(obj).err(), 0);
      vn_unlock(**vp);
      pg.destroy_object(obj);
      w.vcache.vrele(**vp);
    });
    auto r = w.machine.run();
    ASSERT_EQ(r.outcome, sim::Outcome::pass) << "seed " << seed << ": " << r.message;
    ASSERT_EQ(ops.store.size(), 40u) << "seed " << seed;
    for (std::uint64_t i = 0; i < 40; ++i)
      EXPECT_EQ(ops.store[i * pager::kPageSize], std::byte{static_cast<unsigned char>(i)});
    EXPECT_GT(ops.puts, 40 - 16);  // most went out before the fsync, from the pagedaemon
  }
}

}  // namespace
}  // namespace vfsim::vn
