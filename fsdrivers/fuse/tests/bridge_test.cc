// End-to-end tests of the perfused bridge: hello_ll and hello (Debian's
// libfuse examples, unmodified) mounted as the root through the whole stack
// (VFS -> puffs kernel stub -> puffs server -> FuseBridge -> /dev/fuse ->
// libfuse daemon lwps). Each test shows what the syscalls answer, that the
// daemon exits at unmount and that the lookup ledger balances (the leak
// check), under many random and pct schedules with 2 FUSE workers and 2
// puffs workers; and that a seed gives the same trace hash twice.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "fsdrivers/fuse/tests/fuse_world.h"

namespace vfsim::fuse {
namespace {

using sim::Outcome;
using testing::World;
using testing::WorldOptions;

WorldOptions opts(const std::string& fs) {
  WorldOptions o;
  o.fs = fs;
  return o;
}

// What a user of hello sees. Failures end the run as an expectation, so
// the explorer reports the schedule that broke it.
void hello_checks(World& w) {
  auto& k = w.k;
  auto& p = w.p;
  auto fail = [&](const std::string& what) { w.m().fail(Outcome::expectation, what); };
  auto st = k.stat(p, "/hello");
  if (!st.ok()) fail("stat /hello: errno " + std::to_string(st.err()));
  if (st->size != 13 || (st->mode & S_IFMT) != S_IFREG || (st->mode & 07777) != 0444) {
    fail("stat /hello: size " + std::to_string(st->size) + " mode " + std::to_string(st->mode));
  }
  auto root = k.stat(p, "/");
  if (!root.ok() || (root->mode & S_IFMT) != S_IFDIR) fail("stat /");
  auto dfd = k.open(p, "/", O_RDONLY | O_DIRECTORY);
  if (!dfd.ok()) fail("open /: errno " + std::to_string(dfd.err()));
  auto ents = k.getdents(p, *dfd);
  if (!ents.ok()) fail("getdents /: errno " + std::to_string(ents.err()));
  std::vector<std::string> names;
  for (const auto& e : *ents) names.push_back(e.name);
  if (names != std::vector<std::string>{".", "..", "hello"}) {
    std::string got;
    for (const auto& n : names) got += n + " ";
    fail("readdir / gave: " + got);
  }
  (void)k.close(p, *dfd);
  auto fd = k.open(p, "/hello", O_RDONLY);
  if (!fd.ok()) fail("open /hello: errno " + std::to_string(fd.err()));
  auto data = k.read(p, *fd, 100);
  if (!data.ok() || *data != "Hello World!\n")
    fail("read /hello: '" + (data.ok() ? *data : "") + "'");
  (void)k.close(p, *fd);
  auto wfd = k.open(p, "/hello", O_WRONLY);
  if (wfd.ok() || wfd.err() != EACCES)
    fail("open /hello for writing: errno " + std::to_string(wfd.err()));
  auto missing = k.stat(p, "/nope");
  if (missing.ok() || missing.err() != ENOENT)
    fail("stat /nope: errno " + std::to_string(missing.err()));
}

// Two processes at once: both stat, list / and read /hello.
void hello_concurrent(World& w) {
  const sim::LwpId a = w.spawn_proc("a", [&w](vfs::Proc& q) {
    auto fd = w.k.open(q, "/hello", O_RDONLY);
    if (!fd.ok()) w.m().fail(Outcome::expectation, "a: open: errno " + std::to_string(fd.err()));
    auto d = w.k.read(q, *fd, 100);
    if (!d.ok() || *d != "Hello World!\n") w.m().fail(Outcome::expectation, "a: read");
    (void)w.k.close(q, *fd);
  });
  const sim::LwpId b = w.spawn_proc("b", [&w](vfs::Proc& q) {
    auto st = w.k.stat(q, "/hello");
    if (!st.ok() || st->size != 13) w.m().fail(Outcome::expectation, "b: stat");
    if (w.k.stat(q, "/nope").err() != ENOENT) w.m().fail(Outcome::expectation, "b: ENOENT");
    // Lists / while main does: two OPENDIRs of one node may cross.
    auto dfd = w.k.open(q, "/", O_RDONLY | O_DIRECTORY);
    if (!dfd.ok() || !w.k.getdents(q, *dfd).ok()) w.m().fail(Outcome::expectation, "b: readdir");
    (void)w.k.close(q, *dfd);
  });
  hello_checks(w);
  w.m().join(a);
  w.m().join(b);
}

TEST(FuseBridge, HelloLlThroughPuffs) {
  auto r = testing::run_once(opts("hello_ll"), hello_checks, 1, "random", true);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  bool init = false, unmount = false;
  for (const auto& e : r.events) {
    init = init || (e.kind == "fuse_init" && e.detail.find("7.31") != std::string::npos);
    unmount = unmount || e.kind == "fuse_unmount";
  }
  EXPECT_TRUE(init);
  EXPECT_TRUE(unmount);
}

TEST(FuseBridge, HighLevelHelloThroughPuffs) {
  auto r = testing::run_once(opts("hello"), hello_checks, 2);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

TEST(FuseBridge, SingleThreadedDaemon) {
  WorldOptions o = opts("hello_ll");
  o.args = {"-s"};
  o.workers = 1;
  auto r = testing::run_once(o, hello_concurrent, 3);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

TEST(FuseBridge, SameSeedSameTraceHash) {
  for (const char* fs : {"hello_ll", "hello"}) {
    for (const char* strategy : {"random", "pct"}) {
      auto a = testing::run_once(opts(fs), hello_concurrent, 17, strategy);
      auto b = testing::run_once(opts(fs), hello_concurrent, 17, strategy);
      ASSERT_EQ(a.outcome, Outcome::pass) << a.message;
      EXPECT_EQ(a.trace_hash, b.trace_hash) << fs << " " << strategy;
      EXPECT_EQ(a.schedule, b.schedule) << fs << " " << strategy;
    }
  }
}

sim::ExploreSummary explore(const WorldOptions& o, const testing::Body& body,
                            const std::string& strategy, std::uint64_t n) {
  sim::ExploreOptions eo;
  eo.strategy = strategy;
  eo.schedules = n;
  eo.depth = 3;
  return sim::explore(testing::world_fn(o, body), eo);
}

// How many schedules ExploredSchedulesPass runs per file system and
// strategy: 500, or VFSIM_FUSE_SCHEDULES (the ctest fuse_bridge_10k, label
// long, sets 10000: the acceptance run).
std::uint64_t schedules_per_case() {
  const char* env = std::getenv("VFSIM_FUSE_SCHEDULES");
  if (env == nullptr || *env == '\0') return 500;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(env, &end, 10);
  if (*end != '\0' || n == 0) {
    ADD_FAILURE() << "VFSIM_FUSE_SCHEDULES=" << env << ": not a positive integer";
    return 500;
  }
  return n;
}

// Many schedules, both strategies, both APIs, 2 FUSE workers: all pass.
TEST(FuseBridge, ExploredSchedulesPass) {
  const std::uint64_t n = schedules_per_case();
  for (const char* fs : {"hello_ll", "hello"}) {
    for (const char* strategy : {"random", "pct"}) {
      auto s = explore(opts(fs), hello_concurrent, strategy, n);
      EXPECT_EQ(s.outcome, Outcome::pass)
          << fs << " " << strategy << ": " << (s.first_failure ? s.first_failure->message : "");
      EXPECT_EQ(s.schedules_explored, n);
    }
  }
}

// The ledger: with vnodes recycled (4 vnodes), every nodeid is forgotten
// exactly as often as it was looked up; with the historic FORGET(1)
// shortcut the leak check finds the difference.
TEST(FuseBridge, ForgetBalancesLookups) {
  auto body = [](World& w) {
    for (int i = 0; i < 6; ++i) {
      if (!w.k.stat(w.p, "/hello").ok()) w.m().fail(Outcome::expectation, "stat");
      (void)w.k.stat(w.p, "/nope");
    }
  };
  WorldOptions fixed = opts("hello_ll");
  auto ok = testing::run_once(fixed, body, 4);
  ASSERT_EQ(ok.outcome, Outcome::pass) << ok.message;
  WorldOptions historic = opts("hello");  // high-level: lookups of a cached node count up
  historic.forget_nlookup = false;
  auto r = explore(historic, hello_concurrent, "random", 50);
  EXPECT_EQ(r.outcome, Outcome::leak);
  if (r.first_failure) {
    EXPECT_NE(r.first_failure->message.find("forgotten"), std::string::npos);
  }
}

// The trace hash of seed 1 is pinned for both file systems and both
// strategies (2 FUSE workers): the same in the dev, release and asan builds
// (no pointer, host clock or host thread reaches the trace). ctest runs this
// in each build; fuse_bridge_hashes_asan runs the asan build's binary.
TEST(FuseBridge, PinnedTraceHash) {
  struct Pin {
    const char* fs;
    const char* strategy;
    std::uint64_t hash;
  };
  for (const Pin& pin : {Pin{"hello_ll", "pct", 0xc28a88da73806307ull},
                         Pin{"hello", "random", 0xc2f1573b4e39eb1dull},
                         Pin{"hello_ll", "random", 0x89262839208217c0ull},
                         Pin{"hello", "pct", 0xd80ca3c9d3019869ull}}) {
    auto r = testing::run_once(opts(pin.fs), hello_concurrent, 1, pin.strategy);
    ASSERT_EQ(r.outcome, Outcome::pass) << pin.fs << " " << pin.strategy << ": " << r.message;
    EXPECT_EQ(r.trace_hash, pin.hash)
        << pin.fs << " " << pin.strategy << ": 0x" << std::hex << r.trace_hash;
  }
}

}  // namespace
}  // namespace vfsim::fuse
