// The PERFUSE races through the FUSE hop, with memfs_ll as the daemon:
//  - the GETATTR/WRITE race (paper section 3.4): one lwp appends twice while
//    another fstat()s; with the kernel's size lock and the bridge's size
//    serialisation both off, pct finds a schedule in which a stale GETATTR
//    reply shrinks the kernel's size and the second append overwrites the
//    first (the file holds "BBBB"); with the fixes on, every schedule keeps
//    "AAAABBBB"; and it is the kernel's half that matters in this stack;
//  - lookup counts across vnode recycling (4 vnodes): FORGET(nlookup) keeps
//    the ledger balanced in every schedule.
// Also /dev/fuse as a stream: libfuse reading a stream naively cannot parse
// split or joined requests, and reassembling by the length field (as
// hello_ll_uds does) works.
#include <gtest/gtest.h>

#include "fsdrivers/fuse/tests/fuse_harness.h"
#include "fsdrivers/fuse/tests/fuse_world.h"
#include "sim/trace_export.h"
#include "sim/trace_model.h"

namespace vfsim::fuse {
namespace {

using sim::Outcome;
using testing::World;
using testing::WorldOptions;

void append_race(World& w) {
  auto fd = w.k.open(w.p, "/conf", O_CREAT | O_WRONLY | O_APPEND, 0644);
  if (!fd.ok()) w.m().fail(Outcome::panic, "open failed");
  const int wfd = *fd;
  const sim::LwpId writer = w.m().spawn("writer", [&w, wfd] {
    (void)w.k.write(w.p, wfd, "AAAA");
    w.m().sleep_for(sim::kMillisecond);
    (void)w.k.write(w.p, wfd, "BBBB");
  });
  const sim::LwpId statter = w.m().spawn("stat", [&w, wfd] { (void)w.k.fstat(w.p, wfd); });
  w.m().join(writer);
  w.m().join(statter);
  (void)w.k.close(w.p, wfd);
  auto rfd = w.k.open(w.p, "/conf", O_RDONLY);
  const auto got = w.k.read(w.p, *rfd, 100);
  (void)w.k.close(w.p, *rfd);
  if (!got.ok() || *got != "AAAABBBB") {
    w.m().fail(Outcome::expectation,
               "/conf holds '" + (got.ok() ? *got : "?") + "', expected 'AAAABBBB'");
  }
}

WorldOptions race_options(bool fixed) {
  WorldOptions o;
  o.fs = "memfs_ll";
  o.puffs_size_lock = fixed;
  o.size_serialise = fixed;
  return o;
}

sim::ExploreSummary explore(const WorldOptions& o, const testing::Body& body,
                            const std::string& strategy, std::uint64_t n) {
  sim::ExploreOptions eo;
  eo.strategy = strategy;
  eo.schedules = n;
  eo.depth = 4;
  return sim::explore(testing::world_fn(o, body), eo);
}

TEST(FuseRace, GetattrWriteRaceLosesBytesWithoutTheFixes) {
  auto s = explore(race_options(false), append_race, "pct", 2000);
  ASSERT_EQ(s.outcome, Outcome::expectation);
  EXPECT_NE(s.first_failure->message.find("expected 'AAAABBBB'"), std::string::npos);
}

TEST(FuseRace, GetattrWriteRaceNeverLosesBytesWithTheFixes) {
  for (const char* strategy : {"pct", "random"}) {
    auto s = explore(race_options(true), append_race, strategy, 1000);
    EXPECT_EQ(s.outcome, Outcome::pass)
        << strategy << ": " << (s.first_failure ? s.first_failure->message : "");
  }
}

// The failure's kept trace, read as the trace file and the chart read it
// (sim/trace_model.h): FUSE requests and their replies are paired messages
// over /dev/fuse with no FUSE-specific code in the tools (the socket layer
// keys them; the bridge and the daemon tag them), the GETATTR among them,
// and the daemon's lwps are drawn as its own process.
TEST(FuseRace, TheTraceShowsFuseRequestsAndRepliesAsMessages) {
  auto s = explore(race_options(false), append_race, "pct", 2000);
  ASSERT_TRUE(s.first_failure.has_value());
  const sim::RunResult& r = *s.first_failure;
  const sim::TraceModel model(r.events);
  std::size_t fuse_pairs = 0;
  bool getattr = false;
  for (const auto& msg : model.messages()) {
    if (!msg.receive) continue;
    const auto& from = r.lwps.at(r.events[msg.send].lwp);
    const auto& to = r.lwps.at(r.events[*msg.receive].lwp);
    if (msg.label.starts_with("req ") && to.group.starts_with("fuse daemon")) {
      ++fuse_pairs;
      getattr = getattr || msg.label.ends_with(" GETATTR");
    }
    if (msg.label.starts_with("reply ") && from.group.starts_with("fuse daemon")) ++fuse_pairs;
  }
  EXPECT_GE(fuse_pairs, 4u);
  EXPECT_TRUE(getattr);
  const std::string file = sim::chrome_trace_json(r, {});
  EXPECT_NE(file.find("\"process_name\",\"pid\":"), std::string::npos);
  EXPECT_NE(file.find("\"name\":\"fuse daemon "), std::string::npos);
}

// Which half of the fix matters here: the kernel's size lock alone keeps
// every schedule right; the bridge's serialisation alone does not, because
// the stale size is applied by the kernel stub when the GETATTR reply comes
// back, after the bridge has let go of the node (the paper needed both
// halves with a daemon that answered out of order; here the kernel's does it).
TEST(FuseRace, TheKernelSizeLockIsTheFixThatMatters) {
  WorldOptions kernel_only = race_options(true);
  kernel_only.size_serialise = false;
  EXPECT_EQ(explore(kernel_only, append_race, "pct", 2000).outcome, Outcome::pass);
  WorldOptions bridge_only = race_options(true);
  bridge_only.puffs_size_lock = false;
  EXPECT_EQ(explore(bridge_only, append_race, "pct", 2000).outcome, Outcome::expectation);
}

// Stats of three names with room for 4 vnodes: vnodes are recycled, each
// RECLAIM sends FORGET(nlookup), and the ledger balances at unmount.
TEST(FuseRace, RecycledVnodesForgetWhatTheyLookedUp) {
  WorldOptions o;
  o.fs = "memfs_ll";
  o.desiredvnodes = 4;
  auto body = [](World& w) {
    for (const char* f : {"/a", "/b", "/c"}) {
      auto fd = w.k.open(w.p, f, O_CREAT | O_WRONLY, 0644);
      if (fd.ok()) (void)w.k.close(w.p, *fd);
    }
    const sim::LwpId x = w.spawn_proc("x", [&w](vfs::Proc& q) {
      for (int i = 0; i < 3; ++i) {
        (void)w.k.stat(q, "/a");
        (void)w.k.stat(q, "/b");
      }
    });
    for (int i = 0; i < 3; ++i) {
      if (!w.k.stat(w.p, "/c").ok()) w.m().fail(Outcome::expectation, "stat /c");
      if (!w.k.stat(w.p, "/a").ok()) w.m().fail(Outcome::expectation, "stat /a");
    }
    w.m().join(x);
  };
  for (const char* strategy : {"pct", "random"}) {
    auto s = explore(o, body, strategy, 300);
    EXPECT_EQ(s.outcome, Outcome::pass)
        << strategy << ": " << (s.first_failure ? s.first_failure->message : "");
  }
}

}  // namespace
}  // namespace vfsim::fuse
