#include "fsdrivers/fuse/fuse_abi.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace vfsim::fuse {

namespace {

constexpr std::string_view kOpNames[] = {"",
                                         "LOOKUP",
                                         "FORGET",
                                         "GETATTR",
                                         "SETATTR",
                                         "READLINK",
                                         "SYMLINK",
                                         "",
                                         "MKNOD",
                                         "MKDIR",
                                         "UNLINK",
                                         "RMDIR",
                                         "RENAME",
                                         "LINK",
                                         "OPEN",
                                         "READ",
                                         "WRITE",
                                         "STATFS",
                                         "RELEASE",
                                         "",
                                         "FSYNC",
                                         "SETXATTR",
                                         "GETXATTR",
                                         "LISTXATTR",
                                         "REMOVEXATTR",
                                         "FLUSH",
                                         "INIT",
                                         "OPENDIR",
                                         "READDIR",
                                         "RELEASEDIR",
                                         "FSYNCDIR",
                                         "GETLK",
                                         "SETLK",
                                         "SETLKW",
                                         "ACCESS",
                                         "CREATE",
                                         "INTERRUPT",
                                         "BMAP",
                                         "DESTROY",
                                         "IOCTL",
                                         "POLL",
                                         "NOTIFY_REPLY",
                                         "BATCH_FORGET",
                                         "FALLOCATE",
                                         "READDIRPLUS",
                                         "RENAME2",
                                         "LSEEK",
                                         "COPY_FILE_RANGE",
                                         "SETUPMAPPING",
                                         "REMOVEMAPPING",
                                         "SYNCFS",
                                         "TMPFILE"};

constexpr std::string_view kNotifyNames[] = {"",      "POLL",     "INVAL_INODE", "INVAL_ENTRY",
                                             "STORE", "RETRIEVE", "DELETE"};

template <class T>
void put(std::string* out, const T& v, std::size_t bytes = sizeof(T)) {
  out->append(reinterpret_cast<const char*>(&v), std::min(bytes, sizeof(T)));
  if (bytes > sizeof(T)) out->append(bytes - sizeof(T), '\0');
}

void put_cstr(std::string* out, std::string_view s) {
  out->append(s);
  out->push_back('\0');
}

// Copies `sizeof(T)` bytes out of `in` at `at` (the caller checked the size;
// a shorter `n` leaves the rest zero, for structs that grew with the minor).
template <class T>
T get(std::string_view in, std::size_t at = 0, std::size_t n = sizeof(T)) {
  T v{};
  std::memcpy(&v, in.data() + at, std::min(n, sizeof(T)));
  return v;
}

DecodeError bad(std::string why, int err = EPROTO) { return DecodeError{std::move(why), err}; }

template <class T>
Decoded<T> fail(std::string why, int err = EPROTO) {
  Decoded<T> d;
  d.error = bad(std::move(why), err);
  return d;
}

template <class T>
Decoded<T> okv(T v) {
  Decoded<T> d;
  d.value = std::move(v);
  return d;
}

std::string short_body(std::string_view what, std::size_t got, std::size_t want) {
  return std::string(what) + " body of " + std::to_string(got) + " bytes, expected " +
         std::to_string(want);
}

constexpr std::uint64_t kNsPerSec = 1'000'000'000;

bool to_vtime(std::uint64_t sec, std::uint32_t nsec, sim::VTime* out) {
  if (nsec >= kNsPerSec) return false;
  if (sec > (std::numeric_limits<std::uint64_t>::max() - nsec) / kNsPerSec) return false;
  *out = sec * kNsPerSec + nsec;
  return true;
}

}  // namespace

std::string_view opcode_name(std::uint32_t opcode) {
  if (opcode < std::size(kOpNames) && !kOpNames[opcode].empty()) return kOpNames[opcode];
  if (opcode == CUSE_INIT) return "CUSE_INIT";
  return "OP#?";
}

std::string_view notify_name(std::int32_t code) {
  if (code > 0 && static_cast<std::size_t>(code) < std::size(kNotifyNames)) {
    return kNotifyNames[code];
  }
  return "NOTIFY#?";
}

std::size_t entry_out_size(std::uint32_t minor) {
  return minor < 9 ? FUSE_COMPAT_ENTRY_OUT_SIZE : sizeof(fuse_entry_out);
}
std::size_t attr_out_size(std::uint32_t minor) {
  return minor < 9 ? FUSE_COMPAT_ATTR_OUT_SIZE : sizeof(fuse_attr_out);
}
std::size_t write_in_size(std::uint32_t minor) {
  return minor < 9 ? FUSE_COMPAT_WRITE_IN_SIZE : sizeof(fuse_write_in);
}
std::size_t mknod_in_size(std::uint32_t minor) {
  return minor < 12 ? FUSE_COMPAT_MKNOD_IN_SIZE : sizeof(fuse_mknod_in);
}
std::size_t create_in_size(std::uint32_t minor) {
  return minor < 12 ? sizeof(fuse_open_in) : sizeof(fuse_create_in);
}
std::size_t read_in_size(std::uint32_t minor) { return minor < 9 ? 24 : sizeof(fuse_read_in); }
std::size_t getattr_in_size(std::uint32_t minor) { return minor < 9 ? 0 : sizeof(fuse_getattr_in); }
std::size_t init_out_min_size(std::uint32_t minor) {
  if (minor < 5) return FUSE_COMPAT_INIT_OUT_SIZE;
  if (minor < 23) return FUSE_COMPAT_22_INIT_OUT_SIZE;
  return 64;  // sizeof(fuse_init_out) from 7.23 on
}

// ---------------------------------------------------------------------------
// Requests

std::string encode_request(const InHeader& h, std::string_view body) {
  std::string out;
  encode_request_into(&out, h, body);
  return out;
}

void encode_request_into(std::string* out, const InHeader& h, std::string_view body) {
  fuse_in_header ih{};
  ih.len = static_cast<std::uint32_t>(kInHeaderBytes + body.size());
  ih.opcode = h.opcode;
  ih.unique = h.unique;
  ih.nodeid = h.nodeid;
  ih.uid = h.uid;
  ih.gid = h.gid;
  ih.pid = h.pid;
  out->clear();
  out->reserve(ih.len);
  put(out, ih);
  out->append(body);
}

std::string body_init(std::uint32_t max_readahead, std::uint32_t flags) {
  fuse_init_in in{};
  in.major = kOurMajor;
  in.minor = kOurMinor;
  in.max_readahead = max_readahead;
  in.flags = flags;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_name(std::string_view name) {
  std::string out;
  put_cstr(&out, name);
  return out;
}

std::string body_forget(std::uint64_t nlookup) {
  fuse_forget_in in{};
  in.nlookup = nlookup;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_getattr(std::uint32_t minor, std::uint32_t flags, std::uint64_t fh) {
  fuse_getattr_in in{};
  in.getattr_flags = flags;
  in.fh = fh;
  std::string out;
  put(&out, in, getattr_in_size(minor));
  return out;
}

std::string body_setattr(const fuse_setattr_in& in) {
  std::string out;
  put(&out, in);
  return out;
}

std::string body_mknod(std::uint32_t minor, std::uint32_t mode, std::uint32_t rdev,
                       std::uint32_t umask, std::string_view name) {
  fuse_mknod_in in{};
  in.mode = mode;
  in.rdev = rdev;
  in.umask = umask;
  std::string out;
  put(&out, in, mknod_in_size(minor));
  put_cstr(&out, name);
  return out;
}

std::string body_mkdir(std::uint32_t mode, std::uint32_t umask, std::string_view name) {
  fuse_mkdir_in in{};
  in.mode = mode;
  in.umask = umask;
  std::string out;
  put(&out, in);
  put_cstr(&out, name);
  return out;
}

std::string body_symlink(std::string_view name, std::string_view target) {
  std::string out;
  put_cstr(&out, name);
  put_cstr(&out, target);
  return out;
}

std::string body_rename(std::uint64_t newdir, std::string_view oldname, std::string_view newname) {
  fuse_rename_in in{};
  in.newdir = newdir;
  std::string out;
  put(&out, in);
  put_cstr(&out, oldname);
  put_cstr(&out, newname);
  return out;
}

std::string body_link(std::uint64_t oldnodeid, std::string_view newname) {
  fuse_link_in in{};
  in.oldnodeid = oldnodeid;
  std::string out;
  put(&out, in);
  put_cstr(&out, newname);
  return out;
}

std::string body_open(std::uint32_t flags) {
  fuse_open_in in{};
  in.flags = flags;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_create(std::uint32_t minor, std::uint32_t flags, std::uint32_t mode,
                        std::uint32_t umask, std::string_view name) {
  fuse_create_in in{};
  in.flags = flags;
  in.mode = mode;
  in.umask = umask;
  std::string out;
  put(&out, in, create_in_size(minor));
  put_cstr(&out, name);
  return out;
}

std::string body_read(std::uint32_t minor, std::uint64_t fh, std::uint64_t offset,
                      std::uint32_t size, std::uint32_t flags) {
  fuse_read_in in{};
  in.fh = fh;
  in.offset = offset;
  in.size = size;
  in.flags = flags;
  std::string out;
  put(&out, in, read_in_size(minor));
  return out;
}

std::string body_write(std::uint32_t minor, std::uint64_t fh, std::uint64_t offset,
                       std::string_view data, std::uint32_t write_flags, std::uint32_t flags) {
  fuse_write_in in{};
  in.fh = fh;
  in.offset = offset;
  in.size = static_cast<std::uint32_t>(data.size());
  in.write_flags = write_flags;
  in.flags = flags;
  std::string out;
  out.reserve(sizeof(in) + data.size());
  put(&out, in, write_in_size(minor));
  out.append(data);
  return out;
}

std::string body_release(std::uint64_t fh, std::uint32_t flags) {
  fuse_release_in in{};
  in.fh = fh;
  in.flags = flags;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_flush(std::uint64_t fh, std::uint64_t lock_owner) {
  fuse_flush_in in{};
  in.fh = fh;
  in.lock_owner = lock_owner;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_fsync(std::uint64_t fh, std::uint32_t fsync_flags) {
  fuse_fsync_in in{};
  in.fh = fh;
  in.fsync_flags = fsync_flags;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_access(std::uint32_t mask) {
  fuse_access_in in{};
  in.mask = mask;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_getxattr(std::string_view name, std::uint32_t size) {
  fuse_getxattr_in in{};
  in.size = size;
  std::string out;
  put(&out, in);
  put_cstr(&out, name);
  return out;
}

std::string body_listxattr(std::uint32_t size) {
  fuse_getxattr_in in{};
  in.size = size;
  std::string out;
  put(&out, in);
  return out;
}

// Without FUSE_SETXATTR_EXT (never asked for) the body is the 8-byte
// compat struct: size and flags.
std::string body_setxattr(std::string_view name, std::string_view value, std::uint32_t flags) {
  fuse_setxattr_in in{};
  in.size = static_cast<std::uint32_t>(value.size());
  in.flags = flags;
  std::string out;
  put(&out, in, FUSE_COMPAT_SETXATTR_IN_SIZE);
  put_cstr(&out, name);
  out.append(value);
  return out;
}

std::string body_interrupt(std::uint64_t unique) {
  fuse_interrupt_in in{};
  in.unique = unique;
  std::string out;
  put(&out, in);
  return out;
}

std::string body_notify_reply(std::uint64_t offset, std::string_view data) {
  fuse_notify_retrieve_in in{};
  in.offset = offset;
  in.size = static_cast<std::uint32_t>(data.size());
  std::string out;
  put(&out, in);
  out.append(data);
  return out;
}

Decoded<std::pair<InHeader, std::string_view>> decode_request(std::string_view bytes) {
  using R = std::pair<InHeader, std::string_view>;
  if (bytes.size() < kInHeaderBytes) {
    return fail<R>("request of " + std::to_string(bytes.size()) +
                   " bytes is shorter than a header");
  }
  const auto ih = get<fuse_in_header>(bytes);
  if (ih.len != bytes.size()) {
    return fail<R>("request length field " + std::to_string(ih.len) + " but " +
                   std::to_string(bytes.size()) + " bytes");
  }
  InHeader h{ih.opcode, ih.unique, ih.nodeid, ih.uid, ih.gid, ih.pid};
  return okv(R{h, bytes.substr(kInHeaderBytes)});
}

// ---------------------------------------------------------------------------
// Replies

Decoded<Message> decode_message(std::string_view bytes) {
  if (bytes.size() < kOutHeaderBytes) {
    return fail<Message>("message of " + std::to_string(bytes.size()) +
                         " bytes is shorter than a fuse_out_header");
  }
  const auto oh = get<fuse_out_header>(bytes);
  if (oh.len != bytes.size()) {
    return fail<Message>("length field " + std::to_string(oh.len) + " disagrees with the " +
                         std::to_string(bytes.size()) + " bytes received");
  }
  Message m{{oh.len, oh.error, oh.unique}, bytes.substr(kOutHeaderBytes)};
  if (!m.h.notification()) {
    if (oh.error > 0 || oh.error <= -4096) {
      return fail<Message>("reply to unique " + std::to_string(oh.unique) + " has error " +
                           std::to_string(oh.error) + ", outside (-4096, 0]");
    }
    if (oh.error != 0 && !m.body.empty()) {
      return fail<Message>("error reply to unique " + std::to_string(oh.unique) + " carries " +
                           std::to_string(m.body.size()) + " bytes of body");
    }
  }
  return okv(m);
}

std::optional<vn::VType> vtype_of_mode(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return vn::VType::VREG;
    case S_IFDIR: return vn::VType::VDIR;
    case S_IFLNK: return vn::VType::VLNK;
    case S_IFIFO: return vn::VType::VFIFO;
    case S_IFCHR: return vn::VType::VCHR;
    case S_IFBLK: return vn::VType::VBLK;
    case S_IFSOCK: return vn::VType::VSOCK;
    default: return std::nullopt;
  }
}

std::uint32_t mode_of_vtype(vn::VType t) {
  switch (t) {
    case vn::VType::VREG: return S_IFREG;
    case vn::VType::VDIR: return S_IFDIR;
    case vn::VType::VLNK: return S_IFLNK;
    case vn::VType::VFIFO: return S_IFIFO;
    case vn::VType::VCHR: return S_IFCHR;
    case vn::VType::VBLK: return S_IFBLK;
    case vn::VType::VSOCK: return S_IFSOCK;
    case vn::VType::VNON: return 0;
  }
  return 0;
}

vn::VType vtype_of_dirent_type(std::uint32_t dt) {
  switch (dt) {
    case DT_REG: return vn::VType::VREG;
    case DT_DIR: return vn::VType::VDIR;
    case DT_LNK: return vn::VType::VLNK;
    case DT_FIFO: return vn::VType::VFIFO;
    case DT_CHR: return vn::VType::VCHR;
    case DT_BLK: return vn::VType::VBLK;
    case DT_SOCK: return vn::VType::VSOCK;
    default: return vn::VType::VNON;  // DT_UNKNOWN: the kernel asks later
  }
}

Decoded<Attr> decode_attr(const fuse_attr& a) {
  const auto type = vtype_of_mode(a.mode);
  if (!type)
    return fail<Attr>("attribute mode " + std::to_string(a.mode) + " has no file type", EIO);
  if (a.size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail<Attr>("attribute size " + std::to_string(a.size) + " past INT64_MAX", EIO);
  }
  Attr out;
  out.raw_mode = a.mode;
  vn::Vattr& va = out.va;
  va.type = *type;
  va.mode = a.mode & vn::kModeMask;
  va.nlink = a.nlink;
  va.uid = a.uid;
  va.gid = a.gid;
  va.fileid = a.ino;
  va.size = a.size;
  va.bytes = a.blocks * 512;
  va.blocksize = a.blksize != 0 ? a.blksize : 4096;
  va.rdev = a.rdev;
  if (!to_vtime(a.atime, a.atimensec, &va.atime) || !to_vtime(a.mtime, a.mtimensec, &va.mtime) ||
      !to_vtime(a.ctime, a.ctimensec, &va.ctime)) {
    return fail<Attr>("attribute time out of range (nanoseconds past a second, or overflow)", EIO);
  }
  va.birthtime = va.ctime;
  return okv(std::move(out));
}

Decoded<Entry> decode_entry(std::string_view body, std::uint32_t minor) {
  const std::size_t want = entry_out_size(minor);
  if (body.size() != want) return fail<Entry>(short_body("entry", body.size(), want));
  const auto e = get<fuse_entry_out>(body, 0, want);
  Entry out;
  out.nodeid = e.nodeid;
  out.generation = e.generation;
  if (e.nodeid == 0) return okv(std::move(out));  // negative entry: the attributes mean nothing
  if (e.nodeid == kRootNodeId && e.generation != 0) {
    return fail<Entry>("entry names the root with generation " + std::to_string(e.generation), EIO);
  }
  auto a = decode_attr(e.attr);
  if (!a.ok()) return fail<Entry>("entry: " + a.error.why, a.error.err);
  out.attr = *a;
  return okv(std::move(out));
}

Decoded<Attr> decode_attr_out(std::string_view body, std::uint32_t minor) {
  const std::size_t want = attr_out_size(minor);
  if (body.size() != want) return fail<Attr>(short_body("attr", body.size(), want));
  return decode_attr(get<fuse_attr_out>(body, 0, want).attr);
}

Decoded<OpenOut> decode_open_out(std::string_view body) {
  if (body.size() != sizeof(fuse_open_out)) {
    return fail<OpenOut>(short_body("open", body.size(), sizeof(fuse_open_out)));
  }
  const auto o = get<fuse_open_out>(body);
  return okv(OpenOut{o.fh, o.open_flags});
}

Decoded<std::pair<Entry, OpenOut>> decode_create_out(std::string_view body, std::uint32_t minor) {
  using R = std::pair<Entry, OpenOut>;
  const std::size_t esz = entry_out_size(minor);
  if (body.size() != esz + sizeof(fuse_open_out)) {
    return fail<R>(short_body("create", body.size(), esz + sizeof(fuse_open_out)));
  }
  auto e = decode_entry(body.substr(0, esz), minor);
  if (!e.ok()) return fail<R>(e.error.why, e.error.err);
  if (e->negative()) return fail<R>("create answered a negative entry", EIO);
  auto o = decode_open_out(body.substr(esz));
  if (!o.ok()) return fail<R>(o.error.why, o.error.err);
  return okv(R{*e, *o});
}

Decoded<std::uint32_t> decode_write_out(std::string_view body, std::uint32_t asked) {
  if (body.size() != sizeof(fuse_write_out)) {
    return fail<std::uint32_t>(short_body("write", body.size(), sizeof(fuse_write_out)));
  }
  const auto w = get<fuse_write_out>(body);
  if (w.size > asked) {
    return fail<std::uint32_t>(
        "write reply says " + std::to_string(w.size) + " bytes of " + std::to_string(asked), EIO);
  }
  return okv(w.size);
}

Decoded<vn::StatVfs> decode_statfs_out(std::string_view body) {
  if (body.size() != sizeof(fuse_statfs_out) && body.size() != FUSE_COMPAT_STATFS_SIZE) {
    return fail<vn::StatVfs>(short_body("statfs", body.size(), sizeof(fuse_statfs_out)));
  }
  const auto s = get<fuse_statfs_out>(body, 0, body.size()).st;
  vn::StatVfs out;
  out.bsize = s.bsize;
  out.frsize = s.frsize != 0 ? s.frsize : s.bsize;
  out.blocks = s.blocks;
  out.bfree = s.bfree;
  out.bavail = s.bavail;
  out.files = s.files;
  out.ffree = s.ffree;
  out.favail = s.ffree;
  out.namemax = s.namelen;
  out.fstypename = "fuse";
  return okv(std::move(out));
}

Decoded<std::uint32_t> decode_xattr_size(std::string_view body) {
  if (body.size() != sizeof(fuse_getxattr_out)) {
    return fail<std::uint32_t>(short_body("getxattr size", body.size(), sizeof(fuse_getxattr_out)));
  }
  return okv(get<fuse_getxattr_out>(body).size);
}

Decoded<std::vector<std::string>> decode_xattr_names(std::string_view body) {
  using R = std::vector<std::string>;
  R out;
  if (body.empty()) return okv(std::move(out));
  if (body.back() != '\0') return fail<R>("xattr name list does not end in NUL", EIO);
  std::size_t at = 0;
  while (at < body.size()) {
    const std::size_t nul = body.find('\0', at);
    if (nul == at) return fail<R>("empty name in the xattr name list", EIO);
    out.emplace_back(body.substr(at, nul - at));
    at = nul + 1;
  }
  return okv(std::move(out));
}

// FUSE_DIRENT_ALIGN: each entry is padded to 8 bytes; an entry whose
// padded length runs past the buffer is a lie (Linux stops at it; we fail
// the whole reply, since its count of bytes cannot be trusted).
Decoded<std::vector<Dirent>> decode_dirents(std::string_view body) {
  using R = std::vector<Dirent>;
  R out;
  std::size_t at = 0;
  constexpr std::size_t kHead = offsetof(fuse_dirent, name);
  while (at < body.size()) {
    if (body.size() - at < kHead) return fail<R>("directory entry header past the buffer", EIO);
    const auto d = get<fuse_dirent>(body, at, kHead);
    if (d.namelen == 0 || d.namelen > kNameMax) {
      return fail<R>("directory entry name length " + std::to_string(d.namelen), EIO);
    }
    const std::size_t reclen = (kHead + d.namelen + 7) & ~std::size_t{7};
    if (reclen > body.size() - at) return fail<R>("directory entry runs past the buffer", EIO);
    std::string_view name = body.substr(at + kHead, d.namelen);
    if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
      return fail<R>("directory entry name contains '/' or NUL", EIO);
    }
    out.push_back(Dirent{d.ino, d.off, d.type, std::string(name)});
    at += reclen;
  }
  return okv(std::move(out));
}

Decoded<InitOut> decode_init_out(std::string_view body, std::uint32_t kernel_minor) {
  if (body.size() < FUSE_COMPAT_INIT_OUT_SIZE) {
    return fail<InitOut>(short_body("init", body.size(), FUSE_COMPAT_INIT_OUT_SIZE));
  }
  const auto o = get<fuse_init_out>(body, 0, body.size());
  InitOut out{o.major,     o.minor,          o.max_readahead,
              o.flags,     o.max_background, o.congestion_threshold,
              o.max_write, o.time_gran,      o.max_pages};
  // A daemon answering another major sends only major/minor (it wants a new
  // INIT); negotiate() refuses that. Otherwise the size follows the minor.
  if (o.major == kOurMajor) {
    const std::size_t want = init_out_min_size(std::min(o.minor, kernel_minor));
    if (body.size() < want) return fail<InitOut>(short_body("init", body.size(), want));
    if (body.size() > sizeof(fuse_init_out)) {
      return fail<InitOut>(short_body("init", body.size(), sizeof(fuse_init_out)));
    }
  }
  return okv(out);
}

Decoded<Negotiated> negotiate(std::uint32_t our_minor, std::uint32_t our_flags,
                              const InitOut& theirs) {
  if (theirs.major != kOurMajor) {
    return fail<Negotiated>("daemon speaks protocol major " + std::to_string(theirs.major) +
                            ", the kernel " + std::to_string(kOurMajor));
  }
  Negotiated n;
  n.major = kOurMajor;
  n.minor = std::min(our_minor, theirs.minor);
  n.max_write = n.minor < 5 ? 4096 : std::max<std::uint32_t>(4096, theirs.max_write);
  n.max_readahead = theirs.max_readahead;
  n.flags = n.minor < 6 ? 0 : (theirs.flags & our_flags);
  return okv(n);
}

// ---------------------------------------------------------------------------
// Notifications

namespace {

// A name that follows a struct and must be `namelen` bytes plus a NUL.
bool take_name(std::string_view body, std::size_t at, std::uint32_t namelen, std::string* out,
               std::string* why) {
  if (namelen == 0 || namelen > kNameMax) {
    *why = "name length " + std::to_string(namelen);
    return false;
  }
  if (body.size() != at + namelen + 1) {
    *why = "body of " + std::to_string(body.size()) + " bytes for a name of " +
           std::to_string(namelen);
    return false;
  }
  if (body[at + namelen] != '\0') {
    *why = "name not NUL-terminated";
    return false;
  }
  std::string_view name = body.substr(at, namelen);
  if (name.find('\0') != std::string_view::npos || name.find('/') != std::string_view::npos) {
    *why = "name contains '/' or NUL";
    return false;
  }
  out->assign(name);
  return true;
}

}  // namespace

Decoded<Notification> decode_notification(std::int32_t code, std::string_view body) {
  using N = Notification;
  const std::string what(notify_name(code));
  auto need = [&](std::size_t n) { return body.size() >= n; };
  std::string why;
  switch (code) {
    case FUSE_NOTIFY_POLL: {
      if (body.size() != sizeof(fuse_notify_poll_wakeup_out)) break;
      return okv(N{NotifyPoll{get<fuse_notify_poll_wakeup_out>(body).kh}});
    }
    case FUSE_NOTIFY_INVAL_INODE: {
      if (body.size() != sizeof(fuse_notify_inval_inode_out)) break;
      const auto o = get<fuse_notify_inval_inode_out>(body);
      return okv(N{NotifyInvalInode{o.ino, o.off, o.len}});
    }
    case FUSE_NOTIFY_INVAL_ENTRY: {
      if (!need(sizeof(fuse_notify_inval_entry_out))) break;
      const auto o = get<fuse_notify_inval_entry_out>(body);
      NotifyInvalEntry n{o.parent, {}};
      if (!take_name(body, sizeof(o), o.namelen, &n.name, &why)) {
        return fail<N>(what + ": " + why, EINVAL);
      }
      return okv(N{std::move(n)});
    }
    case FUSE_NOTIFY_STORE: {
      if (!need(sizeof(fuse_notify_store_out))) break;
      const auto o = get<fuse_notify_store_out>(body);
      if (body.size() - sizeof(o) != o.size) {
        return fail<N>(what + ": size field " + std::to_string(o.size) + " but " +
                           std::to_string(body.size() - sizeof(o)) + " bytes of data",
                       EINVAL);
      }
      return okv(N{NotifyStore{o.nodeid, o.offset, std::string(body.substr(sizeof(o)))}});
    }
    case FUSE_NOTIFY_RETRIEVE: {
      if (body.size() != sizeof(fuse_notify_retrieve_out)) break;
      const auto o = get<fuse_notify_retrieve_out>(body);
      return okv(N{NotifyRetrieve{o.notify_unique, o.nodeid, o.offset, o.size}});
    }
    case FUSE_NOTIFY_DELETE: {
      if (!need(sizeof(fuse_notify_delete_out))) break;
      const auto o = get<fuse_notify_delete_out>(body);
      NotifyDelete n{o.parent, o.child, {}};
      if (!take_name(body, sizeof(o), o.namelen, &n.name, &why)) {
        return fail<N>(what + ": " + why, EINVAL);
      }
      return okv(N{std::move(n)});
    }
    default: return fail<N>("unknown notify code " + std::to_string(code), EINVAL);
  }
  return fail<N>(
      what + " notification body of " + std::to_string(body.size()) + " bytes has the wrong size",
      EINVAL);
}

}  // namespace vfsim::fuse
