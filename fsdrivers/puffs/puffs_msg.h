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
// nlookup, trailing bytes). What is done with the error is the receiver's
// business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// The arguments of a request; which fields an op uses is listed in
// puffs_msg.cc (encode_request_body), next to the code that writes them.
struct Request {
  Header h;
  std::string name;           // component name; xattr name
  std::string name2;          // rename: target name; symlink: target
  std::uint64_t cookie2 = 0;  // remove/rmdir: victim; link: node; rename: source node
  std::uint64_t cookie3 = 0;  // rename: target directory
  std::uint64_t cookie4 = 0;  // rename: node the target replaces, 0 if none
  vn::Vattr va;               // create/mknod/mkdir/symlink
  vn::SetAttr sa;             // setattr
  std::uint64_t offset = 0;   // read/write/putpages: file offset; readdir: cookie
  std::uint64_t len = 0;      // read: bytes; readdir: entries; setextattr: flags
  std::int32_t flags = 0;     // open/close: fflags; access: acc; read/write: ioflag; xattr: ns
  std::string data;           // write/putpages: bytes; setextattr: value
  // reclaim: how many replies (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK) handed
  // this cookie to the vnode being reclaimed — FUSE's FORGET nlookup, NetBSD's
  // later pvnr_nlookup. 0: the kernel keeps no lookup counts (knob
  // puffs.reclaim_nlookup=false). Signed on the wire like NetBSD's int; a
  // negative value does not decode.
  std::int64_t nlookup = 0;
};

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
