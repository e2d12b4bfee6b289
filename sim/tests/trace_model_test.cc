// Tests of what a kept trace says for the tools that draw a run
// (sim/trace_kinds.h, sim/trace_model.h, sim/trace_export.h): a request and
// its reply over a socket pair are paired sends and receives on every socket
// type (on a stream, whatever the splits), spans nest and close where their
// lwp exits, happened-before follows messages, wakes and joins, and none of
// it changes the trace hash. The Chrome file escapes what JSON cannot hold.
#include "sim/trace_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "sim/socket.h"
#include "sim/sync.h"
#include "sim/trace_export.h"
#include "sim/trace_span.h"
#include "test_util.h"

namespace vfsim::sim {
namespace {

using testing::run_once;

// A client sends "ping" tagged as a request and waits for the server's
// reply; each side works inside a span. A third lwp joins both.
void ping_pong(Machine& m, SockType type) {
  auto pair = std::make_shared<SocketPair>(m, [type] {
    SocketOptions o;
    o.type = type;
    o.name = "wire";
    return o;
  }());
  const LwpId server = m.spawn("server", [&m, pair] {
    std::string in;
    std::string msg;
    while (msg.size() < 4) {
      IoResult r = pair->end(1).recv(&in, 64);
      if (!r.ok() || r.eof) return;
      msg += in;
    }
    const TraceSpan span(m, [] { return std::string("serve ping"); });
    m.sched_point("serving");
    (void)pair->end(1).send("pong", "reply 1 PING");
  });
  const LwpId client = m.spawn("client", [&m, pair] {
    const TraceSpan span(m, [] { return std::string("ask"); });
    (void)pair->end(0).send("ping", "req 1 PING");
    std::string in;
    std::string msg;
    while (msg.size() < 4) {
      IoResult r = pair->end(0).recv(&in, 64);
      if (!r.ok() || r.eof) return;
      msg += in;
    }
  });
  m.spawn("joiner", [&m, server, client] {
    m.join(server);
    m.join(client);
    m.event("done", "both finished");
  });
}

TEST(TraceModel, PairsMessagesAndNestsSpansOnEverySocketType) {
  for (SockType type : {SockType::seqpacket, SockType::dgram, SockType::stream}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const RunResult r =
          run_once([type](Machine& m) { ping_pong(m, type); }, "random", seed, true);
      ASSERT_FALSE(r.failed()) << r.message;
      const TraceModel model(r.events);
      ASSERT_EQ(model.messages().size(), 2u) << "seed " << seed;
      const auto& req = model.messages()[0];
      const auto& rep = model.messages()[1];
      EXPECT_EQ(req.label, "req 1 PING");
      EXPECT_EQ(rep.label, "reply 1 PING");
      ASSERT_TRUE(req.receive && rep.receive) << "seed " << seed;
      EXPECT_EQ(r.lwps.at(r.events[req.send].lwp).name, "client");
      EXPECT_EQ(r.lwps.at(r.events[*req.receive].lwp).name, "server");
      EXPECT_EQ(r.lwps.at(r.events[rep.send].lwp).name, "server");
      EXPECT_EQ(r.lwps.at(r.events[*rep.receive].lwp).name, "client");
      EXPECT_LT(*req.receive, rep.send);
      EXPECT_EQ(req.key, "wire 0->1 #1");
      // Spans: "ask" on the client holds its send and the reply's receive.
      ASSERT_EQ(model.spans().size(), 2u);
      for (const auto& s : model.spans()) {
        EXPECT_TRUE(s.ended) << s.name;
        if (s.name == "ask") {
          EXPECT_LT(s.begin, req.send);
          EXPECT_GT(s.end, *rep.receive);
        }
      }
    }
  }
}

TEST(TraceModel, NotesChangeNoHash) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    auto setup = [](Machine& m) { ping_pong(m, SockType::stream); };
    const RunResult kept = run_once(setup, "random", seed, true);
    const RunResult bare = run_once(setup, "random", seed, false);
    EXPECT_EQ(kept.trace_hash, bare.trace_hash) << "seed " << seed;
    EXPECT_TRUE(bare.lwps.empty());
    EXPECT_EQ(kept.lwps.size(), 3u);
  }
}

// The joiner's last event happened after everything both others did: the
// reply's send (a message edge into the client, then the exit and the join)
// and the request's receive.
TEST(TraceModel, HappenedBeforeFollowsMessagesWakesAndJoins) {
  const RunResult r =
      run_once([](Machine& m) { ping_pong(m, SockType::seqpacket); }, "random", 3, true);
  const TraceModel model(r.events);
  std::size_t done = 0;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    if (r.events[i].kind == "done") done = i;
  }
  ASSERT_GT(done, 0u);
  const auto cut = model.happened_before(done, r.lwps.size());
  for (const auto& l : r.lwps) {
    if (l.name == "joiner") continue;
    long long exit = -1;
    for (std::size_t i = 0; i < r.events.size(); ++i) {
      if (r.events[i].lwp == l.id && r.events[i].kind == "exit") exit = static_cast<long long>(i);
    }
    EXPECT_GE(cut[l.id], exit) << l.name << " did not happen before the join";
  }
  // Nothing happened before the client's first event but its spawn.
  std::size_t first_client = 0;
  while (r.events[first_client].lwp == kNoLwp ||
         r.lwps.at(r.events[first_client].lwp).name != "client") {
    ++first_client;
  }
  const auto early = model.happened_before(first_client, r.lwps.size());
  for (const auto& l : r.lwps) {
    if (l.name == "server" || l.name == "joiner") {
      EXPECT_EQ(early[l.id], -1) << l.name;
    }
  }
}

// A span the run ends inside closes where its lwp exits.
TEST(TraceModel, SpansOpenAtAFailureCloseAtExit) {
  const RunResult r = run_once(
      [](Machine& m) {
        m.spawn("victim", [&m] {
          const TraceSpan outer(m, [] { return std::string("outer"); });
          const TraceSpan inner(m, [] { return std::string("inner"); });
          m.fail(Outcome::expectation, "stop here");
        });
      },
      "random", 1, true);
  ASSERT_EQ(r.outcome, Outcome::expectation);
  const TraceModel model(r.events);
  ASSERT_EQ(model.spans().size(), 2u);
  EXPECT_EQ(model.spans()[1].depth, 1);
  ASSERT_TRUE(model.failure().has_value());
  for (const auto& s : model.spans()) EXPECT_GE(s.end, *model.failure()) << s.name;
  const std::string json = chrome_trace_json(r, {});
  const auto count = [&](std::string_view what) {
    std::size_t n = 0;
    for (std::size_t p = json.find(what); p != std::string::npos; p = json.find(what, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("\"ph\":\"B\""), 2u);
  EXPECT_EQ(count("\"ph\":\"E\""), 2u);
  EXPECT_EQ(count("\"ph\":\"i\",\"name\":\"FAILED: expectation: stop here\""), 1u);
}

TEST(TraceExport, QuotesWhatJsonCannotHold) {
  EXPECT_EQ(json_quote("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd\\te\"");
  EXPECT_EQ(json_quote(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");             // valid UTF-8 kept
  EXPECT_EQ(json_quote("\xff\xc3"), "\"\\u00ff\\u00c3\"");             // invalid bytes escaped
  EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");  // a surrogate
  EXPECT_EQ(message_label("wire 0->1 msg #1 len 4 (req 1 (a) PING)"), "req 1 (a) PING");
  EXPECT_EQ(message_label("no tag"), "no tag");
}

}  // namespace
}  // namespace vfsim::sim
