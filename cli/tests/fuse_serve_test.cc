// FuseServe (cli/fuse_serve.h) without /dev/fuse: requests built as the
// host kernel builds them are handed to the server inside a ukfs machine on
// memfs, and the replies' bytes are decoded and checked — nodeid ordinals
// and their lookup counts (a FORGET to zero closes the held descriptor, so
// the vnode leak check at the end of the run would catch a reference kept),
// READDIRPLUS counting only the entries it sends, RENAME2's flags, ENOSYS
// for an unknown opcode, requests checked as their sender's uid, SETATTR's
// size through a handle and by name, and the xattr size probe.
#include "cli/fuse_serve.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <stdio.h>

#include <cstring>

#include "boot/ukfs.h"

namespace vfsim::cli {
namespace {

struct Client {
  FuseServe& s;
  vfs::Proc& w;
  std::uint64_t unique = 2;

  // Sends a request; returns {error, body}.
  std::pair<int, std::string> call(std::uint32_t op, std::uint64_t node, std::string body,
                                   std::uint32_t uid = 0) {
    fuse_in_header h{};
    h.len = static_cast<std::uint32_t>(sizeof h + body.size());
    h.opcode = op;
    h.unique = unique;
    unique += 2;
    h.nodeid = node;
    h.uid = uid;
    h.gid = uid;
    std::string req(reinterpret_cast<const char*>(&h), sizeof h);
    req += body;
    const std::string rep = s.handle(req, w);
    if (rep.empty()) return {0, "<none>"};
    fuse_out_header oh{};
    EXPECT_GE(rep.size(), sizeof oh);
    std::memcpy(&oh, rep.data(), sizeof oh);
    EXPECT_EQ(oh.len, rep.size());
    EXPECT_EQ(oh.unique, h.unique);
    return {-oh.error, rep.substr(sizeof oh)};
  }
  template <class T>
  static std::string bytes(const T& v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof v);
  }
  static std::string name(std::string_view n) { return std::string(n) + '\0'; }
  void init() {
    fuse_init_in in{};
    in.major = 7;
    in.minor = 38;
    in.max_readahead = 65536;
    in.flags = FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS;
    auto [err, body] = call(FUSE_INIT, 0, bytes(in));
    ASSERT_EQ(err, 0);
    fuse_init_out out{};
    ASSERT_EQ(body.size(), sizeof out);
    std::memcpy(&out, body.data(), sizeof out);
    EXPECT_EQ(out.minor, 38u);
    EXPECT_EQ(out.flags & FUSE_DO_READDIRPLUS, FUSE_DO_READDIRPLUS);
  }
  fuse_entry_out entry(std::uint32_t op, std::uint64_t parent, std::string body, int* err) {
    auto [e, b] = call(op, parent, std::move(body));
    *err = e;
    fuse_entry_out eo{};
    if (e == 0 && b.size() >= sizeof eo) std::memcpy(&eo, b.data(), sizeof eo);
    return eo;
  }
};

void serve_test(const std::function<void(ukfs::Ukfs&, FuseServe&, Client&)>& body) {
  auto r = ukfs::run({}, [&](ukfs::Ukfs& fs) {
    FuseServe s(fs.kernel(), fs.proc(), {});
    std::string why;
    ASSERT_TRUE(s.start(&why)) << why;
    Client c{s, fs.proc()};
    c.init();
    body(fs, s, c);
    (void)s.release_all();
  });
  EXPECT_FALSE(r.failed()) << r.message;
}

// Nodeids are ordinals from 2; a second lookup of one file (another name,
// a hard link) is the same nodeid; FORGET of the whole count drops the node.
TEST(FuseServe, NodeidsAreOrdinalsWithALookupCount) {
  serve_test([](ukfs::Ukfs& fs, FuseServe& s, Client& c) {
    ASSERT_TRUE(fs.write_file("/a", "x").ok());
    ASSERT_TRUE(fs.link("/a", "/b").ok());
    int err = 0;
    auto a = c.entry(FUSE_LOOKUP, 1, Client::name("a"), &err);
    ASSERT_EQ(err, 0);
    EXPECT_EQ(a.nodeid, 2u);
    auto b = c.entry(FUSE_LOOKUP, 1, Client::name("b"), &err);
    EXPECT_EQ(b.nodeid, 2u);
    EXPECT_EQ(s.nodes(), 2u);  // the root and a
    c.entry(FUSE_LOOKUP, 1, Client::name("nope"), &err);
    EXPECT_EQ(err, ENOENT);
    fuse_forget_in f{};
    f.nlookup = 1;
    EXPECT_EQ(c.call(FUSE_FORGET, 2, Client::bytes(f)).second, "<none>");
    EXPECT_EQ(s.nodes(), 2u);  // one lookup left
    EXPECT_EQ(c.call(FUSE_FORGET, 2, Client::bytes(f)).second, "<none>");
    EXPECT_EQ(s.nodes(), 1u);
    auto again = c.entry(FUSE_LOOKUP, 1, Client::name("a"), &err);
    EXPECT_EQ(again.nodeid, 3u);  // never reused
  });
}

// READDIRPLUS: "." and ".." carry nodeid 0 (not counted); every other entry
// sent counts one lookup; an entry that does not fit is neither sent nor
// counted.
TEST(FuseServe, ReaddirplusCountsWhatItSends) {
  serve_test([](ukfs::Ukfs& fs, FuseServe& s, Client& c) {
    for (const char* n : {"/f1", "/f2", "/f3"}) ASSERT_TRUE(fs.write_file(n, "x").ok());
    fuse_open_in oi{};
    auto [err, ob] = c.call(FUSE_OPENDIR, 1, Client::bytes(oi));
    ASSERT_EQ(err, 0);
    fuse_open_out oo{};
    std::memcpy(&oo, ob.data(), sizeof oo);
    fuse_read_in ri{};
    ri.fh = oo.fh;
    // Room for "." and ".." and one more (each 128 + 32 bytes).
    ri.size = 3 * 160;
    auto [e1, d1] = c.call(FUSE_READDIRPLUS, 1, Client::bytes(ri));
    ASSERT_EQ(e1, 0);
    EXPECT_EQ(d1.size(), 3u * 160);
    EXPECT_EQ(s.nodes(), 2u);  // the root and one file
    ri.offset = 3;
    ri.size = 4096;
    auto [e2, d2] = c.call(FUSE_READDIRPLUS, 1, Client::bytes(ri));
    ASSERT_EQ(e2, 0);
    EXPECT_EQ(d2.size(), 2u * 160);
    EXPECT_EQ(s.nodes(), 4u);
    fuse_release_in rel{};
    rel.fh = oo.fh;
    EXPECT_EQ(c.call(FUSE_RELEASEDIR, 1, Client::bytes(rel)).first, 0);
    EXPECT_EQ(s.handles(), 0u);
  });
}

// RENAME2: RENAME_NOREPLACE refuses an existing target; RENAME_EXCHANGE and
// unknown flags are EINVAL; an unknown opcode is ENOSYS.
TEST(FuseServe, Rename2FlagsAndUnknownOpcodes) {
  serve_test([](ukfs::Ukfs& fs, FuseServe&, Client& c) {
    ASSERT_TRUE(fs.write_file("/a", "x").ok());
    ASSERT_TRUE(fs.write_file("/b", "y").ok());
    auto rename2 = [&](std::uint32_t flags, const char* from, const char* to) {
      fuse_rename2_in in{};
      in.newdir = 1;
      in.flags = flags;
      return c.call(FUSE_RENAME2, 1, Client::bytes(in) + Client::name(from) + Client::name(to))
          .first;
    };
    EXPECT_EQ(rename2(RENAME_NOREPLACE, "a", "b"), EEXIST);
    EXPECT_EQ(rename2(RENAME_EXCHANGE, "a", "b"), EINVAL);
    EXPECT_EQ(rename2(1u << 20, "a", "b"), EINVAL);
    EXPECT_EQ(rename2(RENAME_NOREPLACE, "a", "c"), 0);
    EXPECT_TRUE(fs.stat("/c").ok());
    EXPECT_EQ(c.call(FUSE_BMAP, 1, std::string(16, '\0')).first, ENOSYS);
    EXPECT_EQ(c.call(999, 1, "").first, ENOSYS);
  });
}

// A request runs as its sender: uid 1000 may not create in a root 755
// directory nor read a root 600 file; root may.
TEST(FuseServe, RequestsRunAsTheSender) {
  serve_test([](ukfs::Ukfs& fs, FuseServe&, Client& c) {
    ASSERT_TRUE(fs.write_file("/secret", "s").ok());
    ASSERT_TRUE(fs.chmod("/secret", 0600).ok());
    fuse_mkdir_in mi{};
    mi.mode = 0755;
    EXPECT_EQ(c.call(FUSE_MKDIR, 1, Client::bytes(mi) + Client::name("d"), 1000).first, EACCES);
    int err = 0;
    auto e = c.entry(FUSE_LOOKUP, 1, Client::name("secret"), &err);
    ASSERT_EQ(err, 0);
    fuse_open_in oi{};
    oi.flags = 0;  // O_RDONLY
    EXPECT_EQ(c.call(FUSE_OPEN, e.nodeid, Client::bytes(oi), 1000).first, EACCES);
    auto [ok, body] = c.call(FUSE_OPEN, e.nodeid, Client::bytes(oi), 0);
    EXPECT_EQ(ok, 0);
    fuse_open_out oo{};
    std::memcpy(&oo, body.data(), sizeof oo);
    fuse_release_in rel{};
    rel.fh = oo.fh;
    EXPECT_EQ(c.call(FUSE_RELEASE, e.nodeid, Client::bytes(rel)).first, 0);
    EXPECT_EQ(c.call(FUSE_MKDIR, 1, Client::bytes(mi) + Client::name("d"), 0).first, 0);
  });
}

// SETATTR of a size by name truncates as the caller (write permission);
// GETXATTR with size 0 answers the value's size, a short buffer ERANGE.
TEST(FuseServe, SetattrSizeAndXattrProbe) {
  serve_test([](ukfs::Ukfs& fs, FuseServe&, Client& c) {
    ASSERT_TRUE(fs.write_file("/f", "hello world").ok());
    int err = 0;
    auto e = c.entry(FUSE_LOOKUP, 1, Client::name("f"), &err);
    ASSERT_EQ(err, 0);
    fuse_setattr_in sa{};
    sa.valid = FATTR_SIZE;
    sa.size = 5;
    EXPECT_EQ(c.call(FUSE_SETATTR, e.nodeid, Client::bytes(sa), 1000).first, EACCES);
    auto [se, sb] = c.call(FUSE_SETATTR, e.nodeid, Client::bytes(sa));
    ASSERT_EQ(se, 0);
    fuse_attr_out ao{};
    std::memcpy(&ao, sb.data(), sizeof ao);
    EXPECT_EQ(ao.attr.size, 5u);
    EXPECT_EQ(*fs.read_file("/f"), "hello");
    struct {
      std::uint32_t size, flags;
    } set{3, 0};
    EXPECT_EQ(
        c.call(FUSE_SETXATTR, e.nodeid, Client::bytes(set) + Client::name("user.k") + "abc").first,
        0);
    fuse_getxattr_in gi{};
    auto [ge, gb] = c.call(FUSE_GETXATTR, e.nodeid, Client::bytes(gi) + Client::name("user.k"));
    ASSERT_EQ(ge, 0);
    fuse_getxattr_out go{};
    std::memcpy(&go, gb.data(), sizeof go);
    EXPECT_EQ(go.size, 3u);
    gi.size = 2;
    EXPECT_EQ(c.call(FUSE_GETXATTR, e.nodeid, Client::bytes(gi) + Client::name("user.k")).first,
              ERANGE);
    gi.size = 3;
    EXPECT_EQ(c.call(FUSE_GETXATTR, e.nodeid, Client::bytes(gi) + Client::name("user.k")).second,
              "abc");
  });
}

}  // namespace
}  // namespace vfsim::cli
