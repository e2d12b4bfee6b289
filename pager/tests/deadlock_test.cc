// The ground for the PERFUSE pagedaemon deadlock ("pagedaemon has a nap"):
// the pagedaemon puts dirty pages of a file whose putpages needs kernel
// memory for a message, as the puffs kernel stub does. Memory is short, so
// that allocation has to wait for the pagedaemon itself.
#include <gtest/gtest.h>

#include "pager/tests/test_util.h"

namespace vfsim::pager {
namespace {

using testing::FakeBackend;
using testing::pattern;
using testing::Rig;

// A puffs-like backend whose message is larger than the pagedaemon's wakeup
// threshold, so its putpages can never allocate without the pagedaemon's help.
class MessageBackend final : public PagerOps {
 public:
  explicit MessageBackend(Pager& p) : pager_(p) {}
  std::map<std::uint64_t, std::vector<std::byte>> store;
  Status getpages(PageObject&, std::uint64_t off, std::span<std::byte> dst) override {
    auto it = store.find(off);
    if (it == store.end()) std::fill(dst.begin(), dst.end(), std::byte{0});
    else std::copy(it->second.begin(), it->second.end(), dst.begin());
    return kOk;
  }
  Status putpages(PageObject&, std::uint64_t off, std::span<const std::byte> src) override {
    // The request message: KM_SLEEP as in puffs_msgmem_alloc; in the
    // pagedaemon's context the pager makes it NOSLEEP (pagedaemon_nosleep).
    KmemBlock msg = pager_.kmem_alloc(8 * kPageSize, KM_SLEEP);
    if (!msg) return Status(ENOMEM);
    store[off].assign(src.begin(), src.end());
    pager_.kmem_free(msg);
    return kOk;
  }

 private:
  Pager& pager_;
};

struct Outcome {
  sim::RunResult result;
  PagerStats stats;
  std::size_t puffs_pages_stored = 0;
};

// One writer dirties 8 pages of the puffs-like file first (the oldest in the
// LRU), then 40 pages of a plain file, more than the 32 pages of memory.
Outcome run_workload(bool pagedaemon_nosleep, std::uint64_t seed, const std::string& strategy) {
  PagerConfig c;
  c.pages = 32;
  c.freemin = 4;
  c.freetarg = 8;
  c.swap_slots = 0;
  c.pagedaemon_nosleep = pagedaemon_nosleep;
  Rig rig(c, seed, false, strategy);
  MessageBackend puffs(*rig.pager);
  FakeBackend plain(*rig.pager);
  rig.machine->spawn("writer", [&] {
    Pager& p = *rig.pager;
    PageObject& pf = p.create_object("puffs file", puffs);
    PageObject& ff = p.create_object("plain file", plain);
    for (std::uint64_t i = 0; i < 8; ++i)
      EXPECT_EQ(p.write(pf, i * kPageSize, pattern(i), KM_SLEEP).err(), 0);
    for (std::uint64_t i = 0; i < 40; ++i)
      EXPECT_EQ(p.write(ff, i * kPageSize, pattern(100 + i), KM_SLEEP).err(), 0);
    EXPECT_EQ(p.fsync(pf).err(), 0);
    EXPECT_EQ(p.fsync(ff).err(), 0);
    p.destroy_object(pf);
    p.destroy_object(ff);
  });
  Outcome o;
  o.result = rig.run();
  o.stats = rig.pager->stats();
  o.puffs_pages_stored = puffs.store.size();
  return o;
}

// With pager.pagedaemon_nosleep=false the pagedaemon sleeps for the memory
// only it can free: the deadlock oracle reports the cycle, naming the
// pagedaemon and the memory channel, on every schedule tried.
TEST(PagedaemonDeadlock, SleepingInPagedaemonContextDeadlocks) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (const char* strategy : {"random", "pct"}) {
      const Outcome o = run_workload(false, seed, strategy);
      ASSERT_EQ(o.result.outcome, sim::Outcome::deadlock)
          << strategy << " seed " << seed << ": " << o.result.message;
      EXPECT_NE(o.result.message.find(
                    "lwp 'pagedaemon' waits for channel 'free memory' held by lwp 'pagedaemon'"),
                std::string::npos)
          << o.result.message;
    }
  }
}

// With the default (pagedaemon_nosleep=true) the putpages fails in the
// pagedaemon's context, the pagedaemon reclaims the plain file's pages
// instead, and the puffs file's pages are written later: every run passes,
// the pagedaemon did see failed page-outs, and all the data got out.
TEST(PagedaemonDeadlock, NosleepKnobLetsMemoryRecover) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (const char* strategy : {"random", "pct"}) {
      const Outcome o = run_workload(true, seed, strategy);
      ASSERT_EQ(o.result.outcome, sim::Outcome::pass)
          << strategy << " seed " << seed << ": " << o.result.message;
      EXPECT_GE(o.stats.pageout_errors, 1u);
      EXPECT_EQ(o.puffs_pages_stored, 8u);
      EXPECT_EQ(o.stats.free, 32u);
    }
  }
}

}  // namespace
}  // namespace vfsim::pager
