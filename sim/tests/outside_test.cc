// Tests of the outside world (sim/outside.h, outside_fd.h, recording.h): a
// machine whose lwps serve requests from outside waits for them instead of
// ending or calling itself hung; batches arrive at their virtual times and
// interleave with timers; a recording of a real device (a SOCK_SEQPACKET
// socket pair, which keeps message boundaries as /dev/fuse does) replays with
// the same replies and the same trace hash; a replay whose replies differ is
// an expectation failure naming the message; a deadlock among the serving
// lwps is found while the outside is still open.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "sim/outside_fd.h"
#include "sim/recording.h"
#include "sim/sync.h"
#include "test_util.h"

namespace vfsim::sim {
namespace {

// Two workers take requests and answer "re:" + request, with a scheduling
// point in between; a third lwp ticks a timer every 3 ms of virtual time
// while requests are outstanding, so timers and arrivals interleave.
struct EchoServer {
  explicit EchoServer(OutsideSource& src, bool tick = false) : src_(src), tick_(tick) {}
  void setup(Machine& m) {
    m.spawn("server", [this, &m] {
      Outside out(m, src_, "test device");
      std::string why;
      ASSERT_TRUE(out.source().start(&why)) << why;
      std::vector<LwpId> ids;
      for (int i = 0; i < 2; ++i) {
        ids.push_back(m.spawn("worker" + std::to_string(i), [&m, &out, this] {
          while (auto msg = out.receive()) {
            times.push_back(m.now());
            m.sched_point("work");
            out.send("re:" + *msg);
          }
        }));
      }
      if (tick_) {
        ids.push_back(m.spawn("ticker", [&m, &out, this] {
          while (!out.closed()) {
            m.sleep_for(3 * kMillisecond);
            ++ticks;
          }
        }));
      }
      for (LwpId id : ids) m.join(id);
    });
  }
  OutsideSource& src_;
  bool tick_;
  std::vector<VTime> times;
  int ticks = 0;
};

std::shared_ptr<Recording> make_recording() {
  auto rec = std::make_shared<Recording>();
  rec->batches.push_back({kMillisecond, {"a"}});
  rec->batches.push_back({10 * kMillisecond, {"b", "c"}});
  rec->closed_at = 20 * kMillisecond;
  for (const char* s : {"re:a", "re:b", "re:c"}) rec->sent.emplace_back(s);
  return rec;
}

// Batches arrive at their recorded virtual times, the run ends when the
// outside closes, and both messages of the second batch are handled after it
// arrived.
TEST(Outside, RecordedBatchesArriveAtTheirTimes) {
  RecordedSource src(make_recording(), false);
  EchoServer s(src);
  auto r = testing::run_once([&](Machine& m) { s.setup(m); }, "pct", 3);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  ASSERT_EQ(s.times.size(), 3u);
  EXPECT_EQ(s.times[0], kMillisecond);
  EXPECT_EQ(s.times[1], 10 * kMillisecond);
  EXPECT_EQ(s.times[2], 10 * kMillisecond);
  EXPECT_EQ(r.end_time, 20 * kMillisecond);
}

// Timers due before the next batch fire first; the batch then arrives at its
// own time, not the timer's.
TEST(Outside, TimersInterleaveWithArrivals) {
  RecordedSource src(make_recording(), false);
  EchoServer s(src, true);
  auto r = testing::run_once([&](Machine& m) { s.setup(m); }, "random", 5);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(s.times[1], 10 * kMillisecond);
  EXPECT_GE(s.ticks, 3);  // 3, 6, 9 ms before the second batch
}

// With check_sent, a reply that differs from the recording ends the run as
// an expectation failure naming the message and the byte.
TEST(Outside, ADifferentReplyIsNotReproduced) {
  auto rec = make_recording();
  rec->sent[1] = "re:x";
  RecordedSource src(rec, true);
  EchoServer s(src);
  // Under pct with seed 3 the first worker answers in arrival order.
  auto r = testing::run_once([&](Machine& m) { s.setup(m); }, "pct", 3);
  ASSERT_EQ(r.outcome, Outcome::expectation);
  EXPECT_NE(r.message.find("message 2 sent differs from the recording at byte 3"),
            std::string::npos)
      << r.message;
}

// Two lwps in a lock-order cycle are reported as a deadlock although the
// outside is still open (the machine does not wait for a request forever).
TEST(Outside, DeadlockIsFoundWhileTheOutsideIsOpen) {
  auto rec = std::make_shared<Recording>();
  rec->batches.push_back({kSecond, {"late"}});
  rec->closed_at = 2 * kSecond;
  ExploreOptions eo;
  eo.strategy = "random";
  eo.schedules = 200;
  auto fn = testing::as_run_fn([&](Machine& m) {
    auto src2 = std::make_shared<RecordedSource>(rec, false);
    auto a = std::make_shared<Mutex>(m, "A");
    auto b = std::make_shared<Mutex>(m, "B");
    m.spawn("server", [&m, src2, a, b] {
      Outside out(m, *src2, "dev");
      LwpId x = m.spawn("x", [&m, a, b] {
        MutexGuard g(*a);
        m.sched_point("between");
        MutexGuard h(*b);
      });
      LwpId y = m.spawn("y", [&m, a, b] {
        MutexGuard g(*b);
        m.sched_point("between");
        MutexGuard h(*a);
      });
      m.join(x);
      m.join(y);
      while (out.receive()) {}
    });
  });
  auto sum = explore(fn, eo);
  EXPECT_EQ(sum.outcome, Outcome::deadlock);
  ASSERT_TRUE(sum.first_failure.has_value());
  EXPECT_LT(sum.first_failure->end_time, kSecond);  // before the first request arrived
}

// A real device: messages written into a SOCK_SEQPACKET socket by another
// thread arrive (queued ones in one batch), replies go back, and closing the
// peer ends the run. The recording made meanwhile replays inside the machine
// with no device: every reply identical, the same decisions, the same hash.
TEST(Outside, RecordingOfARealDeviceReplays) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("vfsim_outside_test_" + std::to_string(getpid())))
          .string();
  std::string why;
  auto writer = RecordingWriter::create(path, &why);
  ASSERT_TRUE(writer) << why;
  std::vector<std::string> replies;
  // The host: three requests at once, then one more after the first replies.
  std::thread host([fd = sv[1], &replies] {
    for (const char* m : {"one", "two", "three"}) ASSERT_GT(::write(fd, m, std::strlen(m)), 0);
    char buf[64];
    for (int i = 0; i < 3; ++i) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      ASSERT_GT(n, 0);
      replies.emplace_back(buf, static_cast<std::size_t>(n));
    }
    ASSERT_GT(::write(fd, "four", 4), 0);
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    replies.emplace_back(buf, static_cast<std::size_t>(n));
    ::close(fd);
  });
  FdSourceOptions fo;
  fo.fd = sv[0];
  fo.recorder = writer.get();
  FdSource live(fo);
  EchoServer s(live, true);
  RunResult r;
  {
    StrategyParams p;
    p.seed = 9;
    auto st = make_strategy("random", p);
    st->begin_run(0, 9);
    MachineOptions mo;
    mo.seed = 9;
    mo.on_decision = [&](LwpId id) { writer->decision(id); };
    Machine m(mo, *st);
    s.setup(m);
    r = m.run();
  }
  host.join();
  ::close(sv[0]);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies.back(), "re:four");
  ASSERT_TRUE(writer->finish(r, &why)) << why;

  auto rec = std::make_shared<Recording>();
  ASSERT_TRUE(read_recording(path, rec.get(), &why)) << why;
  EXPECT_EQ(rec->requests(), 4u);
  EXPECT_EQ(rec->sent.size(), 4u);
  EXPECT_EQ(rec->trace_hash, r.trace_hash);
  EXPECT_EQ(rec->decisions, r.schedule);

  RecordedSource played(rec, true);
  EchoServer s2(played, true);
  StrategyParams p;
  p.schedule = rec->decisions;
  auto st = make_strategy("replay", p);
  st->begin_run(0, 9);
  MachineOptions mo;
  mo.seed = 9;
  Machine m(mo, *st);
  s2.setup(m);
  RunResult again = m.run();
  EXPECT_EQ(again.outcome, Outcome::pass) << again.message;
  EXPECT_EQ(played.matched(), 4u);
  EXPECT_EQ(again.trace_hash, r.trace_hash);
  EXPECT_FALSE(st->diverged());

  // A stream cut short, or with a byte changed, is refused with its offset.
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 3);
  Recording bad;
  EXPECT_FALSE(read_recording(path, &bad, &why));
  EXPECT_NE(why.find("cut short"), std::string::npos) << why;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vfsim::sim
