// Tests of the FUSE kernel ABI codec: requests encode to the header's
// layout at each negotiated minor; replies and notifications decode, and
// every malformed input (a length that disagrees with the bytes, an error
// outside (-4096, 0], an entry or attribute that cannot be, a dirent past the
// buffer, a bad name) is a typed DecodeError with EIO/EPROTO/EINVAL, never a
// crash or an out-of-bounds read (the property test feeds arbitrary bytes;
// the ASan build checks the bounds).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "fsdrivers/fuse/fuse_abi.h"

namespace vfsim::fuse {
namespace {

template <class T>
std::string raw(const T& v, std::size_t n = sizeof(T)) {
  std::string s(reinterpret_cast<const char*>(&v), std::min(n, sizeof(T)));
  s.resize(n, '\0');
  return s;
}

std::string reply(std::uint64_t unique, std::int32_t error, std::string_view body) {
  fuse_out_header oh{};
  oh.len = static_cast<std::uint32_t>(sizeof(oh) + body.size());
  oh.error = error;
  oh.unique = unique;
  return raw(oh) + std::string(body);
}

fuse_attr file_attr(std::uint64_t ino, std::uint64_t size) {
  fuse_attr a{};
  a.ino = ino;
  a.size = size;
  a.mode = S_IFREG | 0644;
  a.nlink = 1;
  a.mtime = 7;
  a.mtimensec = 5;
  return a;
}

TEST(FuseAbi, RequestHeaderAndBodiesFollowTheMinor) {
  const std::string w31 = body_write(31, 9, 100, "abc", 0, 0);
  EXPECT_EQ(w31.size(), sizeof(fuse_write_in) + 3);
  const std::string w8 = body_write(8, 9, 100, "abc", 0, 0);
  EXPECT_EQ(w8.size(), std::size_t{FUSE_COMPAT_WRITE_IN_SIZE} + 3);
  EXPECT_EQ(body_mknod(11, S_IFREG | 0644, 0, 0, "f").size(), FUSE_COMPAT_MKNOD_IN_SIZE + 2u);
  EXPECT_EQ(body_mknod(31, S_IFREG | 0644, 0, 0, "f").size(), sizeof(fuse_mknod_in) + 2);
  EXPECT_EQ(body_getattr(8, 0, 0).size(), 0u);
  EXPECT_EQ(body_create(11, 0, 0, 0, "x").size(), sizeof(fuse_open_in) + 2);
  EXPECT_EQ(entry_out_size(8), std::size_t{FUSE_COMPAT_ENTRY_OUT_SIZE});
  EXPECT_EQ(entry_out_size(31), sizeof(fuse_entry_out));

  const std::string rq = encode_request({FUSE_LOOKUP, 42, 1, 1000, 100, 77}, body_name("hello"));
  auto d = decode_request(rq);
  ASSERT_TRUE(d.ok()) << d.error.why;
  EXPECT_EQ(d->first.opcode, static_cast<std::uint32_t>(FUSE_LOOKUP));
  EXPECT_EQ(d->first.unique, 42u);
  EXPECT_EQ(d->first.pid, 77u);
  EXPECT_EQ(d->second, std::string_view("hello\0", 6));
  EXPECT_EQ(opcode_name(FUSE_READDIR), "READDIR");
}

TEST(FuseAbi, MessageHeaderIsChecked) {
  EXPECT_TRUE(decode_message(reply(3, 0, "")).ok());
  EXPECT_TRUE(decode_message(reply(3, -ENOENT, "")).ok());
  auto shorter = decode_message(reply(3, 0, "").substr(0, 10));
  EXPECT_FALSE(shorter.ok());
  EXPECT_EQ(shorter.error.err, EPROTO);
  std::string lying = reply(3, 0, "abcd");
  lying.pop_back();  // the length field now says one byte more than arrived
  EXPECT_FALSE(decode_message(lying).ok());
  EXPECT_FALSE(decode_message(reply(3, 5, "")).ok()) << "positive error";
  EXPECT_FALSE(decode_message(reply(3, -4096, "")).ok()) << "error at -4096";
  EXPECT_FALSE(decode_message(reply(3, -EIO, "x")).ok()) << "error with a body";
  auto n = decode_message(reply(0, FUSE_NOTIFY_INVAL_INODE, raw(fuse_notify_inval_inode_out{})));
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->h.notification());
}

TEST(FuseAbi, EntriesAndAttributesThatCannotBe) {
  fuse_entry_out e{};
  e.nodeid = 5;
  e.attr = file_attr(5, 12);
  auto ok = decode_entry(raw(e), 31);
  ASSERT_TRUE(ok.ok()) << ok.error.why;
  EXPECT_EQ(ok->attr.va.type, vn::VType::VREG);
  EXPECT_EQ(ok->attr.va.size, 12u);
  EXPECT_EQ(ok->attr.va.mtime, 7'000'000'005u);
  // A 7.8 entry is 120 bytes: the 128-byte one does not fit that minor.
  EXPECT_FALSE(decode_entry(raw(e), 8).ok());
  EXPECT_TRUE(decode_entry(raw(e, FUSE_COMPAT_ENTRY_OUT_SIZE), 8).ok());

  fuse_entry_out neg{};
  auto n = decode_entry(raw(neg), 31);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->negative());

  fuse_entry_out notype = e;
  notype.attr.mode = 0644;
  EXPECT_EQ(decode_entry(raw(notype), 31).error.err, EIO);
  fuse_entry_out huge = e;
  huge.attr.size = ~0ull;
  EXPECT_EQ(decode_entry(raw(huge), 31).error.err, EIO);
  fuse_entry_out badns = e;
  badns.attr.atimensec = 1'000'000'000;
  EXPECT_EQ(decode_entry(raw(badns), 31).error.err, EIO);
  fuse_entry_out rootgen = e;
  rootgen.nodeid = FUSE_ROOT_ID;
  rootgen.generation = 3;
  EXPECT_EQ(decode_entry(raw(rootgen), 31).error.err, EIO);
  EXPECT_EQ(decode_entry(raw(e).substr(0, 50), 31).error.err, EPROTO);

  fuse_attr_out ao{};
  ao.attr = file_attr(9, 3);
  EXPECT_TRUE(decode_attr_out(raw(ao), 31).ok());
  EXPECT_FALSE(decode_attr_out(raw(ao) + "x", 31).ok());
}

TEST(FuseAbi, WriteReadAndXattrReplies) {
  fuse_write_out w{};
  w.size = 10;
  EXPECT_EQ(*decode_write_out(raw(w), 10), 10u);
  EXPECT_EQ(decode_write_out(raw(w), 9).error.err, EIO) << "more written than asked";
  auto names = decode_xattr_names(std::string("user.a\0user.bb\0", 15));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"user.a", "user.bb"}));
  EXPECT_FALSE(decode_xattr_names(std::string("user.a", 6)).ok()) << "no final NUL";
  EXPECT_FALSE(decode_xattr_names(std::string("a\0\0", 3)).ok()) << "empty name";
}

std::string dirent(std::uint64_t ino, std::uint64_t off, std::string_view name,
                   std::uint32_t namelen_field = 0) {
  fuse_dirent d{};
  d.ino = ino;
  d.off = off;
  d.namelen = namelen_field != 0 ? namelen_field : static_cast<std::uint32_t>(name.size());
  d.type = 8;  // DT_REG
  std::string s = raw(d, offsetof(fuse_dirent, name));
  s += name;
  s.resize((s.size() + 7) & ~std::size_t{7}, '\0');
  return s;
}

TEST(FuseAbi, DirentsAreCheckedAgainstTheBuffer) {
  auto two = decode_dirents(dirent(1, 1, ".") + dirent(2, 99, "hello"));
  ASSERT_TRUE(two.ok()) << two.error.why;
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].name, "hello");
  EXPECT_EQ((*two)[1].off, 99u);
  EXPECT_TRUE(decode_dirents("").ok());
  // A name length that runs past the buffer.
  EXPECT_EQ(decode_dirents(dirent(2, 1, "hello", 200)).error.err, EIO);
  // A header cut short.
  EXPECT_EQ(decode_dirents(dirent(2, 1, "hello").substr(0, 12)).error.err, EIO);
  EXPECT_EQ(decode_dirents(dirent(2, 1, "a/b")).error.err, EIO);
  EXPECT_EQ(decode_dirents(dirent(2, 1, std::string("a\0b", 3))).error.err, EIO);
  EXPECT_EQ(decode_dirents(dirent(2, 1, "", 0)).error.err, EIO);
}

TEST(FuseAbi, InitNegotiatesTheSmallerMinor) {
  fuse_init_out o{};
  o.major = 7;
  o.minor = 31;
  o.max_write = 131072;
  o.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES;
  auto d = decode_init_out(raw(o), kOurMinor);
  ASSERT_TRUE(d.ok()) << d.error.why;
  auto n = negotiate(kOurMinor, FUSE_ASYNC_READ, *d);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->minor, 31u);
  EXPECT_EQ(n->max_write, 131072u);
  EXPECT_EQ(n->flags, static_cast<std::uint32_t>(FUSE_ASYNC_READ));
  // A daemon newer than the kernel: the kernel's minor wins.
  o.minor = 99;
  EXPECT_EQ(negotiate(kOurMinor, 0, *decode_init_out(raw(o), kOurMinor))->minor, kOurMinor);
  // An old daemon answers the 24-byte 7.22 struct; a 7.31 daemon must send 64.
  o.minor = 22;
  EXPECT_TRUE(decode_init_out(raw(o, FUSE_COMPAT_22_INIT_OUT_SIZE), kOurMinor).ok());
  o.minor = 31;
  EXPECT_FALSE(decode_init_out(raw(o, FUSE_COMPAT_22_INIT_OUT_SIZE), kOurMinor).ok());
  // max_write below a page is raised to one, as Linux does.
  o.max_write = 100;
  EXPECT_EQ(negotiate(kOurMinor, 0, *decode_init_out(raw(o), kOurMinor))->max_write, 4096u);
  o.major = 8;
  EXPECT_FALSE(negotiate(kOurMinor, 0, *decode_init_out(raw(o, 8), kOurMinor)).ok());
}

TEST(FuseAbi, NotificationsAreChecked) {
  fuse_notify_inval_entry_out ie{};
  ie.parent = 1;
  ie.namelen = 5;
  auto good = decode_notification(FUSE_NOTIFY_INVAL_ENTRY, raw(ie) + std::string("hello\0", 6));
  ASSERT_TRUE(good.ok()) << good.error.why;
  EXPECT_EQ(std::get<NotifyInvalEntry>(*good.value).name, "hello");
  EXPECT_EQ(decode_notification(FUSE_NOTIFY_INVAL_ENTRY, raw(ie) + "hello").error.err, EINVAL);
  EXPECT_EQ(
      decode_notification(FUSE_NOTIFY_INVAL_ENTRY, raw(ie) + std::string("hellox", 6)).error.err,
      EINVAL);
  fuse_notify_store_out st{};
  st.nodeid = 2;
  st.size = 4;
  EXPECT_TRUE(decode_notification(FUSE_NOTIFY_STORE, raw(st) + "abcd").ok());
  EXPECT_FALSE(decode_notification(FUSE_NOTIFY_STORE, raw(st) + "abc").ok());
  EXPECT_FALSE(decode_notification(FUSE_NOTIFY_RETRIEVE, "short").ok());
  EXPECT_FALSE(decode_notification(77, "").ok());
}

// Arbitrary bytes through every decoder: a value or a DecodeError, never a
// crash or a read outside the input (ASan and UBSan check in the asan build).
RC_GTEST_PROP(FuseAbiProp, ArbitraryBytesNeverCrashADecoder, (const std::string& bytes)) {
  for (std::uint32_t minor : {8u, 22u, 31u, kOurMinor}) {
    (void)decode_entry(bytes, minor);
    (void)decode_attr_out(bytes, minor);
    (void)decode_create_out(bytes, minor);
    (void)decode_init_out(bytes, minor);
  }
  (void)decode_message(bytes);
  (void)decode_request(bytes);
  (void)decode_open_out(bytes);
  (void)decode_write_out(bytes, 4096);
  (void)decode_statfs_out(bytes);
  (void)decode_xattr_size(bytes);
  (void)decode_xattr_names(bytes);
  auto d = decode_dirents(bytes);
  if (d.ok()) {
    for (const auto& e : *d) RC_ASSERT(!e.name.empty() && e.name.size() <= kNameMax);
  }
  for (std::int32_t code = 0; code <= 7; ++code) (void)decode_notification(code, bytes);
}

}  // namespace
}  // namespace vfsim::fuse
