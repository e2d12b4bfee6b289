// Tests of the puffs kernel stub with p2k serving memfs, through the VFS:
// file operations behave as on memfs, the vnode life cycle reaches the
// server (RECLAIM frees server nodes, nothing leaks), a dying server forces
// an unmount (ENXIO, vnodes reclaimed), and the three PERFUSE transport and
// locking bugs reproduce with their knob off and vanish with it on.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "fsdrivers/puffs/tests/puffs_world.h"

namespace vfsim::puffs {
namespace {

using sim::Outcome;
using testing::has_event;
using testing::run_once;
using testing::World;

void expect_ok(vn::Status s, const char* what) { EXPECT_TRUE(s.ok()) << what << ": " << s.err(); }

// Creating, writing, reading, renaming, listing, linking and removing files
// through puffs give memfs's answers, and unmount leaves nothing behind.
TEST(PuffsMount, FileOperationsThroughP2k) {
  auto r = run_once({}, [](World& w) {
    auto& k = w.k;
    auto& p = w.p;
    expect_ok(k.mkdir(p, "/d", 0755), "mkdir");
    auto fd = k.open(p, "/d/f", O_CREAT | O_RDWR, 0644);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(*k.write(p, *fd, "hello, puffs"), 12u);
    EXPECT_EQ(*k.pread(p, *fd, 5, 7), "puffs");
    expect_ok(k.close(p, *fd), "close");
    EXPECT_EQ(k.stat(p, "/d/f")->size, 12u);
    expect_ok(k.rename(p, "/d/f", "/d/g"), "rename");
    EXPECT_EQ(k.stat(p, "/d/f").err(), ENOENT);
    expect_ok(k.link(p, "/d/g", "/h"), "link");
    EXPECT_EQ(k.stat(p, "/h")->nlink, 2u);
    expect_ok(k.symlink(p, "d/g", "/s"), "symlink");
    EXPECT_EQ(*k.readlink(p, "/s"), "d/g");
    auto fd2 = k.open(p, "/s", O_RDONLY);
    ASSERT_TRUE(fd2.ok());
    EXPECT_EQ(*k.read(p, *fd2, 100), "hello, puffs");
    expect_ok(k.close(p, *fd2), "close");
    auto dfd = k.open(p, "/d", O_RDONLY | O_DIRECTORY);
    auto ents = k.getdents(p, *dfd);
    ASSERT_TRUE(ents.ok());
    EXPECT_EQ(ents->size(), 3u);  // ".", "..", "g"
    expect_ok(k.close(p, *dfd), "close");
    expect_ok(k.unlink(p, "/d/g"), "unlink");
    expect_ok(k.unlink(p, "/h"), "unlink");
    expect_ok(k.unlink(p, "/s"), "unlink");
    expect_ok(k.rmdir(p, "/d"), "rmdir");
    EXPECT_EQ(k.rmdir(p, "/d").err(), ENOENT);
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_unmount", "puffs"));
}

// When the server dies mid-run every later call answers ENXIO, the mount's
// vnodes are reclaimed, and the run ends without a leak.
TEST(PuffsMount, ServerCrashForcesUnmount) {
  int after = 0;
  auto r = run_once({{"server_crash_at", "12"}}, [&](World& w) {
    for (int i = 0; i < 10; ++i) {
      auto fd = w.k.open(w.p, "/f" + std::to_string(i), O_CREAT | O_RDWR, 0644);
      if (!fd.ok()) {
        after = fd.err();
        break;
      }
      (void)w.k.close(w.p, *fd);
    }
    EXPECT_EQ(w.k.stat(w.p, "/f0").err(), ENXIO);
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(after, ENXIO);
  EXPECT_TRUE(has_event(r, "puffs_server_gone", "socket closed"));
}

// The PERFUSE GETATTR/WRITE race: one lwp appends twice while another
// fstat()s the file. With the size lock off, some schedule applies a GETATTR
// reply older than the first write, the next append lands on top of it and
// the file misses bytes; the check reports it as an expectation failure.
sim::RunFn race(bool size_lock) {
  return testing::world_fn(
      {{"size_lock", size_lock ? "true" : "false"}, {"workers", "2"}}, [](World& w) {
        auto fd = w.k.open(w.p, "/conf", O_CREAT | O_WRONLY | O_APPEND, 0644);
        if (!fd.ok()) w.m().fail(Outcome::panic, "open failed");
        const int wfd = *fd;
        const sim::LwpId writer = w.m().spawn("writer", [&w, wfd] {
          (void)w.k.write(w.p, wfd, "AAAA");
          w.m().sleep_for(sim::kMillisecond);  // m4 works out the next chunk
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
      });
}

sim::ExploreSummary explore(const sim::RunFn& fn, const std::string& strategy, std::uint64_t n) {
  sim::ExploreOptions o;
  o.strategy = strategy;
  o.schedules = n;
  o.depth = 4;
  return sim::explore(fn, o);
}

// Without the size lock, pct finds a schedule whose file misses bytes.
TEST(PuffsRace, GetattrWriteRaceLosesBytesWithoutSizeLock) {
  auto s = explore(race(false), "pct", 2000);
  ASSERT_EQ(s.outcome, Outcome::expectation);
  EXPECT_NE(s.first_failure->message.find("expected 'AAAABBBB'"), std::string::npos);
}

// With the size lock, no explored schedule (pct and random) loses a byte.
TEST(PuffsRace, SizeLockFixesIt) {
  auto s = explore(race(true), "pct", 1000);
  EXPECT_EQ(s.outcome, Outcome::pass) << s.first_failure->message;
  auto r = explore(race(true), "random", 1000);
  EXPECT_EQ(r.outcome, Outcome::pass) << r.first_failure->message;
}

// Four processes stat a file at once over a transport whose buffers hold
// two messages, against a slow server.
sim::RunFn burst(const std::string& transport, const std::string& extra_key = {},
                 const std::string& extra_value = {}) {
  MountOptions args{{"transport", transport}, {"rcvbuf_msgs", "2"}, {"server_latency_us", "100"}};
  if (!extra_key.empty()) args[extra_key] = extra_value;
  return testing::world_fn(args, [](World& w) {
    auto fd = w.k.open(w.p, "/f", O_CREAT | O_RDWR, 0644);
    (void)w.k.close(w.p, *fd);
    std::vector<sim::LwpId> ids;
    for (int i = 0; i < 4; ++i) {
      ids.push_back(w.spawn_proc("p" + std::to_string(i), [&w](vfs::Proc& q) {
        const std::uint64_t op = w.m().op_begin("stat /f", sim::kSecond);
        (void)w.k.stat(q, "/f");
        w.m().op_end(op);
      }));
    }
    for (sim::LwpId id : ids) w.m().join(id);
  });
}

// dgram drops requests under load: some syscall never returns, and the hang
// report names the lost request.
TEST(PuffsTransport, DgramDropHangsNamingTheRequest) {
  auto s = explore(burst("dgram"), "random", 500);
  ASSERT_EQ(s.outcome, Outcome::hang);
  EXPECT_NE(s.first_failure->message.find("puffs reply to req "), std::string::npos)
      << s.first_failure->message;
}

// The same load on seqpacket: the senders block instead, and all complete.
TEST(PuffsTransport, SeqpacketNeverLosesRequests) {
  auto s = explore(burst("seqpacket"), "random", 500);
  EXPECT_EQ(s.outcome, Outcome::pass) << s.first_failure->message;
}

// With a timeout and retries a dropped request is sent again and completes.
TEST(PuffsTransport, RetryRecoversLostRequests) {
  auto s = explore(
      testing::world_fn(
          {{"transport", "seqpacket"}, {"req_drop_at", "3"}, {"timeout_ms", "10"}, {"retry", "2"}},
          [](World& w) { EXPECT_TRUE(w.k.stat(w.p, "/").ok()); }),
      "random", 50);
  EXPECT_EQ(s.outcome, Outcome::pass) << s.first_failure->message;
}

// ... but a lost reply is not recovered: the server does not run a request
// twice, so the retried request is never answered and the call fails.
TEST(PuffsTransport, RetryCannotRecoverLostReply) {
  auto r = run_once({{"reply_drop_at", "2"}, {"timeout_ms", "10"}, {"retry", "2"}},
                    [](World& w) { EXPECT_EQ(w.k.stat(w.p, "/x").err(), EIO); });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_duplicate_request", "already answered"));
  EXPECT_TRUE(has_event(r, "puffs_timeout", "after 3 sends"));
}

// The naive server misreads a split or joined request on a stream: the run
// ends as a protocol error naming the message; seqpacket passes.
TEST(PuffsTransport, StreamFragmentationIsAProtocolError) {
  auto s = explore(burst("stream"), "random", 200);
  ASSERT_EQ(s.outcome, Outcome::protocol);
  EXPECT_NE(s.first_failure->message.find("cannot parse a "), std::string::npos);
  auto fixed = explore(burst("stream", "framing", "reassemble"), "random", 200);
  EXPECT_EQ(fixed.outcome, Outcome::pass) << fixed.first_failure->message;
}

}  // namespace
}  // namespace vfsim::puffs

namespace vfsim::puffs {
namespace {

// listxattr(2) as root lists the user namespace, then the system one, into
// one list (vfs/xattr.cc): the stub must add the server's names to the
// list, not replace it, or root sees only its system attributes. (Found by
// the FUSE conformance test; failed before the fix.)
TEST(PuffsMount, ListxattrAsRootListsBothNamespaces) {
  std::vector<std::string> names;
  auto r = run_once({}, [&](World& w) {
    auto fd = w.k.open(w.p, "/f", O_CREAT | O_RDWR, 0644);
    ASSERT_TRUE(fd.ok());
    (void)w.k.close(w.p, *fd);
    ASSERT_TRUE(w.k.setxattr(w.p, "/f", "user.a", "1", 0).ok());
    ASSERT_TRUE(w.k.setxattr(w.p, "/f", "trusted.b", "2", 0).ok());
    auto got = w.k.listxattr(w.p, "/f");
    ASSERT_TRUE(got.ok());
    names = *got;
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(names, (std::vector<std::string>{"user.a", "trusted.b"}));
}

}  // namespace
}  // namespace vfsim::puffs
