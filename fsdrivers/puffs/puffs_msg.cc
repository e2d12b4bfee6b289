#include "fsdrivers/puffs/puffs_msg.h"

#include <cerrno>
#include <cstdint>
#include <variant>

#include "fsdrivers/puffs/wire.h"

namespace vfsim::puffs {

namespace {

// The same field list drives encoding and decoding: Enc writes each field,
// Dec reads it back (and marks the reader bad on any overrun or nonsense).
struct Enc {
  WireWriter& w;
  void u8(std::uint8_t& v) { w.u8(v); }
  void u32(std::uint32_t& v) { w.u32(v); }
  void i32(std::int32_t& v) { w.u32(static_cast<std::uint32_t>(v)); }
  void u64(std::uint64_t& v) { w.u64(v); }
  void str(std::string& s) { w.str(s); }
  void boolean(bool& b) { w.u8(b ? 1 : 0); }
  void nlookup(std::int64_t& v) { w.u64(static_cast<std::uint64_t>(v)); }
  // An int flags word carried in 8 bytes, sign-extended (setextattr).
  void flags64(std::int32_t& v) { w.u64(static_cast<std::uint64_t>(static_cast<std::int64_t>(v))); }
  std::uint32_t count(std::size_t n, std::size_t) {
    w.u32(static_cast<std::uint32_t>(n));
    return static_cast<std::uint32_t>(n);
  }
  void vtype(vn::VType& t) { w.u8(static_cast<std::uint8_t>(t)); }
  void fail(std::string) {}
  static constexpr bool decoding = false;
};

struct Dec {
  WireReader& r;
  std::string why;
  void u8(std::uint8_t& v) { v = r.u8(); }
  void u32(std::uint32_t& v) { v = r.u32(); }
  void i32(std::int32_t& v) { v = static_cast<std::int32_t>(r.u32()); }
  void u64(std::uint64_t& v) { v = r.u64(); }
  void str(std::string& s) { s = r.str(); }
  void boolean(bool& b) { b = r.u8() != 0; }
  // A lookup count: what the kernel says it was handed, never negative.
  void nlookup(std::int64_t& v) {
    v = static_cast<std::int64_t>(r.u64());
    if (!r.bad() && v < 0) fail("nlookup " + std::to_string(v) + " is negative");
  }
  // An int flags word in 8 bytes: a value no int holds is refused.
  void flags64(std::int32_t& v) {
    const auto wide = static_cast<std::int64_t>(r.u64());
    if (!r.bad() && (wide < INT32_MIN || wide > INT32_MAX)) {
      fail("flags " + std::to_string(wide) + " out of range");
    }
    v = static_cast<std::int32_t>(wide);
  }
  // A count is believed only if that many items of `min_item` bytes fit.
  std::uint32_t count(std::size_t, std::size_t min_item) {
    const std::uint32_t n = r.u32();
    if (!r.bad() && static_cast<std::uint64_t>(n) * min_item > r.remaining()) {
      fail("count " + std::to_string(n) + " larger than the message can hold");
      return 0;
    }
    return n;
  }
  void vtype(vn::VType& t) {
    const std::uint8_t v = r.u8();
    if (v > static_cast<std::uint8_t>(vn::VType::VSOCK)) {
      fail("bad vnode type " + std::to_string(v));
    }
    t = static_cast<vn::VType>(v);
  }
  void fail(std::string w) {
    if (why.empty()) why = std::move(w);
  }
  static constexpr bool decoding = true;
};

template <class IO>
void vattr_fields(IO& io, vn::Vattr& va) {
  io.vtype(va.type);
  io.u32(va.mode);
  io.u32(va.nlink);
  io.u32(va.uid);
  io.u32(va.gid);
  io.u64(va.fsid);
  io.u64(va.fileid);
  io.u64(va.size);
  io.u64(va.bytes);
  io.u32(va.blocksize);
  io.u64(va.rdev);
  io.u64(va.atime);
  io.u64(va.mtime);
  io.u64(va.ctime);
  io.u64(va.birthtime);
  io.u64(va.gen);
}

template <class IO, class T>
void optional_field(IO& io, std::optional<T>& f) {
  bool has = f.has_value();
  io.boolean(has);
  T v = has ? *f : T{};
  if constexpr (sizeof(T) == 8) io.u64(v);
  else io.u32(v);
  if (has) f = v;
  else f.reset();
}

template <class IO>
void setattr_fields(IO& io, vn::SetAttr& sa) {
  optional_field(io, sa.mode);
  optional_field(io, sa.uid);
  optional_field(io, sa.gid);
  optional_field(io, sa.size);
  optional_field(io, sa.atime);
  optional_field(io, sa.mtime);
  io.boolean(sa.mark_ctime);
}

// Each argument type's fields, in wire order. The wire format is per op
// (the header's opcode gives the body's shape): these are the same bytes
// the generic request of earlier versions carried.
template <class IO>
void args_fields(IO&, NoArgs&) {}
template <class IO>
void args_fields(IO& io, LookupArgs& a) {
  io.str(a.name);
}
template <class IO>
void args_fields(IO& io, MakeArgs& a) {
  io.str(a.name);
  vattr_fields(io, a.va);
}
template <class IO>
void args_fields(IO& io, SymlinkArgs& a) {
  io.str(a.name);
  vattr_fields(io, a.va);
  io.str(a.target);
}
template <class IO>
void args_fields(IO& io, OpenArgs& a) {
  io.i32(a.fflags);
}
template <class IO>
void args_fields(IO& io, AccessArgs& a) {
  io.i32(a.acc);
}
template <class IO>
void args_fields(IO& io, SetattrArgs& a) {
  setattr_fields(io, a.sa);
}
template <class IO>
void args_fields(IO& io, ReadArgs& a) {
  io.u64(a.offset);
  io.u64(a.len);
  io.i32(a.ioflag);
}
template <class IO>
void args_fields(IO& io, WriteArgs& a) {
  io.u64(a.offset);
  io.i32(a.ioflag);
  io.str(a.data);
}
template <class IO>
void args_fields(IO& io, PutpagesArgs& a) {
  io.u64(a.offset);
  io.str(a.data);
}
template <class IO>
void args_fields(IO& io, NodeNameArgs& a) {
  io.u64(a.node);
  io.str(a.name);
}
template <class IO>
void args_fields(IO& io, RenameArgs& a) {
  io.u64(a.from_node);
  io.str(a.from_name);
  io.u64(a.to_dir);
  io.u64(a.to_node);
  io.str(a.to_name);
}
template <class IO>
void args_fields(IO& io, ReaddirArgs& a) {
  io.u64(a.cookie);
  io.u64(a.max);
}
template <class IO>
void args_fields(IO& io, XattrArgs& a) {
  io.i32(a.ns);
  io.str(a.name);
}
template <class IO>
void args_fields(IO& io, SetXattrArgs& a) {
  io.i32(a.ns);
  io.flags64(a.flags);
  io.str(a.name);
  io.str(a.value);
}
template <class IO>
void args_fields(IO& io, ListXattrArgs& a) {
  io.i32(a.ns);
}
template <class IO>
void args_fields(IO& io, ReclaimArgs& a) {
  io.nlookup(a.nlookup);
}

// Encodes the arguments the request holds; decodes those of its opcode
// (make_request(op) chose their type).
template <class IO>
void request_body(IO& io, Request& rq) {
  std::visit([&io](auto& a) { args_fields(io, a); }, rq.args);
}

template <class IO>
void dirent_list(IO& io, std::vector<vn::Dirent>& ds) {
  const std::uint32_t n = io.count(ds.size(), 8 + 1 + 4 + 8);
  if constexpr (IO::decoding) ds.resize(n);
  for (auto& d : ds) {
    io.u64(d.fileid);
    io.vtype(d.type);
    io.str(d.name);
    io.u64(d.cookie);
  }
}

template <class IO>
void name_list(IO& io, std::vector<std::string>& names) {
  const std::uint32_t n = io.count(names.size(), 4);
  if constexpr (IO::decoding) names.resize(n);
  for (auto& s : names) io.str(s);
}

template <class IO>
void statvfs_fields(IO& io, vn::StatVfs& st) {
  for (std::uint64_t* f : {&st.bsize, &st.frsize, &st.blocks, &st.bfree, &st.bavail, &st.files,
                           &st.ffree, &st.favail, &st.fsid, &st.namemax}) {
    io.u64(*f);
  }
  io.str(st.fstypename);
}

template <class IO>
void reply_body(IO& io, Reply& rp) {
  using O = PuffsOp;
  if (rp.h.error != 0) return;
  switch (rp.h.op) {
    case O::lookup:
    case O::create:
    case O::mknod:
    case O::mkdir:
    case O::symlink:
      io.u64(rp.new_cookie);
      io.vtype(rp.new_type);
      vattr_fields(io, rp.va);
      break;
    case O::getattr:
    case O::setattr: vattr_fields(io, rp.va); break;
    case O::read:
    case O::readlink:
    case O::getextattr: io.str(rp.data); break;
    case O::write: io.u64(rp.offset); break;
    case O::readdir:
      io.boolean(rp.flag);
      dirent_list(io, rp.dirents);
      break;
    case O::inactive: io.boolean(rp.flag); break;
    case O::listextattr: name_list(io, rp.names); break;
    case O::statvfs: statvfs_fields(io, rp.st); break;
    default: break;
  }
}

void write_header(WireWriter& w, const Header& h) {
  w.u32(0);  // length, patched once known
  w.u16(static_cast<std::uint16_t>(h.op));
  w.u16(h.flags);
  w.u64(h.id);
  w.u64(h.cookie);
  w.u32(h.pid);
  w.u32(h.cred.uid);
  w.u32(h.cred.gid);
  w.u32(static_cast<std::uint32_t>(h.error));
  const std::size_t ng = std::min(h.cred.groups.size(), kMaxGroups);
  w.u16(static_cast<std::uint16_t>(ng));
  w.u16(0);
  for (std::size_t i = 0; i < ng; ++i) w.u32(h.cred.groups[i]);
}

// Reads and checks the header; on failure fills `err` (with id and op when
// they were readable) and returns nothing.
std::optional<Header> read_header(WireReader& r, std::size_t total, DecodeError* err) {
  if (total < kHeaderBytes) {
    err->why = "message of " + std::to_string(total) + " bytes is shorter than a header";
    return std::nullopt;
  }
  Header h;
  h.length = r.u32();
  const std::uint16_t op = r.u16();
  h.flags = r.u16();
  h.id = r.u64();
  h.cookie = r.u64();
  h.pid = r.u32();
  h.cred.uid = r.u32();
  h.cred.gid = r.u32();
  h.error = static_cast<std::int32_t>(r.u32());
  const std::uint16_t ng = r.u16();
  (void)r.u16();
  err->id = h.id;
  err->op = op;
  if (h.length != total) {
    err->why = "length field says " + std::to_string(h.length) + " bytes but " +
               std::to_string(total) + " were read";
    return std::nullopt;
  }
  if (!op_known(op)) {
    err->why = "unknown opcode " + std::to_string(op);
    return std::nullopt;
  }
  if (ng > kMaxGroups) {
    err->why = "too many groups (" + std::to_string(ng) + ")";
    return std::nullopt;
  }
  h.op = static_cast<PuffsOp>(op);
  for (std::uint16_t i = 0; i < ng; ++i) h.cred.groups.push_back(r.u32());
  return h;
}

template <class Msg, class Body>
std::optional<Msg> decode_body(WireReader& r, Msg m, DecodeError* err, Body body) {
  Dec d{r, {}};
  body(d, m);
  if (d.why.empty() && r.bad()) d.why = "body ends early";
  if (d.why.empty() && r.remaining() != 0) {
    d.why = std::to_string(r.remaining()) + " trailing bytes";
  }
  if (!d.why.empty()) {
    err->why = std::string(op_name(m.h.op)) + " body: " + d.why;
    return std::nullopt;
  }
  return m;
}

}  // namespace

std::string_view op_name(PuffsOp op) {
  switch (op) {
    case PuffsOp::statvfs: return "STATVFS";
    case PuffsOp::sync: return "SYNC";
    case PuffsOp::unmount: return "UNMOUNT";
#define VFSIM_PUFFS_OP_NAME_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  VFSIM_VOP_IF_##puffs(case PuffsOp::name : return #NAME;)
      VFSIM_VOP_LIST(VFSIM_PUFFS_OP_NAME_, _)
#undef VFSIM_PUFFS_OP_NAME_
  }
  return "?";
}

bool op_known(std::uint16_t raw) {
  switch (raw) {
    case static_cast<std::uint16_t>(PuffsOp::statvfs):
    case static_cast<std::uint16_t>(PuffsOp::sync):
    case static_cast<std::uint16_t>(PuffsOp::unmount):
#define VFSIM_PUFFS_OP_KNOWN_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  VFSIM_VOP_IF_##puffs(case code:)
      VFSIM_VOP_LIST(VFSIM_PUFFS_OP_KNOWN_, _)
#undef VFSIM_PUFFS_OP_KNOWN_
      return true;
    default: return false;
  }
}

Request make_request(PuffsOp op, std::uint64_t cookie) {
  Request rq;
  rq.h.op = op;
  rq.h.cookie = cookie;
  // Generated: one case per op, several ops share a type (so clang-tidy
  // sees cloned branches), and T is a type name (it cannot be parenthesized).
  // NOLINTBEGIN(bugprone-branch-clone,bugprone-macro-parentheses)
  switch (op) {
#define VFSIM_PUFFS_DEFAULT_ARGS_(name, T) \
  case PuffsOp::name: rq.args = T{}; break;
    VFSIM_PUFFS_ARGS(VFSIM_PUFFS_DEFAULT_ARGS_)
#undef VFSIM_PUFFS_DEFAULT_ARGS_
  }
  // NOLINTEND(bugprone-branch-clone,bugprone-macro-parentheses)
  return rq;
}

bool args_match(PuffsOp op, const RequestArgs& a) {
  // NOLINTBEGIN(bugprone-branch-clone): generated, one case per op
  switch (op) {
#define VFSIM_PUFFS_ARGS_MATCH_(name, T) \
  case PuffsOp::name: return std::holds_alternative<T>(a);
    VFSIM_PUFFS_ARGS(VFSIM_PUFFS_ARGS_MATCH_)
#undef VFSIM_PUFFS_ARGS_MATCH_
  }
  // NOLINTEND(bugprone-branch-clone)
  return false;
}

std::string encode_request(const Request& rq_in) {
  Request rq = rq_in;  // the field walkers take non-const references
  WireWriter w;
  write_header(w, rq.h);
  Enc e{w};
  request_body(e, rq);
  w.patch_u32(0, static_cast<std::uint32_t>(w.buf().size()));
  return std::move(w.buf());
}

std::string encode_reply(const Reply& rp_in, PuffsOp op) {
  Reply rp = rp_in;
  rp.h.op = op;
  rp.h.flags |= kFlagReply;
  WireWriter w;
  write_header(w, rp.h);
  Enc e{w};
  reply_body(e, rp);
  w.patch_u32(0, static_cast<std::uint32_t>(w.buf().size()));
  return std::move(w.buf());
}

DecodedRequest decode_request(std::string_view bytes) {
  DecodedRequest out;
  out.error.err = EPROTO;
  WireReader r(bytes);
  std::optional<Header> h = read_header(r, bytes.size(), &out.error);
  if (!h) return out;
  if (h->flags & kFlagReply) {
    out.error.why = "a reply where a request was expected";
    return out;
  }
  Request rq = make_request(h->op);
  rq.h = std::move(*h);
  out.req =
      decode_body(r, std::move(rq), &out.error, [](Dec& d, Request& m) { request_body(d, m); });
  return out;
}

DecodedReply decode_reply(std::string_view bytes) {
  DecodedReply out;
  out.error.err = EPROTO;
  WireReader r(bytes);
  std::optional<Header> h = read_header(r, bytes.size(), &out.error);
  if (!h) return out;
  if (!(h->flags & kFlagReply)) {
    out.error.why = "a request where a reply was expected";
    return out;
  }
  Reply rp;
  rp.h = std::move(*h);
  out.rep = decode_body(r, std::move(rp), &out.error, [](Dec& d, Reply& m) { reply_body(d, m); });
  return out;
}

std::optional<Header> peek_header(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return std::nullopt;
  WireReader r(bytes.substr(0, kHeaderBytes));
  Header h;
  h.length = r.u32();
  const std::uint16_t op = r.u16();
  h.op = static_cast<PuffsOp>(op);
  h.flags = r.u16();
  h.id = r.u64();
  h.cookie = r.u64();
  return h;
}

std::string describe(const Header& h) {
  const auto raw = static_cast<std::uint16_t>(h.op);
  std::string op = op_known(raw) ? std::string(op_name(h.op)) : "op#" + std::to_string(raw);
  return std::string((h.flags & kFlagReply) ? "reply " : "req ") + std::to_string(h.id) + " " + op +
         " cookie " + std::to_string(h.cookie);
}

}  // namespace vfsim::puffs
