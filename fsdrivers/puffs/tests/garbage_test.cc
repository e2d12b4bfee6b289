// A server that answers garbage never crashes the kernel side: a reply with
// a lying length, a short body, another request's op or cookie fails the
// request with EPROTO; a reply for an id nobody waits for, or bytes that are
// not even a header, are logged and the request runs into its timeout (EIO);
// a stream whose length field cannot be right is given up (then ENXIO). Every
// case is logged in the trace, and the run itself passes.
#include <gtest/gtest.h>

#include <cerrno>

#include "fsdrivers/puffs/puffs_kernel.h"
#include "fsdrivers/puffs/tests/puffs_world.h"

namespace vfsim::puffs {
namespace {

using sim::Outcome;

enum class Garbage { bad_length, short_body, wrong_op, wrong_cookie, wrong_id, noise, huge_length };

// Answers each request with one kind of garbage.
std::string garbage_for(const Request& rq, Garbage g) {
  Reply rp;
  rp.h.id = rq.h.id;
  rp.h.cookie = rq.h.cookie;
  std::string b;
  switch (g) {
    case Garbage::bad_length:
      b = encode_reply(rp, rq.h.op);
      b[0] = static_cast<char>(b[0] + 3);
      return b;
    case Garbage::short_body:
      b = encode_reply(rp, rq.h.op);
      b.resize(b.size() - 5);
      b[0] = static_cast<char>(b.size());
      return b;
    case Garbage::wrong_op: return encode_reply(rp, PuffsOp::readlink);
    case Garbage::wrong_cookie: rp.h.cookie = 999; return encode_reply(rp, rq.h.op);
    case Garbage::wrong_id: rp.h.id = rq.h.id + 1000; return encode_reply(rp, rq.h.op);
    case Garbage::noise: return "\x01\x02garbage";
    case Garbage::huge_length:
      b = encode_reply(rp, rq.h.op);
      b[3] = 0x7f;
      return b;
  }
  return {};
}

struct Result {
  sim::RunResult run;
  int err = -1;
};

Result call_garbage(Garbage g, sim::SockType type = sim::SockType::seqpacket,
                    std::uint64_t seed = 1) {
  Result out;
  sim::StrategyParams sp;
  sp.seed = seed;
  auto st = sim::make_strategy("random", sp);
  st->begin_run(0, seed);
  sim::MachineOptions mo;
  mo.seed = seed;
  mo.keep_trace = true;
  sim::Machine m(mo, *st);
  sim::SocketOptions so;
  so.type = type;
  sim::SocketPair pair(m, so);
  PuffsMountOptions po;
  po.timeout = 5 * sim::kMillisecond;
  PuffsMount pm(m, pair.end(0), po);
  m.spawn(
      "garbage server",
      [&] {
        std::string buf;
        while (pair.end(1).recv(&buf, 1 << 16).bytes > 0) {
          DecodedRequest d = decode_request(buf);
          if (d.req) (void)pair.end(1).send(garbage_for(*d.req, g));
        }
      },
      /*daemon=*/true);
  m.spawn("caller", [&] {
    pm.start();
    Request rq;
    rq.h.op = PuffsOp::getattr;
    rq.h.cookie = 7;
    Reply rp;
    out.err = pm.call(rq, &rp).err();
    if (pm.pending() != 0) m.fail(Outcome::leak, "request left pending");
    pair.end(0).close();
  });
  out.run = m.run();
  return out;
}

TEST(PuffsGarbage, LyingLengthIsEproto) {
  Result r = call_garbage(Garbage::bad_length);
  ASSERT_EQ(r.run.outcome, Outcome::pass) << r.run.message;
  EXPECT_EQ(r.err, EPROTO);
  EXPECT_TRUE(testing::has_event(r.run, "puffs_bad_reply", "length field says"));
}

TEST(PuffsGarbage, ShortBodyIsEproto) {
  Result r = call_garbage(Garbage::short_body);
  ASSERT_EQ(r.run.outcome, Outcome::pass) << r.run.message;
  EXPECT_EQ(r.err, EPROTO);
  EXPECT_TRUE(testing::has_event(r.run, "puffs_bad_reply", "body ends early"));
}

TEST(PuffsGarbage, AnotherOpOrCookieIsEproto) {
  for (Garbage g : {Garbage::wrong_op, Garbage::wrong_cookie}) {
    Result r = call_garbage(g);
    ASSERT_EQ(r.run.outcome, Outcome::pass) << r.run.message;
    EXPECT_EQ(r.err, EPROTO);
    EXPECT_TRUE(testing::has_event(r.run, "puffs_bad_reply", "answers req 1 GETATTR cookie 7"));
  }
}

TEST(PuffsGarbage, UnknownIdIsLoggedAndTimesOut) {
  Result r = call_garbage(Garbage::wrong_id);
  ASSERT_EQ(r.run.outcome, Outcome::pass) << r.run.message;
  EXPECT_EQ(r.err, EIO);
  EXPECT_TRUE(testing::has_event(r.run, "puffs_unknown_reply", "reply 1001 GETATTR"));
  EXPECT_TRUE(testing::has_event(r.run, "puffs_timeout", "req 1 GETATTR"));
}

TEST(PuffsGarbage, NoiseIsLoggedAndTimesOut) {
  Result r = call_garbage(Garbage::noise);
  ASSERT_EQ(r.run.outcome, Outcome::pass) << r.run.message;
  EXPECT_EQ(r.err, EIO);
  EXPECT_TRUE(testing::has_event(r.run, "puffs_bad_reply", "shorter than a header"));
}

// On a stream a length field that cannot be right loses the framing for
// good: the request it names fails with EPROTO and the kernel gives the
// connection up (a forced unmount: every later call answers ENXIO).
TEST(PuffsGarbage, HugeLengthOnStreamGivesUp) {
  Result r = call_garbage(Garbage::huge_length, sim::SockType::stream);
  ASSERT_EQ(r.run.outcome, Outcome::pass) << r.run.message;
  EXPECT_EQ(r.err, EPROTO);
  EXPECT_TRUE(testing::has_event(r.run, "puffs_bad_reply", "out of range"));
  EXPECT_TRUE(testing::has_event(r.run, "puffs_server_gone", "socket closed"));
}

// Over many schedules and every kind of garbage, the run never panics.
TEST(PuffsGarbage, NeverCrashesUnderAnySchedule) {
  for (Garbage g : {Garbage::bad_length, Garbage::short_body, Garbage::wrong_op,
                    Garbage::wrong_cookie, Garbage::wrong_id, Garbage::noise}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      Result r = call_garbage(g, sim::SockType::seqpacket, seed);
      ASSERT_EQ(r.run.outcome, Outcome::pass) << r.run.message;
      ASSERT_TRUE(r.err == EPROTO || r.err == EIO) << r.err;
    }
  }
}

}  // namespace
}  // namespace vfsim::puffs
