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

// Sample values for every argument type, distinct per field.
void fill(NoArgs&) {}
void fill(LookupArgs& a) { a.name = "file.txt"; }
void fill(MakeArgs& a) {
  a.name = "file.txt";
  a.va.type = vn::VType::VREG;
  a.va.mode = 0644;
  a.va.rdev = 0x0102;
}
void fill(SymlinkArgs& a) {
  a.name = "link";
  a.va.type = vn::VType::VLNK;
  a.va.mode = 0777;
  a.target = "target";
}
void fill(OpenArgs& a) { a.fflags = 3; }
void fill(AccessArgs& a) { a.acc = 5; }
void fill(SetattrArgs& a) {
  a.sa.size = 123;
  a.sa.mode = 0600;
  a.sa.mark_ctime = false;
}
void fill(ReadArgs& a) { a = {4096, 10, 7}; }
void fill(WriteArgs& a) { a = {8192, 6, std::string("\0\1binary\xff", 9)}; }
void fill(PutpagesArgs& a) { a = {12288, std::string(4096, 'p')}; }
void fill(NodeNameArgs& a) { a = {9, "victim"}; }
void fill(RenameArgs& a) { a = {9, "from", 11, 12, "to"}; }
void fill(ReaddirArgs& a) { a = {33, 64}; }
void fill(XattrArgs& a) { a = {1, "user.x"}; }
void fill(SetXattrArgs& a) { a = {1, -2, "user.y", std::string("v\0al", 4)}; }
void fill(ListXattrArgs& a) { a.ns = 1; }
void fill(ReclaimArgs& a) { a.nlookup = 3; }

Request sample_request(PuffsOp op) {
  Request rq = make_request(op, 5);
  rq.h.id = 77;
  rq.h.pid = 42;
  rq.h.cred.uid = 1000;
  rq.h.cred.gid = 100;
  rq.h.cred.groups = {100, 5, 7};
  std::visit([](auto& a) { fill(a); }, rq.args);
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
}

// The decoded arguments of a sample request of `op`, which must be Op's.
template <PuffsOp Op>
ArgsOf<Op> round_trip() {
  DecodedRequest d = decode_request(encode_request(sample_request(Op)));
  EXPECT_TRUE(d.req) << op_name(Op) << ": " << d.error.why;
  if (!d.req) return {};
  const ArgsOf<Op>* a = d.req->template args_of<Op>();
  EXPECT_NE(a, nullptr) << op_name(Op) << " decoded to another op's arguments";
  return a != nullptr ? *a : ArgsOf<Op>{};
}

// Each argument family keeps every field through the wire, read back as
// its own type: a round trip per family, checked field by field against
// fill() above.
TEST(PuffsMsg, EachArgumentFamilyRoundTrips) {
  round_trip<PuffsOp::getattr>();
  EXPECT_EQ(round_trip<PuffsOp::lookup>().name, "file.txt");
  const MakeArgs mk = round_trip<PuffsOp::mknod>();
  EXPECT_EQ(mk.name, "file.txt");
  EXPECT_EQ(mk.va.type, vn::VType::VREG);
  EXPECT_EQ(mk.va.mode, 0644u);
  EXPECT_EQ(mk.va.rdev, 0x0102u);
  const SymlinkArgs sl = round_trip<PuffsOp::symlink>();
  EXPECT_EQ(sl.name, "link");
  EXPECT_EQ(sl.va.type, vn::VType::VLNK);
  EXPECT_EQ(sl.target, "target");
  EXPECT_EQ(round_trip<PuffsOp::close>().fflags, 3);
  EXPECT_EQ(round_trip<PuffsOp::access>().acc, 5);
  const SetattrArgs sa = round_trip<PuffsOp::setattr>();
  EXPECT_EQ(sa.sa.size, std::optional<std::uint64_t>(123));
  EXPECT_EQ(sa.sa.mode, std::optional<std::uint32_t>(0600));
  EXPECT_FALSE(sa.sa.uid.has_value());
  EXPECT_FALSE(sa.sa.mark_ctime);  // an access alone stays one on the server
  const ReadArgs rd = round_trip<PuffsOp::read>();
  EXPECT_EQ(rd.offset, 4096u);
  EXPECT_EQ(rd.len, 10u);
  EXPECT_EQ(rd.ioflag, 7);
  const WriteArgs wr = round_trip<PuffsOp::write>();
  EXPECT_EQ(wr.offset, 8192u);
  EXPECT_EQ(wr.ioflag, 6);
  EXPECT_EQ(wr.data, std::string("\0\1binary\xff", 9));
  const PutpagesArgs pp = round_trip<PuffsOp::putpages>();
  EXPECT_EQ(pp.offset, 12288u);
  EXPECT_EQ(pp.data, std::string(4096, 'p'));
  const NodeNameArgs lk = round_trip<PuffsOp::link>();
  EXPECT_EQ(lk.node, 9u);
  EXPECT_EQ(lk.name, "victim");
  const RenameArgs rn = round_trip<PuffsOp::rename>();
  EXPECT_EQ(rn.from_node, 9u);
  EXPECT_EQ(rn.from_name, "from");
  EXPECT_EQ(rn.to_dir, 11u);
  EXPECT_EQ(rn.to_node, 12u);
  EXPECT_EQ(rn.to_name, "to");
  const ReaddirArgs rdd = round_trip<PuffsOp::readdir>();
  EXPECT_EQ(rdd.cookie, 33u);
  EXPECT_EQ(rdd.max, 64u);
  const XattrArgs gx = round_trip<PuffsOp::deleteextattr>();
  EXPECT_EQ(gx.ns, 1);
  EXPECT_EQ(gx.name, "user.x");
  const SetXattrArgs sx = round_trip<PuffsOp::setextattr>();
  EXPECT_EQ(sx.ns, 1);
  EXPECT_EQ(sx.flags, -2);  // sign-extended into its 8 bytes and back
  EXPECT_EQ(sx.name, "user.y");
  EXPECT_EQ(sx.value, std::string("v\0al", 4));
  EXPECT_EQ(round_trip<PuffsOp::listextattr>().ns, 1);
  EXPECT_EQ(round_trip<PuffsOp::reclaim>().nlookup, 3);
}

// The wire bytes of each family are the ones the generic request of earlier
// versions sent (so no transport's fragmentation, and no trace hash, moved):
// SETEXTATTR is ns (4 bytes), flags (8), then name and value.
TEST(PuffsMsg, SetextattrKeepsItsWireLayout) {
  const std::string b = encode_request(sample_request(PuffsOp::setextattr));
  const std::size_t body = kHeaderBytes + std::size_t{3} * 4;  // three groups
  ASSERT_EQ(b.size(), body + 4 + 8 + 4 + 6 + 4 + 4);
  EXPECT_EQ(b.substr(body, 4), std::string("\x01\0\0\0", 4));
  EXPECT_EQ(b.substr(body + 4, 8), std::string(8, '\xff').replace(0, 1, "\xfe"));
}

// A payload that is not its op's is refused, never used: the kernel side
// cannot build one (make_request<Op> takes only ArgsOf<Op>), args_match
// says so for one built by hand, its bytes (shaped as another op's body) do
// not decode, and a flags word no int holds does not decode either.
TEST(PuffsMsg, MismatchedPayloadIsRefused) {
  Request lie = make_request(PuffsOp::setextattr, 5);
  lie.h.id = 78;
  lie.args = ReadArgs{0, 4096, 0};
  EXPECT_FALSE(args_match(lie.h.op, lie.args));
  EXPECT_EQ(lie.args_of<PuffsOp::setextattr>(), nullptr);
  EXPECT_EQ(lie.args_of<PuffsOp::read>(), nullptr);  // the header says SETEXTATTR
  EXPECT_TRUE(args_match(PuffsOp::read, lie.args));
  DecodedRequest d = decode_request(encode_request(lie));
  EXPECT_FALSE(d.req);
  EXPECT_EQ(d.error.err, EPROTO);
  EXPECT_EQ(d.error.id, std::optional<std::uint64_t>(78));
  EXPECT_NE(d.error.why.find("SETEXTATTR body"), std::string::npos) << d.error.why;

  Request rn = make_request(PuffsOp::rename, 5);
  rn.args = LookupArgs{"x"};
  d = decode_request(encode_request(rn));
  EXPECT_FALSE(d.req);
  EXPECT_NE(d.error.why.find("RENAME body"), std::string::npos) << d.error.why;

  std::string wide = encode_request(sample_request(PuffsOp::setextattr));
  wide[kHeaderBytes + std::size_t{3} * 4 + 4 + 4] = 1;  // flags 2^32 - 2: no int
  d = decode_request(wide);
  EXPECT_FALSE(d.req);
  EXPECT_NE(d.error.why.find("out of range"), std::string::npos) << d.error.why;

  for (PuffsOp op : all_ops()) {
    EXPECT_TRUE(args_match(op, make_request(op).args)) << op_name(op);
  }
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
  std::get<ReclaimArgs>(neg.args).nlookup = -2;
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
