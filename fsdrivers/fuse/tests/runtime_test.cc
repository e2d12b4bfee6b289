// Tests of libfuse inside the machine: Debian's libfuse3 and its example
// file systems, unmodified, run in lwps with their pthread calls on sim
// primitives, and answer raw FUSE requests sent by the kernel side
// (FuseConn) over the simulated /dev/fuse. Each test asserts the replies
// hello_ll / hello give, that the daemon exits with status 0 when the
// kernel closes /dev/fuse, and that a seed replays its trace hash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "fsdrivers/fuse/runtime/isolation.h"
#include "fsdrivers/fuse/tests/fuse_harness.h"

namespace vfsim::fuse {
namespace {

using sim::Outcome;
using testing::Rig;
using testing::RigOptions;
using testing::run_rig_once;

Caller user() { return Caller{1000, 1000, 42}; }

// The hello file systems' conversation: the protocol minor agreed, LOOKUP,
// GETATTR, OPEN/READ/RELEASE of /hello, a write open refused, a missing
// name, and the root listed.
void hello_conversation(Rig& r) {
  FuseConn& c = r.conn;
  EXPECT_EQ(c.proto().minor, 31u) << "Debian's libfuse answers 7.31";
  const std::uint32_t minor = c.proto().minor;
  auto e = c.call(FUSE_LOOKUP, kRootNodeId, body_name("hello"), user());
  ASSERT_TRUE(e.ok()) << e.err();
  auto entry = decode_entry(*e, minor);
  ASSERT_TRUE(entry.ok()) << entry.error.why;
  ASSERT_FALSE(entry->negative());
  EXPECT_EQ(entry->attr.va.type, vn::VType::VREG);
  EXPECT_EQ(entry->attr.va.size, 13u);
  const std::uint64_t node = entry->nodeid;

  auto a = c.call(FUSE_GETATTR, node, body_getattr(minor, 0, 0), user());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(decode_attr_out(*a, minor)->va.mode, 0444u);

  auto o = c.call(FUSE_OPEN, node, body_open(O_RDONLY), user());
  ASSERT_TRUE(o.ok()) << o.err();
  const std::uint64_t fh = decode_open_out(*o)->fh;
  auto data = c.call(FUSE_READ, node, body_read(minor, fh, 0, 4096, 0), user());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "Hello World!\n");
  EXPECT_TRUE(c.call(FUSE_RELEASE, node, body_release(fh, O_RDONLY), user()).ok());

  EXPECT_EQ(c.call(FUSE_OPEN, node, body_open(O_WRONLY), user()).err(), EACCES);
  EXPECT_EQ(c.call(FUSE_LOOKUP, kRootNodeId, body_name("nope"), user()).err(), ENOENT);

  auto od = c.call(FUSE_OPENDIR, kRootNodeId, body_open(O_RDONLY), user());
  ASSERT_TRUE(od.ok());
  const std::uint64_t dh = decode_open_out(*od)->fh;
  std::vector<std::string> names;
  std::uint64_t off = 0;
  for (int round = 0; round < 4; ++round) {
    auto rd = c.call(FUSE_READDIR, kRootNodeId, body_read(minor, dh, off, 4096, 0), user());
    ASSERT_TRUE(rd.ok());
    auto ents = decode_dirents(*rd);
    ASSERT_TRUE(ents.ok()) << ents.error.why;
    if (ents->empty()) break;
    for (const auto& d : *ents) names.push_back(d.name);
    off = ents->back().off;
  }
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "hello"}));
  EXPECT_TRUE(c.call(FUSE_RELEASEDIR, kRootNodeId, body_release(dh, 0), user()).ok());
  ASSERT_TRUE(c.send_noreply(FUSE_FORGET, node, body_forget(1), user()).ok());
}

TEST(FuseRuntime, HelloLlSingleThreaded) {
  auto r = run_rig_once({"hello_ll", {"-s"}, 1}, hello_conversation);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

TEST(FuseRuntime, HelloLlTwoWorkers) {
  auto r = run_rig_once({"hello_ll", {}, 2}, hello_conversation, 7, "random", true);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  // The multi-threaded loop ran one more worker lwp (fuse.workers = 2).
  int spawned = 0;
  for (const auto& e : r.events) {
    spawned += e.kind == "spawn" && e.detail.find("worker 1") != std::string::npos;
  }
  EXPECT_EQ(spawned, 1);
}

TEST(FuseRuntime, HighLevelHelloTwoWorkers) {
  auto r = run_rig_once({"hello", {}, 2}, hello_conversation, 3);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

// Determinism: one seed, the same trace hash twice, for both APIs and both
// loop kinds; and another seed somewhere else (the schedule matters).
TEST(FuseRuntime, SameSeedSameTraceHash) {
  for (const RigOptions& o : {RigOptions{"hello_ll", {}, 2}, RigOptions{"hello", {}, 2},
                              RigOptions{"hello", {"-s"}, 1}}) {
    auto a = run_rig_once(o, hello_conversation, 11);
    auto b = run_rig_once(o, hello_conversation, 11);
    ASSERT_EQ(a.outcome, Outcome::pass) << a.message;
    EXPECT_EQ(a.trace_hash, b.trace_hash) << o.fs;
    EXPECT_EQ(a.schedule, b.schedule) << o.fs;
  }
}

// Many schedules, random and pct, with two workers: every one passes.
TEST(FuseRuntime, ExploredSchedulesPass) {
  for (const char* fs : {"hello_ll", "hello"}) {
    for (const char* strategy : {"random", "pct"}) {
      sim::ExploreOptions eo;
      eo.strategy = strategy;
      eo.schedules = 200;
      eo.depth = 3;
      RigOptions o{fs, {}, 2};
      auto s = sim::explore(
          [o](const sim::MachineOptions& mo, sim::Strategy& st) {
            return testing::run_rig(mo, st, o, hello_conversation);
          },
          eo);
      EXPECT_EQ(s.outcome, Outcome::pass)
          << fs << " " << strategy << ": " << (s.first_failure ? s.first_failure->message : "");
      EXPECT_EQ(s.schedules_explored, 200u);
    }
  }
}

// Options that need real threads or clocks are refused with one line.
TEST(FuseRuntime, RefusedOptions) {
  EXPECT_NE(refuse_args({"-o", "ro,intr"}).find("'intr'"), std::string::npos);
  EXPECT_NE(refuse_args({"-oremember=5"}).find("remember"), std::string::npos);
  EXPECT_NE(refuse_args({"-o", "clone_fd"}).find("clone_fd"), std::string::npos);
  EXPECT_NE(refuse_args({"-o", "modules=subdir,subdir=/x"}).find("modules="), std::string::npos);
  EXPECT_EQ(refuse_args({"-s", "-o", "ro,default_permissions"}), "");
  EXPECT_THROW(run_rig_once({"hello", {"-o", "intr"}, 1}, [](Rig&) {}), std::runtime_error);
}

// The foreign code's writable sections are under snapshot, and a daemon
// started after another run sees them as a fresh process would: run twice,
// the second run's trace equals the first's (a leftover global would show).
TEST(FuseRuntime, ForeignStateIsReset) {
  EXPECT_GT(foreign_state_bytes(), 0u);
  auto a = run_rig_once({"hello", {}, 1}, hello_conversation, 5);
  auto b = run_rig_once({"hello", {}, 1}, hello_conversation, 5);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
}

// The notify examples start threads of their own that sleep and notify the
// kernel; they run on virtual time and shut down with the daemon.
TEST(FuseRuntime, NotifyExamplesRunAndExit) {
  for (const char* fs : {"notify_inval_inode", "notify_inval_entry", "notify_store_retrieve",
                         "invalidate_path", "null"}) {
    RigOptions o{fs, {}, 2};
    o.mountpoint_is_file = std::string_view(fs) == "null";
    auto r = run_rig_once(o, [](Rig& rig) {
      auto a = rig.conn.call(FUSE_GETATTR, kRootNodeId, body_getattr(rig.conn.proto().minor, 0, 0),
                             user());
      EXPECT_TRUE(a.ok()) << a.err();
      rig.m.sleep_for(3 * sim::kSecond);  // let the notifier threads run
    });
    EXPECT_EQ(r.outcome, Outcome::pass) << fs << ": " << r.message;
  }
}

// hello_ll's file read back, ending the run (not the test) on a wrong
// answer, for explorations that expect failures.
void hello_or_fail(Rig& r) {
  FuseConn& c = r.conn;
  const std::uint32_t minor = c.proto().minor;
  auto e = c.call(FUSE_LOOKUP, kRootNodeId, body_name("hello"), user());
  auto entry = e.ok() ? decode_entry(*e, minor) : Decoded<Entry>{};
  if (!entry.ok()) r.m.fail(Outcome::expectation, "LOOKUP hello failed");
  auto o = c.call(FUSE_OPEN, entry->nodeid, body_open(O_RDONLY), user());
  auto oo = o.ok() ? decode_open_out(*o) : Decoded<OpenOut>{};
  if (!oo.ok()) r.m.fail(Outcome::expectation, "OPEN failed");
  auto d = c.call(FUSE_READ, entry->nodeid, body_read(minor, oo->fh, 0, 4096, 0), user());
  if (!d.ok() || *d != "Hello World!\n") r.m.fail(Outcome::expectation, "READ failed");
  if (!c.call(FUSE_RELEASE, entry->nodeid, body_release(oo->fh, O_RDONLY), user()).ok()) {
    r.m.fail(Outcome::expectation, "RELEASE failed");
  }
  (void)c.send_noreply(FUSE_FORGET, entry->nodeid, body_forget(1), user());
}

// /dev/fuse as a stream: requests may arrive split or joined. libfuse
// reading it as messages cannot follow (some schedule fails); a reader that
// reassembles by fuse_in_header.len, as hello_ll_uds does, always can.
TEST(FuseRuntime, StreamNeedsReassembly) {
  auto over_stream = [](DevFraming framing) {
    sim::ExploreOptions eo;
    eo.strategy = "random";
    eo.schedules = 100;
    RigOptions o{"hello_ll", {}, 1};
    o.transport = sim::SockType::stream;
    o.framing = framing;
    return sim::explore(
        [o](const sim::MachineOptions& mo, sim::Strategy& st) {
          return testing::run_rig(mo, st, o, hello_or_fail);
        },
        eo);
  };
  auto naive = over_stream(DevFraming::naive);
  EXPECT_NE(naive.outcome, Outcome::pass);
  auto fixed = over_stream(DevFraming::reassemble);
  EXPECT_EQ(fixed.outcome, Outcome::pass)
      << (fixed.first_failure ? fixed.first_failure->message : "");
  EXPECT_EQ(fixed.schedules_explored, 100u);
}

// INTERRUPT of a request already answered: libfuse keeps it aside, serves
// the next requests, and the daemon still exits cleanly.
TEST(FuseRuntime, InterruptOfAnAnsweredRequest) {
  auto r = run_rig_once({"hello_ll", {}, 1}, [](Rig& rig) {
    const std::uint64_t u = rig.conn.next_unique();
    EXPECT_TRUE(
        rig.conn.call(FUSE_GETATTR, kRootNodeId, body_getattr(rig.conn.proto().minor, 0, 0), user())
            .ok());
    EXPECT_TRUE(rig.conn.interrupt(u).ok());
    hello_conversation(rig);
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

// What foreign code allocated and kept — hello.c's strdup'ed options, a
// session whose daemon was killed mid-run (the naive stream fails) — is
// freed when the machine's daemons are gone, as at a process's exit.
TEST(FuseRuntime, ForeignHeapFreedAfterEachMachine) {
  std::size_t during = 0;
  auto passed = run_rig_once(
      {"hello", {}, 2},
      [&](Rig& r) {
        during = foreign_heap_blocks();
        hello_conversation(r);
      },
      9);
  ASSERT_EQ(passed.outcome, Outcome::pass) << passed.message;
  EXPECT_GT(during, 0u) << "libfuse's session, buffers and hello's options are tracked";
  EXPECT_EQ(foreign_heap_blocks(), 0u);
  RigOptions o{"hello_ll", {}, 2};
  o.transport = sim::SockType::stream;
  auto killed = run_rig_once(o, hello_or_fail, 1);
  EXPECT_NE(killed.outcome, Outcome::pass);
  EXPECT_EQ(foreign_heap_blocks(), 0u);
}

}  // namespace
}  // namespace vfsim::fuse
