// Tests of the puffs wire format: every field of every op survives an
// encode/decode round trip, each kind of malformed message is rejected with
// a reason (and its id when readable), and no byte string — truncated,
// bit-flipped or random — makes the decoder read out of bounds or throw.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cerrno>

#include "fsdrivers/puffs/puffs_msg.h"

namespace vfsim::puffs {
namespace {

Request sample_request(PuffsOp op) {
  Request rq;
  rq.h.op = op;
  rq.h.id = 77;
  rq.h.cookie = 5;
  rq.h.pid = 42;
  rq.h.cred.uid = 1000;
  rq.h.cred.gid = 100;
  rq.h.cred.groups = {100, 5, 7};
  rq.name = "file.txt";
  rq.name2 = "target";
  rq.cookie2 = 9;
  rq.cookie3 = 11;
  rq.cookie4 = 12;
  rq.va.type = vn::VType::VREG;
  rq.va.mode = 0644;
  rq.sa.size = 123;
  rq.sa.mode = 0600;
  rq.sa.mark_ctime = false;
  rq.offset = 4096;
  rq.len = 10;
  rq.flags = 3;
  rq.data = std::string("\0\1binary\xff", 9);
  rq.nlookup = 3;
  return rq;
}

std::vector<PuffsOp> all_ops() {
  std::vector<PuffsOp> ops;
  for (std::uint16_t v = 0; v <= kLastOp; ++v) {
    if (op_known(v)) ops.push_back(static_cast<PuffsOp>(v));
  }
  return ops;
}

// Every request op round-trips header, credentials and the fields it uses.
TEST(PuffsMsg, RequestRoundTrip) {
  for (PuffsOp op : all_ops()) {
    const Request rq = sample_request(op);
    const std::string bytes = encode_request(rq);
    DecodedRequest d = decode_request(bytes);
    ASSERT_TRUE(d.req) << op_name(op) << ": " << d.error.why;
    EXPECT_EQ(d.req->h.length, bytes.size());
    EXPECT_EQ(d.req->h.id, 77u);
    EXPECT_EQ(d.req->h.cookie, 5u);
    EXPECT_EQ(d.req->h.pid, 42u);
    EXPECT_EQ(d.req->h.cred.uid, 1000u);
    EXPECT_EQ(d.req->h.cred.groups, (std::vector<vn::Gid>{100, 5, 7}));
    EXPECT_EQ(encode_request(*d.req), bytes) << op_name(op);
  }
  DecodedRequest w = decode_request(encode_request(sample_request(PuffsOp::write)));
  EXPECT_EQ(w.req->data, std::string("\0\1binary\xff", 9));
  EXPECT_EQ(w.req->offset, 4096u);
  DecodedRequest s = decode_request(encode_request(sample_request(PuffsOp::setattr)));
  EXPECT_EQ(s.req->sa.size, std::optional<std::uint64_t>(123));
  EXPECT_FALSE(s.req->sa.uid.has_value());
  EXPECT_FALSE(s.req->sa.mark_ctime);  // an access alone stays one on the server
  DecodedRequest rn = decode_request(encode_request(sample_request(PuffsOp::rename)));
  EXPECT_EQ(rn.req->cookie4, 12u);
  EXPECT_EQ(rn.req->name2, "target");
  DecodedRequest rc = decode_request(encode_request(sample_request(PuffsOp::reclaim)));
  EXPECT_EQ(rc.req->nlookup, 3);
}

// Replies carry their bodies, and an error reply carries none.
TEST(PuffsMsg, ReplyRoundTrip) {
  Reply rp;
  rp.h.id = 3;
  rp.new_cookie = 8;
  rp.new_type = vn::VType::VDIR;
  rp.va.size = 999;
  rp.dirents = {{1, vn::VType::VDIR, ".", 1}, {2, vn::VType::VREG, "a", 2}};
  rp.flag = true;
  for (PuffsOp op : all_ops()) {
    DecodedReply d = decode_reply(encode_reply(rp, op));
    ASSERT_TRUE(d.rep) << op_name(op) << ": " << d.error.why;
    EXPECT_EQ(d.rep->h.op, op);
  }
  DecodedReply l = decode_reply(encode_reply(rp, PuffsOp::lookup));
  EXPECT_EQ(l.rep->new_cookie, 8u);
  EXPECT_EQ(l.rep->new_type, vn::VType::VDIR);
  EXPECT_EQ(l.rep->va.size, 999u);
  DecodedReply r = decode_reply(encode_reply(rp, PuffsOp::readdir));
  ASSERT_EQ(r.rep->dirents.size(), 2u);
  EXPECT_EQ(r.rep->dirents[1].name, "a");
  EXPECT_TRUE(r.rep->flag);
  Reply err;
  err.h.error = ENOENT;
  const std::string eb = encode_reply(err, PuffsOp::lookup);
  EXPECT_EQ(eb.size(), kHeaderBytes);
  EXPECT_EQ(decode_reply(eb).rep->h.error, ENOENT);
}

// Each kind of malformed message is rejected with its reason; the id is
// reported whenever the header could be read.
TEST(PuffsMsg, RejectsMalformed) {
  const std::string good = encode_request(sample_request(PuffsOp::lookup));
  DecodedRequest d = decode_request(good.substr(0, 10));
  EXPECT_FALSE(d.req);
  EXPECT_NE(d.error.why.find("shorter than a header"), std::string::npos);
  EXPECT_FALSE(d.error.id);

  d = decode_request(good.substr(0, good.size() - 3));
  EXPECT_NE(d.error.why.find("length field says"), std::string::npos);
  EXPECT_EQ(d.error.id, std::optional<std::uint64_t>(77));
  EXPECT_EQ(d.error.err, EPROTO);

  std::string bad_op = good;
  bad_op[4] = 99;
  EXPECT_NE(decode_request(bad_op).error.why.find("unknown opcode 99"), std::string::npos);

  std::string trailing = good + "xx";
  trailing[0] = static_cast<char>(trailing.size());
  EXPECT_NE(decode_request(trailing).error.why.find("2 trailing bytes"), std::string::npos);

  EXPECT_NE(decode_request(encode_reply(Reply{}, PuffsOp::getattr)).error.why.find("a reply"),
            std::string::npos);

  Request neg = sample_request(PuffsOp::reclaim);
  neg.nlookup = -2;
  d = decode_request(encode_request(neg));
  EXPECT_FALSE(d.req);
  EXPECT_NE(d.error.why.find("RECLAIM body: nlookup -2 is negative"), std::string::npos)
      << d.error.why;
  EXPECT_EQ(d.error.id, std::optional<std::uint64_t>(77));
  std::string short_reclaim = encode_request(sample_request(PuffsOp::reclaim));
  short_reclaim.resize(short_reclaim.size() - 3);
  short_reclaim[0] = static_cast<char>(short_reclaim.size());
  EXPECT_NE(decode_request(short_reclaim).error.why.find("RECLAIM body: body ends early"),
            std::string::npos);

  Reply rp;
  rp.dirents = {{1, vn::VType::VREG, "x", 1}};
  std::string huge = encode_reply(rp, PuffsOp::readdir);
  huge[kHeaderBytes + 1] = '\x7f';  // dirent count byte 0 stays; byte 1 of the count
  huge[kHeaderBytes + 2] = '\x7f';
  DecodedReply r = decode_reply(huge);
  EXPECT_FALSE(r.rep);
  EXPECT_NE(r.error.why.find("larger than the message"), std::string::npos) << r.error.why;
}

// No truncation or single-byte corruption of a valid message crashes the
// decoder; corruption is either rejected or decodes to some message.
RC_GTEST_PROP(PuffsMsg, CorruptedMessagesNeverCrash,
              (std::uint16_t op_pick, std::size_t cut, std::size_t at, std::uint8_t x)) {
  const auto ops = all_ops();
  const PuffsOp op = ops[op_pick % ops.size()];
  std::string bytes = encode_request(sample_request(op));
  std::string flipped = bytes;
  flipped[at % bytes.size()] = static_cast<char>(flipped[at % bytes.size()] ^ (x | 1));
  (void)decode_request(flipped);
  (void)decode_reply(flipped);
  const std::string prefix = bytes.substr(0, cut % bytes.size());
  RC_ASSERT(!decode_request(prefix).req);
}

// Random byte strings decode without crashing, and are nearly always rejected.
RC_GTEST_PROP(PuffsMsg, RandomBytesNeverCrash, (std::string bytes)) {
  (void)decode_request(bytes);
  (void)decode_reply(bytes);
  (void)peek_header(bytes);
}

}  // namespace
}  // namespace vfsim::puffs
