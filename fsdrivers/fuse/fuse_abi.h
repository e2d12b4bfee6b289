// The FUSE kernel ABI (<linux/fuse.h>) as the kernel side speaks it: requests
// encoded, replies and notifications decoded and checked.
//
// A message to the daemon is a fuse_in_header (40 bytes: len, opcode,
// unique, nodeid, uid, gid, pid, extension length) and the op's body; a
// reply is a fuse_out_header (16 bytes: len, error, unique) and, when error
// is 0, the op's body. A notification is a fuse_out_header whose unique is
// 0 and whose error field carries the notify code (fuse_notify_code).
//
// Struct sizes depend on the protocol minor both sides agreed at INIT:
// minor = min(ours, the daemon's). Debian's libfuse 3.14 answers 7.31; the
// header installed here is 7.38. Each *_size(minor) function below gives the
// size the other side sends or expects at that minor (the FUSE_COMPAT_*
// sizes of the header).
//
// Replies come from a daemon we do not trust: every decode_* function reads
// only inside its input and answers a DecodeError instead of a value when
// the bytes cannot be right — a length field that disagrees with the bytes,
// an error outside (-4096, 0], a short body, an entry or attribute that
// cannot exist (a file type that is none, a size past INT64_MAX, a node id 0
// that is not a negative entry, nanoseconds past a second), a directory
// entry running past the buffer or naming "" or a name with '/' or NUL.
// DecodeError::err says what the kernel turns it into: EIO for a value that
// parses but cannot be, EPROTO for bytes that do not parse. Nothing from the
// wire is asserted.
#pragma once

#include <linux/fuse.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vnode/vattr.h"

namespace vfsim::fuse {

// The protocol this kernel side implements: the installed header's.
inline constexpr std::uint32_t kOurMajor = FUSE_KERNEL_VERSION;
inline constexpr std::uint32_t kOurMinor = FUSE_KERNEL_MINOR_VERSION;
inline constexpr std::uint64_t kRootNodeId = FUSE_ROOT_ID;
inline constexpr std::size_t kInHeaderBytes = sizeof(fuse_in_header);
inline constexpr std::size_t kOutHeaderBytes = sizeof(fuse_out_header);
inline constexpr std::size_t kNameMax = 1024;  // FUSE_NAME_MAX
// The largest reply accepted (a READ of the largest max_read, plus header).
inline constexpr std::size_t kMaxReplyBytes = (1u << 20) + 4096;

std::string_view opcode_name(std::uint32_t opcode);  // "LOOKUP"; "OP#99" if unknown
std::string_view notify_name(std::int32_t code);     // "INVAL_INODE"

// --- struct sizes by negotiated minor --------------------------------------
std::size_t entry_out_size(std::uint32_t minor);
std::size_t attr_out_size(std::uint32_t minor);
std::size_t write_in_size(std::uint32_t minor);
std::size_t mknod_in_size(std::uint32_t minor);
std::size_t create_in_size(std::uint32_t minor);  // fuse_open_in before 7.12
std::size_t read_in_size(std::uint32_t minor);
std::size_t getattr_in_size(std::uint32_t minor);  // 0 before 7.9
std::size_t init_out_min_size(std::uint32_t minor);

// --- decode errors -----------------------------------------------------------
struct DecodeError {
  std::string why;
  int err = 0;  // EIO or EPROTO
};

template <class T>
struct Decoded {
  std::optional<T> value;
  DecodeError error;  // when !value
  bool ok() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

// --- requests (kernel -> daemon) -------------------------------------------
struct InHeader {
  std::uint32_t opcode = 0;
  std::uint64_t unique = 0;
  std::uint64_t nodeid = 0;
  std::uint32_t uid = 0, gid = 0, pid = 0;
};

// A whole request: the header (len filled in) and the body.
std::string encode_request(const InHeader& h, std::string_view body);
// The same into `out` (cleared first), reusing its buffer.
void encode_request_into(std::string* out, const InHeader& h, std::string_view body);

// Bodies. `minor` is the negotiated protocol minor.
std::string body_init(std::uint32_t max_readahead, std::uint32_t flags);
std::string body_name(std::string_view name);  // LOOKUP, UNLINK, RMDIR, REMOVEXATTR
std::string body_forget(std::uint64_t nlookup);
std::string body_getattr(std::uint32_t minor, std::uint32_t flags, std::uint64_t fh);
std::string body_setattr(const fuse_setattr_in& in);
std::string body_mknod(std::uint32_t minor, std::uint32_t mode, std::uint32_t rdev,
                       std::uint32_t umask, std::string_view name);
std::string body_mkdir(std::uint32_t mode, std::uint32_t umask, std::string_view name);
std::string body_symlink(std::string_view name, std::string_view target);
std::string body_rename(std::uint64_t newdir, std::string_view oldname, std::string_view newname);
std::string body_link(std::uint64_t oldnodeid, std::string_view newname);
std::string body_open(std::uint32_t flags);  // OPEN, OPENDIR
std::string body_create(std::uint32_t minor, std::uint32_t flags, std::uint32_t mode,
                        std::uint32_t umask, std::string_view name);
std::string body_read(std::uint32_t minor, std::uint64_t fh, std::uint64_t offset,
                      std::uint32_t size, std::uint32_t flags);  // READ, READDIR
std::string body_write(std::uint32_t minor, std::uint64_t fh, std::uint64_t offset,
                       std::string_view data, std::uint32_t write_flags, std::uint32_t flags);
std::string body_release(std::uint64_t fh, std::uint32_t flags);  // RELEASE, RELEASEDIR
std::string body_flush(std::uint64_t fh, std::uint64_t lock_owner);
std::string body_fsync(std::uint64_t fh, std::uint32_t fsync_flags);
std::string body_access(std::uint32_t mask);
std::string body_getxattr(std::string_view name, std::uint32_t size);
std::string body_listxattr(std::uint32_t size);
std::string body_setxattr(std::string_view name, std::string_view value, std::uint32_t flags);
std::string body_interrupt(std::uint64_t unique);
std::string body_notify_reply(std::uint64_t offset, std::string_view data);

// Reads a request back (the daemon's view; for tests and the fuzzer). The
// body must be at least `min_body` bytes.
Decoded<std::pair<InHeader, std::string_view>> decode_request(std::string_view bytes);

// --- replies and notifications (daemon -> kernel) ---------------------------
struct OutHeader {
  std::uint32_t len = 0;
  std::int32_t error = 0;  // replies: 0 or -errno; notifications: the notify code
  std::uint64_t unique = 0;
  bool notification() const { return unique == 0; }
};

// The header, checked against the bytes: len equals the message's size, a
// reply's error is in (-4096, 0] and an error reply has no body. The body
// is what follows the header.
struct Message {
  OutHeader h;
  std::string_view body;
};
Decoded<Message> decode_message(std::string_view bytes);

// Attributes as the kernel keeps them.
struct Attr {
  vn::Vattr va;
  std::uint32_t raw_mode = 0;  // with the S_IFMT bits
};
struct Entry {
  std::uint64_t nodeid = 0;  // 0: a negative entry (the name does not exist)
  std::uint64_t generation = 0;
  Attr attr;
  bool negative() const { return nodeid == 0; }
};
struct OpenOut {
  std::uint64_t fh = 0;
  std::uint32_t open_flags = 0;
};
struct InitOut {
  std::uint32_t major = 0, minor = 0;
  std::uint32_t max_readahead = 0, flags = 0;
  std::uint32_t max_background = 0, congestion_threshold = 0;
  std::uint32_t max_write = 0, time_gran = 0;
  std::uint32_t max_pages = 0;
};
struct Dirent {
  std::uint64_t ino = 0;
  std::uint64_t off = 0;   // opaque: where to resume after this entry
  std::uint32_t type = 0;  // DT_*
  std::string name;
};

// `minor` is the negotiated protocol minor in each.
Decoded<Attr> decode_attr(const fuse_attr& a);
Decoded<Entry> decode_entry(std::string_view body, std::uint32_t minor);
Decoded<Attr> decode_attr_out(std::string_view body, std::uint32_t minor);
Decoded<OpenOut> decode_open_out(std::string_view body);
Decoded<std::pair<Entry, OpenOut>> decode_create_out(std::string_view body, std::uint32_t minor);
// The number of bytes written; more than `asked` cannot be.
Decoded<std::uint32_t> decode_write_out(std::string_view body, std::uint32_t asked);
Decoded<vn::StatVfs> decode_statfs_out(std::string_view body);
Decoded<std::uint32_t> decode_xattr_size(std::string_view body);  // fuse_getxattr_out
// A NUL-separated name list (LISTXATTR with a size).
Decoded<std::vector<std::string>> decode_xattr_names(std::string_view body);
Decoded<std::vector<Dirent>> decode_dirents(std::string_view body);
// `kernel_minor` is the minor the kernel offered (which sizes the reply).
Decoded<InitOut> decode_init_out(std::string_view body, std::uint32_t kernel_minor);

// What both sides agreed at INIT.
struct Negotiated {
  std::uint32_t major = 7, minor = 0;
  std::uint32_t max_write = 4096;
  std::uint32_t max_readahead = 0;
  std::uint32_t flags = 0;  // the capabilities both sides have
};
// minor = min(ours, theirs); a major other than 7 does not negotiate.
Decoded<Negotiated> negotiate(std::uint32_t our_minor, std::uint32_t our_flags,
                              const InitOut& theirs);

// Notifications (unique 0, error = code).
struct NotifyPoll {
  std::uint64_t kh = 0;
};
struct NotifyInvalInode {
  std::uint64_t ino = 0;
  std::int64_t off = 0, len = 0;
};
struct NotifyInvalEntry {
  std::uint64_t parent = 0;
  std::string name;
};
struct NotifyStore {
  std::uint64_t nodeid = 0, offset = 0;
  std::string data;
};
struct NotifyRetrieve {
  std::uint64_t notify_unique = 0, nodeid = 0, offset = 0;
  std::uint32_t size = 0;
};
struct NotifyDelete {
  std::uint64_t parent = 0, child = 0;
  std::string name;
};
using Notification = std::variant<NotifyPoll, NotifyInvalInode, NotifyInvalEntry, NotifyStore,
                                  NotifyRetrieve, NotifyDelete>;
Decoded<Notification> decode_notification(std::int32_t code, std::string_view body);

// FUSE mode bits <-> vnode types.
std::optional<vn::VType> vtype_of_mode(std::uint32_t mode);
std::uint32_t mode_of_vtype(vn::VType t);  // the S_IFMT bits
vn::VType vtype_of_dirent_type(std::uint32_t dt);

}  // namespace vfsim::fuse
