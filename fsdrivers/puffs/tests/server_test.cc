// Tests of the libpuffs-style server framework against a raw client on a sim
// socket: dispatch through the op vector (unfilled ops answer EOPNOTSUPP),
// the cookie map (same key, same cookie; RECLAIM forgets), lookup counts
// (RECLAIM frees a node only when its nlookup reaches zero; a lying nlookup
// is refused), unknown cookies and unparsable requests answered with EIO /
// EPROTO and logged, the fatal protocol error of a naive server reading a
// stream, and reassembly fixing it.
#include <gtest/gtest.h>

#include <cerrno>
#include <limits>
#include <set>

#include "fsdrivers/puffs/puffs_server.h"
#include "sim/socket.h"

namespace vfsim::puffs {
namespace {

using sim::Machine;
using sim::Outcome;
using sim::RunResult;

// A hardcoded file system in the spirit of the puffs notes' hardcodefs: a
// root directory with two files; lookup, getattr and reclaim only.
struct HcNode : PuffsNode {
  std::string name;
  std::uint64_t size = 0;
};

class HardcodeOps : public PuffsOps {
 public:
  sim::Status lookup(OpCtx& c, const LookupArgs& a, Reply* rp) override {
    static constexpr std::pair<const char*, std::uint64_t> kFiles[] = {{"a", 10}, {"b", 20}};
    for (const auto& [name, key] : kFiles) {
      if (a.name != name) continue;
      auto cookie = c.server.nodes().cookie_of_key(key);
      if (!cookie) {
        auto n = std::make_unique<HcNode>();
        n->key = key;
        n->name = name;
        n->size = key * 100;
        cookie = c.server.nodes().add(std::move(n));
      }
      rp->new_cookie = *cookie;
      rp->new_type = vn::VType::VREG;
      return sim::kOk;
    }
    return sim::Status(ENOENT);
  }
  sim::Status getattr(OpCtx& c, const NoArgs&, Reply* rp) override {
    rp->va.size = static_cast<HcNode&>(c.node).size;
    return sim::kOk;
  }
  sim::Status reclaim(OpCtx&, const ReclaimArgs&, Reply*) override { return sim::kOk; }
};

struct Fixture {
  explicit Fixture(Machine& m, sim::SockType t = sim::SockType::seqpacket,
                   sim::SockBufOptions buf = {})
      : sock(m, [&] {
          sim::SocketOptions o;
          o.type = t;
          o.name = "puffs";
          o.buf[0] = o.buf[1] = buf;
          return o;
        }()) {}
  sim::SocketPair sock;
  HardcodeOps ops;
  std::unique_ptr<Server> server;
  void start(Machine& m, ServerOptions so = {}) {
    server = std::make_unique<Server>(m, sock.end(1), ops, so);
    auto root = std::make_unique<HcNode>();
    root->key = 1;
    server->set_root(std::move(root));
    server->start();
  }
  // Sends one request from the kernel end and reads one reply.
  Reply call(Request rq) {
    EXPECT_TRUE(sock.end(0).send(encode_request(rq)).ok());
    std::string buf;
    EXPECT_TRUE(sock.end(0).recv(&buf, 1 << 16).ok());
    DecodedReply d = decode_reply(buf);
    EXPECT_TRUE(d.rep) << d.error.why;
    return d.rep ? *d.rep : Reply{};
  }
};

// Runs one machine; what setup returns is kept alive until the machine is
// gone, since daemon lwps (the workers) still use it while being unwound.
RunResult run(std::uint64_t seed, const std::function<std::shared_ptr<void>(Machine&)>& setup) {
  std::shared_ptr<void> keep;
  sim::StrategyParams p;
  p.seed = seed;
  auto st = sim::make_strategy("random", p);
  st->begin_run(0, seed);
  sim::MachineOptions o;
  o.seed = seed;
  o.keep_trace = true;
  Machine m(o, *st);
  keep = setup(m);
  return m.run();
}

// A run of `seed` with a server started with `so` and one lwp, "kernel",
// running `kernel` against it.
RunResult run_kernel(std::uint64_t seed, const ServerOptions& so,
                     const std::function<void(Fixture&)>& kernel) {
  return run(seed, [&](Machine& m) {
    auto f = std::make_shared<Fixture>(m);
    f->start(m, so);
    m.spawn("kernel", [f, kernel] { kernel(*f); });
    return f;
  });
}

// A request of `op` with its default arguments; a LOOKUP looks `name` up.
Request req(PuffsOp op, std::uint64_t id, std::uint64_t cookie, std::string name = {}) {
  Request rq = make_request(op, cookie);
  rq.h.id = id;
  if (auto* l = std::get_if<LookupArgs>(&rq.args)) l->name = std::move(name);
  return rq;
}

Request reclaim_req(std::uint64_t id, std::uint64_t cookie, std::int64_t nlookup) {
  Request rq = make_request<PuffsOp::reclaim>(cookie, ReclaimArgs{nlookup});
  rq.h.id = id;
  return rq;
}

bool has_event(const RunResult& r, std::string_view kind, std::string_view text) {
  for (const auto& e : r.events) {
    if (e.kind == kind && e.detail.find(text) != std::string::npos) return true;
  }
  return false;
}

// Lookups dispatch to the op vector, the same file gets the same cookie, an
// op the file system left out answers EOPNOTSUPP, and RECLAIM returning both
// lookups forgets the node.
TEST(PuffsServer, DispatchAndCookies) {
  auto r = run_kernel(1, {}, [](Fixture& f) {
    Reply a = f.call(req(PuffsOp::lookup, 1, 1, "a"));
    EXPECT_EQ(a.h.error, 0);
    EXPECT_EQ(a.h.id, 1u);
    Reply a2 = f.call(req(PuffsOp::lookup, 2, 1, "a"));
    EXPECT_EQ(a2.new_cookie, a.new_cookie);
    EXPECT_EQ(f.call(req(PuffsOp::lookup, 3, 1, "zz")).h.error, ENOENT);
    EXPECT_EQ(f.call(req(PuffsOp::getattr, 4, a.new_cookie)).va.size, 1000u);
    EXPECT_EQ(f.call(req(PuffsOp::mkdir, 5, 1, "d")).h.error, EOPNOTSUPP);
    EXPECT_EQ(f.call(reclaim_req(6, a.new_cookie, 2)).h.error, 0);
    EXPECT_EQ(f.server->nodes().size(), 1u);
    f.sock.end(0).close();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

// Shows the lookup count: a node handed out by three LOOKUP replies stays
// while a RECLAIM returns only some of them (as when a LOOKUP reply raced
// the kernel's reclaim of the old vnode and named the cookie to a new one),
// and goes when the count reaches zero; the root stays at any count.
TEST(PuffsServer, NodeKeptWhileLookupCountAboveZero) {
  auto r = run_kernel(1, {}, [](Fixture& f) {
    std::uint64_t id = 1;
    const std::uint64_t a = f.call(req(PuffsOp::lookup, id++, 1, "a")).new_cookie;
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(f.call(req(PuffsOp::lookup, id++, 1, "a")).new_cookie, a);
    }
    EXPECT_EQ(f.server->nodes().find(a)->nlookup, 3u);
    EXPECT_EQ(f.call(reclaim_req(id++, a, 1)).h.error, 0);  // the old vnode's reply
    EXPECT_EQ(f.server->nodes().find(a)->nlookup, 2u);
    EXPECT_EQ(f.call(req(PuffsOp::getattr, id++, a)).va.size, 1000u);  // still served
    EXPECT_EQ(f.call(req(PuffsOp::lookup, id++, 1, "a")).new_cookie, a);
    EXPECT_EQ(f.call(reclaim_req(id++, a, 3)).h.error, 0);
    EXPECT_EQ(f.server->nodes().find(a), nullptr);
    EXPECT_EQ(f.call(req(PuffsOp::getattr, id++, a)).h.error, EIO);
    EXPECT_EQ(f.call(reclaim_req(id++, 1, 0)).h.error, 0);  // the root, loaded by the mount
    EXPECT_NE(f.server->nodes().find(1), nullptr);
    f.sock.end(0).close();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_reclaim_kept", "cookie 2 handed out again, nlookup 2"));
  EXPECT_TRUE(has_event(r, "puffs_reclaim_kept", "cookie 1 is the root"));
}

// Shows the historic server (reclaim_nlookup off): RECLAIM frees the node at
// once though a second LOOKUP handed its cookie out again, and that cookie
// is unknown from then on.
TEST(PuffsServer, WithoutLookupCountsReclaimFreesAtOnce) {
  ServerOptions so;
  so.reclaim_nlookup = false;
  auto r = run_kernel(1, so, [](Fixture& f) {
    const std::uint64_t a = f.call(req(PuffsOp::lookup, 1, 1, "a")).new_cookie;
    EXPECT_EQ(f.call(req(PuffsOp::lookup, 2, 1, "a")).new_cookie, a);
    EXPECT_EQ(f.call(reclaim_req(3, a, 0)).h.error, 0);
    EXPECT_EQ(f.call(req(PuffsOp::getattr, 4, a)).h.error, EIO);
    f.sock.end(0).close();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_unknown_cookie", "req 4 GETATTR cookie 2"));
}

// Shows that a lying or malformed nlookup never crashes the server nor frees
// the node: more than the server handed out, or 0 for a node that is not the
// root, is answered EINVAL and logged with the node kept; a negative count
// does not decode and is answered EPROTO. With fatal protocol errors the
// first lie ends the run as `protocol`, naming the request.
TEST(PuffsServer, BadNlookupIsRejected) {
  ServerOptions so;
  so.fatal_protocol_errors = false;
  auto r = run_kernel(1, so, [](Fixture& f) {
    const std::uint64_t a = f.call(req(PuffsOp::lookup, 1, 1, "a")).new_cookie;
    EXPECT_EQ(f.call(reclaim_req(2, a, 2)).h.error, EINVAL);
    EXPECT_EQ(f.call(reclaim_req(3, a, 0)).h.error, EINVAL);
    EXPECT_EQ(f.call(reclaim_req(4, a, std::numeric_limits<std::int64_t>::max())).h.error, EINVAL);
    EXPECT_EQ(f.call(reclaim_req(5, a, -1)).h.error, EPROTO);
    EXPECT_EQ(f.call(reclaim_req(6, a, std::numeric_limits<std::int64_t>::min())).h.error, EPROTO);
    EXPECT_EQ(f.server->nodes().find(a)->nlookup, 1u);
    EXPECT_EQ(f.call(req(PuffsOp::getattr, 7, a)).va.size, 1000u);
    EXPECT_EQ(f.call(reclaim_req(8, a, 1)).h.error, 0);  // the truth still works
    EXPECT_EQ(f.server->nodes().find(a), nullptr);
    f.sock.end(0).close();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_bad_reclaim",
                        "req 2 RECLAIM cookie 2 says nlookup 2 but the server handed the cookie "
                        "out 1 times"));
  EXPECT_TRUE(has_event(r, "puffs_bad_reclaim", "req 3 RECLAIM cookie 2 says nlookup 0"));
  EXPECT_TRUE(
      has_event(r, "puffs_bad_request", "req 5 RECLAIM: RECLAIM body: nlookup -1 is negative"));

  auto fatal = run_kernel(1, {}, [](Fixture& f) {
    const std::uint64_t a = f.call(req(PuffsOp::lookup, 1, 1, "a")).new_cookie;
    ASSERT_TRUE(f.sock.end(0).send(encode_request(reclaim_req(2, a, 7))).ok());
    std::string buf;
    (void)f.sock.end(0).recv(&buf, 1 << 16);  // the run ends first
  });
  EXPECT_EQ(fatal.outcome, Outcome::protocol);
  EXPECT_NE(fatal.message.find("req 2 RECLAIM cookie 2 says nlookup 7"), std::string::npos)
      << fatal.message;
}

// A request naming a cookie the server never handed out is answered EIO and
// logged; the server keeps serving.
TEST(PuffsServer, UnknownCookieIsEio) {
  auto r = run_kernel(1, {}, [](Fixture& f) {
    EXPECT_EQ(f.call(req(PuffsOp::getattr, 9, 4242)).h.error, EIO);
    EXPECT_EQ(f.call(req(PuffsOp::getattr, 10, 1)).h.error, 0);
    f.sock.end(0).close();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_unknown_cookie", "req 9 GETATTR cookie 4242"));
}

// With protocol errors non-fatal, a request whose header is readable but
// whose length lies is answered EPROTO and logged.
TEST(PuffsServer, BadRequestAnsweredEproto) {
  ServerOptions so;
  so.fatal_protocol_errors = false;
  auto r = run_kernel(1, so, [](Fixture& f) {
    std::string bytes = encode_request(req(PuffsOp::lookup, 5, 1, "a"));
    bytes[0] = static_cast<char>(bytes[0] + 1);  // length field off by one
    ASSERT_TRUE(f.sock.end(0).send(bytes).ok());
    std::string buf;
    ASSERT_TRUE(f.sock.end(0).recv(&buf, 1 << 16).ok());
    DecodedReply d = decode_reply(buf);
    ASSERT_TRUE(d.rep) << d.error.why;
    EXPECT_EQ(d.rep->h.id, 5u);
    EXPECT_EQ(d.rep->h.error, EPROTO);
    ASSERT_TRUE(f.sock.end(0).send("garbage!").ok());  // no id: logged only
    EXPECT_EQ(f.call(req(PuffsOp::getattr, 6, 1)).h.error, 0);
    f.sock.end(0).close();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_bad_request", "req 5 LOOKUP: length field says"));
  EXPECT_TRUE(has_event(r, "puffs_bad_request", "8-byte message"));
}

// Shows that a request whose payload is another op's never reaches an op:
// a LOOKUP carrying a READ's arguments (the kernel side cannot build one,
// so it is built by hand and sent as bytes) does not decode as a LOOKUP,
// is logged and answered EPROTO with its id, and the server goes on
// serving; with fatal protocol errors it ends the run as `protocol`.
TEST(PuffsServer, MismatchedPayloadAnsweredEproto) {
  auto lying_lookup = [](std::uint64_t id) {
    Request rq = req(PuffsOp::lookup, id, 1, "a");
    rq.args = ReadArgs{0, 4096, 0};
    return encode_request(rq);
  };
  ServerOptions so;
  so.fatal_protocol_errors = false;
  auto r = run_kernel(1, so, [&](Fixture& f) {
    ASSERT_TRUE(f.sock.end(0).send(lying_lookup(5)).ok());
    std::string buf;
    ASSERT_TRUE(f.sock.end(0).recv(&buf, 1 << 16).ok());
    DecodedReply d = decode_reply(buf);
    ASSERT_TRUE(d.rep) << d.error.why;
    EXPECT_EQ(d.rep->h.id, 5u);
    EXPECT_EQ(d.rep->h.error, EPROTO);
    EXPECT_EQ(d.rep->new_cookie, 0u);
    EXPECT_EQ(f.call(req(PuffsOp::lookup, 6, 1, "a")).h.error, 0);
    f.sock.end(0).close();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(has_event(r, "puffs_bad_request", "req 5 LOOKUP: LOOKUP body:"));

  auto fatal = run_kernel(1, {}, [&](Fixture& f) {
    ASSERT_TRUE(f.sock.end(0).send(lying_lookup(7)).ok());
    std::string buf;
    (void)f.sock.end(0).recv(&buf, 1 << 16);  // the run ends first
  });
  EXPECT_EQ(fatal.outcome, Outcome::protocol);
  EXPECT_NE(fatal.message.find("req 7 LOOKUP"), std::string::npos) << fatal.message;
}

// Several requests in flight go to N workers and every one is answered once.
TEST(PuffsServer, WorkersServeConcurrently) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    ServerOptions so;
    so.workers = 3;
    auto r = run_kernel(seed, so, [](Fixture& f) {
      for (std::uint64_t i = 1; i <= 6; ++i) {
        ASSERT_TRUE(f.sock.end(0).send(encode_request(req(PuffsOp::getattr, i, 1))).ok());
      }
      std::set<std::uint64_t> ids;
      std::string buf;
      for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(f.sock.end(0).recv(&buf, 1 << 16).ok());
        ids.insert(decode_reply(buf).rep->h.id);
      }
      EXPECT_EQ(ids.size(), 6u);
      EXPECT_EQ(f.server->served(), 6u);
      f.sock.end(0).close();
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  }
}

// Sends 4 requests over a stream to a server with the given framing; returns
// the outcomes over `seeds` seeds.
std::vector<RunResult> stream_runs(Framing framing, int seeds) {
  std::vector<RunResult> out;
  for (int s = 1; s <= seeds; ++s) {
    out.push_back(run(static_cast<std::uint64_t>(s), [framing](Machine& m) {
      auto f = std::make_shared<Fixture>(m, sim::SockType::stream);
      ServerOptions so;
      so.framing = framing;
      f->start(m, so);
      m.spawn("kernel", [f] {
        for (std::uint64_t i = 1; i <= 4; ++i) {
          ASSERT_TRUE(f->sock.end(0).send(encode_request(req(PuffsOp::getattr, i, 1))).ok());
        }
        const std::size_t reply_bytes = encode_reply(Reply{}, PuffsOp::getattr).size();
        std::string buf;
        std::size_t got = 0;
        while (got < 4 * reply_bytes) {
          sim::IoResult g = f->sock.end(0).recv(&buf, 1 << 16);
          if (!g.ok() || g.eof) break;
          got += buf.size();
        }
        f->sock.end(0).close();
      });
      return f;
    }));
  }
  return out;
}

// The naive server of PERFUSE's first attempt misreads a split or joined
// request on SOCK_STREAM: some seed ends the run as a protocol error that
// names the message.
TEST(PuffsServer, NaiveFramingOnStreamIsAProtocolError) {
  bool found = false;
  for (const RunResult& r : stream_runs(Framing::naive, 30)) {
    if (r.outcome == Outcome::protocol) {
      found = true;
      EXPECT_NE(r.message.find("cannot parse a "), std::string::npos) << r.message;
      break;
    }
  }
  EXPECT_TRUE(found);
}

// Reassembling by the length field reads every request right, on every seed.
TEST(PuffsServer, ReassemblyOnStreamPasses) {
  for (const RunResult& r : stream_runs(Framing::reassemble, 30)) {
    EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
  }
}

// When the kernel end closes, the workers see EOF and exit: the run ends.
TEST(PuffsServer, WorkersExitOnEof) {
  auto r = run(1, [&](Machine& m) {
    auto keep = std::make_shared<Fixture>(m);
    ServerOptions so;
    so.workers = 2;
    keep->start(m, so);
    m.spawn("kernel", [&m, f = keep.get()] {
      f->sock.end(0).close();
      m.sleep_for(sim::kMillisecond);
      for (sim::LwpId w : f->server->workers()) {
        EXPECT_EQ(m.lwp(w)->state, sim::LwpState::finished);
      }
    });
    return keep;
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

}  // namespace
}  // namespace vfsim::puffs
