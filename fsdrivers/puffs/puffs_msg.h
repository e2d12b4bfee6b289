// The puffs wire format: what the kernel stub and a userspace file server
// exchange over a socket. Every message is a fixed header followed by the
// caller's supplementary groups and an op-specific body, all little-endian:
//
//   off  size  field
//     0     4  length     whole message in bytes, header included
//     4     2  opcode     PuffsOp
//     6     2  flags      kFlagReply on replies
//     8     8  id         request id; a reply carries its request's id
//    16     8  cookie     the node the op is about (an opaque server value)
//    24     4  pid        calling process
//    28     4  uid        caller's credentials ...
//    32     4  gid
//    36     4  error      0, or the errno of a reply
//    40     2  ngroups    ... and its supplementary groups, 4 bytes each
//    42     2  reserved   0
//    44        groups, then the body
//
// Vnodes travel as cookies: the server chose each one (LOOKUP, CREATE ...
// replies carry the new node's cookie) and the kernel only hands them back,
// as the puffs design notes describe. RECLAIM carries the number of such
// replies the reclaimed vnode received (nlookup), so a server that handed
// the cookie out again meanwhile keeps the node (puffs_server.h).
// Credentials and the pid travel with every request.
//
// Both sides parse bytes the other side sent, which they must not trust:
// decode_*() never reads out of bounds and answers a DecodeError naming what
// was wrong (short message, length field disagreeing with the bytes read,
// unknown opcode, a count larger than the message could hold, a negative
// nlookup, a flags word no int holds, trailing bytes). What is done with the
// error is the receiver's business. A request's arguments are typed by its
// op (RequestArgs below): the decoder reads the body of the opcode's type,
// so a body shaped as another op's does not decode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vnode/vattr.h"
#include "vnode/vop_list.h"

namespace vfsim::puffs {

// The vfs ops, then the vnode ops generated from the VOP list
// (vnode/vop_list.h), which fixes their wire codes: lookup is 16, ...
#define VFSIM_PUFFS_VOP_CODE_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  VFSIM_VOP_IF_##puffs(name = (code), ) /* NOLINT(bugprone-macro-parentheses) */
enum class PuffsOp : std::uint16_t {
  statvfs = 1,
  sync,
  unmount,
  VFSIM_VOP_LIST(VFSIM_PUFFS_VOP_CODE_, _)
};
#undef VFSIM_PUFFS_VOP_CODE_
inline constexpr std::uint16_t kFirstVnOp = static_cast<std::uint16_t>(PuffsOp::lookup);
inline constexpr std::uint16_t kLastOp = static_cast<std::uint16_t>(PuffsOp::deleteextattr);
// The wire format does not move when the list is edited.
static_assert(kFirstVnOp == 16 && kLastOp == 41, "puffs wire codes renumbered");

std::string_view op_name(PuffsOp op);  // "GETATTR"
bool op_known(std::uint16_t raw);

inline constexpr std::uint16_t kFlagReply = 1;
inline constexpr std::size_t kHeaderBytes = 44;
// No message is ever larger: a larger length field is a protocol error.
inline constexpr std::size_t kMaxMessageBytes = 1 << 20;
inline constexpr std::size_t kMaxGroups = 16;

struct Header {
  std::uint32_t length = 0;  // filled by encode
  PuffsOp op = PuffsOp::getattr;
  std::uint16_t flags = 0;
  std::uint64_t id = 0;
  std::uint64_t cookie = 0;
  std::uint32_t pid = 0;
  vn::Cred cred;
  std::int32_t error = 0;
};

// The arguments of a request: one type per op family, so the kernel that
// builds a request and the server op that reads it name the same fields
// (no generic field reused with another meaning per op). Their wire
// encoding is in puffs_msg.cc (args_fields), next to the code that writes
// them; a field's comment says what it carries.
struct NoArgs {  // getattr, fsync, readlink, inactive, statvfs, sync, unmount
};
struct LookupArgs {
  std::string name;  // the component
};
struct MakeArgs {  // create, mknod, mkdir
  std::string name;
  vn::Vattr va;  // type, mode (and rdev for mknod) of the new node
};
struct SymlinkArgs {
  std::string name;
  vn::Vattr va;
  std::string target;
};
struct OpenArgs {  // open, close
  std::int32_t fflags = 0;
};
struct AccessArgs {
  std::int32_t acc = 0;  // vn::kAcc* bits
};
struct SetattrArgs {
  vn::SetAttr sa;
};
struct ReadArgs {
  std::uint64_t offset = 0;
  std::uint64_t len = 0;  // bytes asked for
  std::int32_t ioflag = 0;
};
struct WriteArgs {
  std::uint64_t offset = 0;
  std::int32_t ioflag = 0;
  std::string data;
};
struct PutpagesArgs {
  std::uint64_t offset = 0;
  std::string data;  // the bytes of the pages, cut at the kernel's size of the file
};
struct NodeNameArgs {      // remove, rmdir: the node the name names; link: the
  std::uint64_t node = 0;  // node to link; both as a cookie
  std::string name;
};
struct RenameArgs {  // the header's cookie is the source directory
  std::uint64_t from_node = 0;
  std::string from_name;
  std::uint64_t to_dir = 0;
  std::uint64_t to_node = 0;  // the node the target name replaces, 0 if none
  std::string to_name;
};
struct ReaddirArgs {
  std::uint64_t cookie = 0;  // where to go on (0: from the start)
  std::uint64_t max = 0;     // entries at most
};
struct XattrArgs {      // getextattr, deleteextattr
  std::int32_t ns = 0;  // vn::XattrNs, checked by the server
  std::string name;
};
struct SetXattrArgs {
  std::int32_t ns = 0;
  std::int32_t flags = 0;  // vn::kXattrCreate / kXattrReplace
  std::string name;
  std::string value;
};
struct ListXattrArgs {
  std::int32_t ns = 0;
};
// How many replies (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK) handed this cookie
// to the vnode being reclaimed — FUSE's FORGET nlookup, NetBSD's later
// pvnr_nlookup. 0: the kernel keeps no lookup counts (knob
// puffs.reclaim_nlookup=false). Signed on the wire like NetBSD's int; a
// negative value does not decode.
struct ReclaimArgs {
  std::int64_t nlookup = 0;
};

using RequestArgs =
    std::variant<NoArgs, LookupArgs, MakeArgs, SymlinkArgs, OpenArgs, AccessArgs, SetattrArgs,
                 ReadArgs, WriteArgs, PutpagesArgs, NodeNameArgs, RenameArgs, ReaddirArgs,
                 XattrArgs, SetXattrArgs, ListXattrArgs, ReclaimArgs>;

// Which argument type each op takes, as X(op, Type).
// clang-format off
#define VFSIM_PUFFS_ARGS(X) \
  X(statvfs, NoArgs) \
  X(sync, NoArgs) \
  X(unmount, NoArgs) \
  X(lookup, LookupArgs) \
  X(create, MakeArgs) \
  X(mknod, MakeArgs) \
  X(mkdir, MakeArgs) \
  X(symlink, SymlinkArgs) \
  X(open, OpenArgs) \
  X(close, OpenArgs) \
  X(access, AccessArgs) \
  X(getattr, NoArgs) \
  X(setattr, SetattrArgs) \
  X(read, ReadArgs) \
  X(write, WriteArgs) \
  X(putpages, PutpagesArgs) \
  X(fsync, NoArgs) \
  X(remove, NodeNameArgs) \
  X(link, NodeNameArgs) \
  X(rename, RenameArgs) \
  X(rmdir, NodeNameArgs) \
  X(readdir, ReaddirArgs) \
  X(readlink, NoArgs) \
  X(inactive, NoArgs) \
  X(reclaim, ReclaimArgs) \
  X(getextattr, XattrArgs) \
  X(setextattr, SetXattrArgs) \
  X(listextattr, ListXattrArgs) \
  X(deleteextattr, XattrArgs)
// clang-format on

// ArgsOf<PuffsOp::read> is ReadArgs. An op missing from VFSIM_PUFFS_ARGS has
// no ArgsFor, and the checks below (generated from the VOP list) fail to
// compile naming it.
template <PuffsOp Op>
struct ArgsFor;
#define VFSIM_PUFFS_ARGS_FOR_(op, T) \
  template <>                        \
  struct ArgsFor<PuffsOp::op> {      \
    using type = T;                  \
  };
VFSIM_PUFFS_ARGS(VFSIM_PUFFS_ARGS_FOR_)
#undef VFSIM_PUFFS_ARGS_FOR_
template <PuffsOp Op>
using ArgsOf = typename ArgsFor<Op>::type;

// Every op: the vfs ops, then every VOP that travels to a server
// (vnode/vop_list.h), as X(name).
#define VFSIM_PUFFS_OPS(X) X(statvfs) X(sync) X(unmount) VFSIM_PUFFS_VOPS(X)

namespace args_check_ {
#define VFSIM_PUFFS_ONE_(...) +1  // NOLINT(bugprone-macro-parentheses): a term of a sum
#define VFSIM_PUFFS_HAS_ARGS_(name)                \
  static_assert(sizeof(ArgsOf<PuffsOp::name>) > 0, \
                "puffs op " #name " has no argument type in VFSIM_PUFFS_ARGS");
VFSIM_PUFFS_OPS(VFSIM_PUFFS_HAS_ARGS_)  // NOLINT(bugprone-sizeof-expression): a completeness test
static_assert(0 VFSIM_PUFFS_ARGS(VFSIM_PUFFS_ONE_) == 0 VFSIM_PUFFS_OPS(VFSIM_PUFFS_ONE_),
              "VFSIM_PUFFS_ARGS names an op twice or one the VOP list does not have");
#undef VFSIM_PUFFS_HAS_ARGS_
#undef VFSIM_PUFFS_ONE_
}  // namespace args_check_

struct Request {
  Header h;
  RequestArgs args;
  // The arguments, if they are op Op's and the header says Op; else nullptr.
  template <PuffsOp Op>
  const ArgsOf<Op>* args_of() const {
    return h.op == Op ? std::get_if<ArgsOf<Op>>(&args) : nullptr;
  }
};

// A request for op Op about node `cookie`: the arguments' type is fixed by
// the op at compile time.
template <PuffsOp Op>
Request make_request(std::uint64_t cookie, ArgsOf<Op> a) {
  Request rq;
  rq.h.op = Op;
  rq.h.cookie = cookie;
  rq.args = std::move(a);
  return rq;
}
// A request for `op` with default (zero) arguments of its type, e.g. for a
// reply to a request whose body did not parse.
Request make_request(PuffsOp op, std::uint64_t cookie = 0);
// Whether `a` holds the argument type of `op`.
bool args_match(PuffsOp op, const RequestArgs& a);

struct Reply {
  Header h;                      // h.error != 0: no body
  std::uint64_t new_cookie = 0;  // lookup/create/mknod/mkdir/symlink
  vn::VType new_type = vn::VType::VNON;
  vn::Vattr va;              // lookup..symlink: the new node; getattr, setattr
  std::string data;          // read: bytes; readlink: target; getextattr: value
  std::uint64_t offset = 0;  // write: where the write ended
  bool flag = false;         // readdir: eof; inactive: recycle
  std::vector<vn::Dirent> dirents;
  std::vector<std::string> names;  // listextattr
  vn::StatVfs st;
};

// Why bytes could not be parsed. `id`/`op` are set when the header was
// readable, so the receiver can name (and answer) the request.
struct DecodeError {
  std::string why;
  std::optional<std::uint64_t> id;
  std::optional<std::uint16_t> op;
  int err = 0;  // EPROTO, or EIO for values that parse but make no sense
};

struct DecodedRequest {
  std::optional<Request> req;
  DecodeError error;  // when !req
};
struct DecodedReply {
  std::optional<Reply> rep;
  DecodeError error;  // when !rep
};

std::string encode_request(const Request& rq);
std::string encode_reply(const Reply& rp, PuffsOp op);
DecodedRequest decode_request(std::string_view bytes);
// A reply's opcode echoes its request's and gives the body's shape; the
// kernel checks it against the request the id names.
DecodedReply decode_reply(std::string_view bytes);

// Reads only the header (for framing and for naming a bad message).
std::optional<Header> peek_header(std::string_view bytes);

// "req 17 GETATTR cookie 3": how messages are named in traces and reports.
std::string describe(const Header& h);

}  // namespace vfsim::puffs
