// Tests of the socket model (sim/socket.h) and its fault wrapper
// (sim/socket_faults.h): each socket type's delivery semantics, buffer
// limits, close/crash errnos as POSIX gives them, timeouts on the virtual
// clock, and that every fault fires as configured and replays from its seed.
#include "sim/socket.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include "sim/socket_faults.h"
#include "test_util.h"

namespace vfsim::sim {
namespace {

using testing::run_once;

SocketOptions opts(SockType t, std::size_t rcvbuf = 1024, std::size_t msgs = 0) {
  SocketOptions o;
  o.type = t;
  o.name = "s";
  for (auto& b : o.buf) {
    b.rcvbuf_bytes = rcvbuf;
    b.rcvbuf_msgs = msgs;
  }
  return o;
}

bool has_event(const RunResult& r, std::string_view kind, std::string_view text) {
  for (const TraceEvent& e : r.events) {
    if (e.kind == kind && e.detail.find(text) != std::string::npos) return true;
  }
  return false;
}

// Seqpacket delivers each message whole and in order, whatever the schedule.
TEST(Socket, SeqpacketKeepsBoundariesAndOrder) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    std::vector<std::string> got;
    auto r = run_once(
        [&](Machine& m) {
          auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket, 64));
          m.spawn("tx", [sp] {
            for (int i = 0; i < 10; ++i)
              ASSERT_TRUE(sp->end(0).send("msg" + std::to_string(i)).ok());
          });
          m.spawn("rx", [sp, &got] {
            std::string buf;
            for (int i = 0; i < 10; ++i) {
              ASSERT_TRUE(sp->end(1).recv(&buf, 100).ok());
              got.push_back(buf);
            }
          });
        },
        "random", seed);
    ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
    ASSERT_EQ(got.size(), 10u);
    for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(got[i], "msg" + std::to_string(i));
  }
}

// A seqpacket sender blocks while the peer's buffer is full and goes on once
// the receiver makes room; nothing is lost.
TEST(Socket, SeqpacketSenderBlocksWhenFull) {
  VTime sent_at = 0;
  std::string last;
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket, 1024, 2));
    m.spawn("tx", [&m, sp, &sent_at] {
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(sp->end(0).send("x" + std::to_string(i)).ok());
      sent_at = m.now();
    });
    m.spawn("rx", [&m, sp, &last] {
      m.sleep_for(5 * kMillisecond);  // the third send must wait for this
      std::string buf;
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(sp->end(1).recv(&buf, 100).ok());
      last = buf;
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_GE(sent_at, 5 * kMillisecond);
  EXPECT_EQ(last, "x2");
}

// Dgram drops a datagram sent into a full buffer: the sender sees success,
// the receiver never sees it, and the trace names the dropped message.
TEST(Socket, DgramDropsWhenFullAndTracesIt) {
  std::vector<std::string> got;
  std::uint64_t dropped = 0;
  auto r = run_once(
      [&](Machine& m) {
        auto sp = std::make_shared<SocketPair>(m, opts(SockType::dgram, 1024, 2));
        m.spawn("tx", [sp, &dropped] {
          for (int i = 0; i < 4; ++i) {
            IoResult s = sp->end(0).send("d" + std::to_string(i), "req " + std::to_string(i));
            ASSERT_TRUE(s.ok());
            ASSERT_EQ(s.bytes, 2u);
          }
          dropped = sp->dropped();
          sp->end(0).close();
        });
        m.spawn("rx", [&m, sp, &got] {
          m.sleep_for(kMillisecond);
          std::string buf;
          for (;;) {
            IoResult g = sp->end(1).recv(&buf, 100);
            ASSERT_TRUE(g.ok());
            if (g.eof) break;
            got.push_back(buf);
          }
        });
      },
      "random", 1, /*keep_trace=*/true);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(got, (std::vector<std::string>{"d0", "d1"}));
  EXPECT_TRUE(has_event(r, "sock_drop", "msg #3 len 2 (req 2)"));
  EXPECT_TRUE(has_event(r, "sock_drop", "msg #4 len 2 (req 3)"));
}

// A stream delivers every byte in order, but over many seeds some reads
// return part of one write and some return two writes joined.
TEST(Socket, StreamSplitsAndJoinsButKeepsBytes) {
  bool saw_split = false, saw_join = false;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    std::string all;
    std::vector<std::string> reads;
    auto r = run_once(
        [&](Machine& m) {
          auto sp = std::make_shared<SocketPair>(m, opts(SockType::stream, 4096));
          m.spawn("tx", [sp] {
            for (int i = 0; i < 4; ++i) ASSERT_TRUE(sp->end(0).send("abcdefgh").ok());
            sp->end(0).close();
          });
          m.spawn("rx", [&m, sp, &all, &reads] {
            m.sleep_for(kMillisecond);  // let writes pile up so they can join
            std::string buf;
            for (;;) {
              IoResult g = sp->end(1).recv(&buf, 100);
              ASSERT_TRUE(g.ok());
              if (g.bytes == 0) break;
              all += buf;
              reads.push_back(buf);
            }
          });
        },
        "random", seed);
    ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
    ASSERT_EQ(all, "abcdefghabcdefghabcdefghabcdefgh");
    for (const auto& s : reads) {
      if (s.size() % 8 != 0) saw_split = true;
      if (s.size() > 8) saw_join = true;
    }
  }
  EXPECT_TRUE(saw_split);
  EXPECT_TRUE(saw_join);
}

// The same seed cuts a stream at the same places: the reads replay exactly.
TEST(Socket, StreamSplitsReplayFromSeed) {
  auto reads_of = [](std::uint64_t seed) {
    std::vector<std::size_t> sizes;
    auto r = run_once(
        [&](Machine& m) {
          auto sp = std::make_shared<SocketPair>(m, opts(SockType::stream, 4096));
          m.spawn("tx", [sp] {
            for (int i = 0; i < 6; ++i) ASSERT_TRUE(sp->end(0).send("0123456789").ok());
          });
          m.spawn("rx", [sp, &sizes] {
            std::string buf;
            std::size_t total = 0;
            while (total < 60) {
              ASSERT_TRUE(sp->end(1).recv(&buf, 100).ok());
              total += buf.size();
              sizes.push_back(buf.size());
            }
          });
        },
        "random", seed);
    EXPECT_EQ(r.outcome, Outcome::pass);
    return sizes;
  };
  EXPECT_EQ(reads_of(7), reads_of(7));
  std::set<std::vector<std::size_t>> distinct;
  for (std::uint64_t s = 1; s <= 10; ++s) distinct.insert(reads_of(s));
  EXPECT_GT(distinct.size(), 1u);
}

// A stream writer blocks while the buffer is full and finishes once read.
TEST(Socket, StreamWriterBlocksWhenFull) {
  std::string all;
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::stream, 8));
    m.spawn("tx", [sp] {
      IoResult s = sp->end(0).send("0123456789abcdefghij");
      ASSERT_TRUE(s.ok());
      ASSERT_EQ(s.bytes, 20u);
      sp->end(0).close();
    });
    m.spawn("rx", [sp, &all] {
      std::string buf;
      while (sp->end(1).recv(&buf, 3).bytes > 0) all += buf;
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(all, "0123456789abcdefghij");
}

// A message larger than the peer's whole buffer is EMSGSIZE; a short read
// buffer truncates a message and says so.
TEST(Socket, MessageSizeLimits) {
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket, 4));
    m.spawn("t", [sp] {
      EXPECT_EQ(sp->end(0).send("12345").err(), EMSGSIZE);
      ASSERT_TRUE(sp->end(0).send("1234").ok());
      std::string buf;
      IoResult g = sp->end(1).recv(&buf, 2);
      EXPECT_TRUE(g.ok());
      EXPECT_TRUE(g.truncated);
      EXPECT_EQ(buf, "12");
      EXPECT_EQ(sp->queued_bytes(1), 0u);
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

// Closing an end: the peer reads what was delivered, then EOF; its sends get
// EPIPE (ECONNREFUSED on dgram); the closed end answers EBADF.
TEST(Socket, CloseGivesEofEpipeEbadf) {
  for (SockType t : {SockType::seqpacket, SockType::stream, SockType::dgram}) {
    auto r = run_once([&](Machine& m) {
      auto sp = std::make_shared<SocketPair>(m, opts(t, 64));
      m.spawn("t", [sp, t] {
        ASSERT_TRUE(sp->end(0).send("last").ok());
        sp->end(0).close();
        std::string buf;
        IoResult g = sp->end(1).recv(&buf, 100);
        EXPECT_TRUE(g.ok());
        EXPECT_EQ(buf, "last");
        g = sp->end(1).recv(&buf, 100);
        EXPECT_TRUE(g.ok());
        EXPECT_TRUE(g.eof);
        EXPECT_EQ(sp->end(1).send("x").err(), t == SockType::dgram ? ECONNREFUSED : EPIPE);
        EXPECT_EQ(sp->end(0).send("x").err(), EBADF);
        EXPECT_EQ(sp->end(0).recv(&buf, 10).err(), EBADF);
      });
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << sock_type_name(t) << ": " << r.message;
  }
}

// An end that closes with unread data resets the connection: the peer's next
// recv is ECONNRESET, then EOF.
TEST(Socket, CloseWithUnreadDataResetsPeer) {
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket, 64));
    m.spawn("t", [sp] {
      ASSERT_TRUE(sp->end(1).send("unread").ok());
      sp->end(0).close();  // end 0 never read "unread"
      std::string buf;
      EXPECT_EQ(sp->end(1).recv(&buf, 100).err(), ECONNRESET);
      EXPECT_TRUE(sp->end(1).recv(&buf, 100).eof);
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

// A reader blocked on an empty socket wakes with EOF when the peer crashes,
// and a sender blocked on a full one wakes with EPIPE.
TEST(Socket, PeerCrashWakesBlockedLwps) {
  int recv_eof = 0, send_err = 0;
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket, 4));
    auto sp2 = std::make_shared<SocketPair>(m, opts(SockType::seqpacket, 4));
    m.spawn("reader", [sp, &recv_eof] {
      std::string buf;
      recv_eof = sp->end(1).recv(&buf, 10).eof ? 1 : 0;
    });
    m.spawn("sender", [sp2, &send_err] {
      ASSERT_TRUE(sp2->end(0).send("full").ok());
      send_err = sp2->end(0).send("more").err();
    });
    m.spawn("crasher", [&m, sp, sp2] {
      m.sleep_for(kMillisecond);
      sp->end(0).close();
      sp2->end(1).close();
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(recv_eof, 1);
  EXPECT_EQ(send_err, EPIPE);
}

// recv with a timeout answers EAGAIN when the virtual clock passes it.
TEST(Socket, RecvTimeoutOnVirtualClock) {
  VTime at = 0;
  int err = 0;
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket));
    m.spawn("t", [&m, sp, &at, &err] {
      std::string buf;
      err = sp->end(1).recv(&buf, 10, 3 * kMillisecond).err();
      at = m.now();
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(err, EAGAIN);
  EXPECT_EQ(at, 3 * kMillisecond);
}

// A reader waiting on a socket nobody will write is a hang whose report
// names the socket.
TEST(Socket, StuckReaderIsAHangNamingTheSocket) {
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket));
    m.spawn("t", [sp] {
      std::string buf;
      (void)sp->end(1).recv(&buf, 10);
    });
  });
  ASSERT_EQ(r.outcome, Outcome::hang);
  EXPECT_NE(r.message.find("socket 's.1' data"), std::string::npos) << r.message;
}

// Sends the messages "m1".."mN" through a FaultySocket over seqpacket and
// returns what arrives (after closing the sender).
std::vector<std::string> through_faults(std::vector<SockFaultRule> rules, int n,
                                        std::uint64_t seed = 1, RunResult* out = nullptr) {
  std::vector<std::string> got;
  auto r = run_once(
      [&](Machine& m) {
        auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket, 4096));
        auto fs = std::make_shared<FaultySocket>(m, sp->end(0), rules);
        m.spawn("tx", [&m, sp, fs, n] {
          for (int i = 1; i <= n; ++i) ASSERT_TRUE(fs->send("m" + std::to_string(i)).ok());
          m.sleep_for(10 * kMillisecond);  // couriers deliver first
          fs->close();
        });
        m.spawn("rx", [sp, &got] {
          std::string buf;
          for (;;) {
            IoResult g = sp->end(1).recv(&buf, 100);
            if (!g.ok() || g.eof) break;
            got.push_back(buf);
          }
        });
      },
      "random", seed, /*keep_trace=*/true);
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
  if (out != nullptr) *out = r;
  return got;
}

SockFaultRule at(SockFault k, std::vector<std::uint64_t> msgs) {
  SockFaultRule r;
  r.kind = k;
  r.at_messages = std::move(msgs);
  return r;
}

using V = std::vector<std::string>;

// Each fault fired by step does exactly what it says, and is traced.
TEST(SocketFaults, ByStep) {
  RunResult r;
  EXPECT_EQ(through_faults({at(SockFault::drop, {2})}, 3, 1, &r), (V{"m1", "m3"}));
  EXPECT_TRUE(has_event(r, "sock_fault_drop", "message 2"));
  EXPECT_EQ(through_faults({at(SockFault::duplicate, {1})}, 2), (V{"m1", "m1", "m2"}));
  EXPECT_EQ(through_faults({at(SockFault::reorder, {1})}, 3), (V{"m2", "m1", "m3"}));
  EXPECT_EQ(through_faults({at(SockFault::reorder, {3})}, 3), (V{"m1", "m2", "m3"}));
  EXPECT_EQ(through_faults({at(SockFault::delay, {1})}, 3), (V{"m2", "m3", "m1"}));
}

// A delayed message arrives exactly `delay` of virtual time after it was sent.
TEST(SocketFaults, DelayIsVirtualTime) {
  VTime arrived = 0;
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket));
    SockFaultRule rule = at(SockFault::delay, {1});
    rule.delay = 7 * kMillisecond;
    auto fs = std::make_shared<FaultySocket>(m, sp->end(0), std::vector{rule});
    m.spawn("tx", [fs] { ASSERT_TRUE(fs->send("late").ok()); });
    m.spawn("rx", [&m, sp, &arrived] {
      std::string buf;
      ASSERT_TRUE(sp->end(1).recv(&buf, 10).ok());
      arrived = m.now();
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_EQ(arrived, 7 * kMillisecond);
}

// Faults by probability replay from the seed, differ between seeds, and a
// rule switched off for the run never fires.
TEST(SocketFaults, ByProbabilityReplaysFromSeed) {
  SockFaultRule drop;
  drop.kind = SockFault::drop;
  drop.per_million = 300'000;
  EXPECT_EQ(through_faults({drop}, 20, 5), through_faults({drop}, 20, 5));
  std::set<V> distinct;
  for (std::uint64_t s = 1; s <= 8; ++s) distinct.insert(through_faults({drop}, 20, s));
  EXPECT_GT(distinct.size(), 1u);
  drop.active_per_million = 0;
  EXPECT_EQ(through_faults({drop}, 5).size(), 5u);
}

// A crash loses a held message and closes the end: the peer sees EOF.
TEST(SocketFaults, CrashLosesHeldMessage) {
  std::vector<std::string> got;
  bool eof = false;
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket));
    auto fs =
        std::make_shared<FaultySocket>(m, sp->end(0), std::vector{at(SockFault::reorder, {1})});
    m.spawn("tx", [fs] {
      ASSERT_TRUE(fs->send("held").ok());
      fs->crash();
    });
    m.spawn("rx", [sp, &got, &eof] {
      std::string buf;
      IoResult g = sp->end(1).recv(&buf, 10);
      eof = g.ok() && g.eof;
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(eof);
}

// Declared users turn socket waits into wait-for edges: two lwps each
// waiting for the other's message is reported as a deadlock, not a hang.
TEST(Socket, DeclaredUsersMakeDeadlockCycles) {
  auto r = run_once([&](Machine& m) {
    auto sp = std::make_shared<SocketPair>(m, opts(SockType::seqpacket));
    const LwpId a = m.spawn("a", [sp] {
      std::string buf;
      (void)sp->end(0).recv(&buf, 10);
    });
    const LwpId b = m.spawn("b", [sp] {
      std::string buf;
      (void)sp->end(1).recv(&buf, 10);
    });
    sp->declare_user(0, a);
    sp->declare_user(1, b);
  });
  ASSERT_EQ(r.outcome, Outcome::deadlock) << r.message;
  EXPECT_NE(r.message.find("socket 's.0' data"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace vfsim::sim
