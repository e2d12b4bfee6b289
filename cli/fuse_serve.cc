// FUSE requests answered by vfsim's kernel (fuse_serve.h).
#include "cli/fuse_serve.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>  // RENAME_NOREPLACE
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "vfs/namei.h"

namespace vfsim::cli {

using vfs::Result;
using vfs::Status;

namespace {

// Reads a request body front to back; every read is bounds-checked.
class Body {
 public:
  explicit Body(std::string_view b) : b_(b) {}
  template <class T>
  bool get(T* out) {
    if (b_.size() < sizeof(T)) return false;
    std::memcpy(out, b_.data(), sizeof(T));
    b_.remove_prefix(sizeof(T));
    return true;
  }
  bool skip(std::size_t n) {
    if (b_.size() < n) return false;
    b_.remove_prefix(n);
    return true;
  }
  // A NUL-terminated name (non-empty, no '/').
  bool name(std::string_view* out) {
    const auto nul = b_.find('\0');
    if (nul == std::string_view::npos || nul == 0) return false;
    *out = b_.substr(0, nul);
    b_.remove_prefix(nul + 1);
    return true;
  }
  std::string_view rest() const { return b_; }

 private:
  std::string_view b_;
};

template <class T>
void put(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

std::uint32_t dirent_type(vn::VType t) {
  switch (t) {
    case vn::VType::VREG: return DT_REG;
    case vn::VType::VDIR: return DT_DIR;
    case vn::VType::VLNK: return DT_LNK;
    case vn::VType::VCHR: return DT_CHR;
    case vn::VType::VBLK: return DT_BLK;
    case vn::VType::VFIFO: return DT_FIFO;
    case vn::VType::VSOCK: return DT_SOCK;
    default: return DT_UNKNOWN;
  }
}

constexpr std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

// The open(2) flags of an OPEN or CREATE that vfsim's open honours. The host
// kernel computes append offsets itself and sends them.
int open_flags(std::uint32_t f) {
  return static_cast<int>(f) & (O_ACCMODE | O_TRUNC | O_EXCL | O_DIRECTORY | O_NOFOLLOW);
}

bool is_change(std::uint32_t op) {
  switch (op) {
    case FUSE_SETATTR:
    case FUSE_SYMLINK:
    case FUSE_MKNOD:
    case FUSE_MKDIR:
    case FUSE_UNLINK:
    case FUSE_RMDIR:
    case FUSE_RENAME:
    case FUSE_RENAME2:
    case FUSE_LINK:
    case FUSE_CREATE:
    case FUSE_WRITE:
    case FUSE_SETXATTR:
    case FUSE_REMOVEXATTR: return true;
    default: return false;
  }
}

}  // namespace

constexpr std::size_t kSizeLockStripes = 16;

FuseServe::FuseServe(vfs::Kernel& k, vfs::Proc& p, FuseServeOptions o) : k_(k), p_(p), o_(o) {
  if (o_.concurrent && o_.size_lock) {
    for (std::size_t i = 0; i < kSizeLockStripes; ++i) {
      size_locks_.push_back(
          std::make_unique<sim::Mutex>(k_.machine(), "fuse size lock " + std::to_string(i)));
    }
  }
}

FuseServe::SizeKeys FuseServe::size_keys(std::string_view request) const {
  SizeKeys k;
  fuse_in_header h{};
  if (request.size() < sizeof h) return k;
  std::memcpy(&h, request.data(), sizeof h);
  Body body(request.substr(sizeof h));
  const auto node = nodes_.find(h.nodeid);
  const std::uint64_t node_ino = node != nodes_.end() ? node->second.ino : 0;
  auto handle_ino = [&](std::uint64_t fh) -> std::uint64_t {
    const auto it = handles_.find(fh);
    return it != handles_.end() && !it->second.dir ? it->second.ino : 0;
  };
  switch (h.opcode) {
    case FUSE_GETATTR: k.read = node_ino; break;
    case FUSE_SETATTR: {
      fuse_setattr_in in{};
      if (!body.get(&in)) break;
      k.read = node_ino;
      if ((in.valid & FATTR_SIZE) != 0) {
        const std::uint64_t fh_ino = (in.valid & FATTR_FH) != 0 ? handle_ino(in.fh) : 0;
        k.changed = fh_ino != 0 ? fh_ino : node_ino;
      }
      break;
    }
    case FUSE_WRITE: {
      fuse_write_in in{};
      if (body.get(&in)) k.changed = handle_ino(in.fh);
      break;
    }
    case FUSE_OPEN: {
      fuse_open_in in{};
      if (body.get(&in) && (in.flags & O_TRUNC) != 0) k.changed = node_ino;
      break;
    }
    case FUSE_CREATE: {
      // It may truncate a file that already exists, known only once it is
      // open: every stripe.
      fuse_create_in in{};
      k.all = body.get(&in) && (in.flags & O_TRUNC) != 0 && (in.flags & O_EXCL) == 0;
      break;
    }
    default: break;
  }
  return k;
}

std::vector<std::size_t> FuseServe::size_locks_for(const SizeKeys& k) const {
  std::vector<std::size_t> out;
  if (size_locks_.empty()) return out;
  if (k.all) {
    for (std::size_t i = 0; i < size_locks_.size(); ++i) out.push_back(i);
    return out;
  }
  for (std::uint64_t ino : {k.read, k.changed}) {
    if (ino != 0) out.push_back(ino % size_locks_.size());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string FuseServe::check_sizes(std::string_view request, std::string_view reply,
                                   const SizeKeys& k) {
  fuse_in_header h{};
  fuse_out_header oh{};
  if (request.size() < sizeof h || reply.size() < sizeof oh) return "";
  std::memcpy(&h, request.data(), sizeof h);
  std::memcpy(&oh, reply.data(), sizeof oh);
  if (oh.error != 0) return "";
  Body in_body(request.substr(sizeof h));
  Body out_body(reply.substr(sizeof oh));
  // A reply's attributes (of the file they name): the size must not be below
  // a write answered since the last truncation answered.
  auto check = [&](const fuse_attr& a, const char* what) -> std::string {
    auto it = acked_size_.find(a.ino);
    if (it == acked_size_.end() || a.size >= it->second) return "";
    return std::string(what) + " of node " + std::to_string(h.nodeid) + " (unique " +
           std::to_string(h.unique) + ", inode " + std::to_string(a.ino) + ") answered size " +
           std::to_string(a.size) + " after a WRITE up to " + std::to_string(it->second) +
           " was answered: a stale size, which a host that applies it truncates the written "
           "bytes under (knob mount.size_lock)";
  };
  switch (h.opcode) {
    case FUSE_WRITE: {
      fuse_write_in in{};
      fuse_write_out wo{};
      if (k.changed == 0 || !in_body.get(&in) || !out_body.get(&wo)) return "";
      std::uint64_t& acked = acked_size_[k.changed];
      acked = std::max(acked, in.offset + wo.size);
      return "";
    }
    case FUSE_SETATTR: {
      fuse_setattr_in in{};
      fuse_attr_out ao{};
      if (!in_body.get(&in) || !out_body.get(&ao)) return "";
      if ((in.valid & FATTR_SIZE) != 0 && k.changed != 0) acked_size_[k.changed] = in.size;
      return check(ao.attr, "SETATTR");
    }
    case FUSE_GETATTR: {
      fuse_attr_out ao{};
      if (!out_body.get(&ao)) return "";
      return check(ao.attr, "GETATTR");
    }
    case FUSE_OPEN: {
      if (k.changed != 0) acked_size_[k.changed] = 0;
      return "";
    }
    case FUSE_CREATE:
    case FUSE_MKNOD: {
      // A new file (or, for a CREATE without O_EXCL, maybe an old one,
      // truncated or not): nothing known of its size. Its inode number may
      // be one a removed file had.
      fuse_entry_out eo{};
      if (out_body.get(&eo)) acked_size_.erase(eo.attr.ino);
      return "";
    }
    default: return "";
  }
}

void FuseServe::serve(std::string_view request, vfs::Proc& w,
                      const std::function<void(std::string_view)>& send, std::string* debug) {
  const SizeKeys keys = size_keys(request);
  const std::vector<std::size_t> locks = size_locks_for(keys);
  for (std::size_t i : locks) size_locks_[i]->lock();
  const std::string reply = handle(request, w, debug);
  if (!reply.empty()) send(reply);
  const std::string stale = reply.empty() ? "" : check_sizes(request, reply, keys);
  for (auto it = locks.rbegin(); it != locks.rend(); ++it) size_locks_[*it]->unlock();
  if (!stale.empty()) k_.machine().fail(sim::Outcome::expectation, stale);
}

bool FuseServe::start(std::string* reason) {
  p_.umask = 0;
  p_.fd_max = 1 << 24;
  auto fd = k_.open(p_, "/", O_PATH | O_DIRECTORY);
  if (!fd.ok()) {
    *reason = "cannot open the root: " + std::string(std::strerror(fd.err()));
    return false;
  }
  auto st = stat_fd(p_, *fd);
  if (!st.ok()) {
    *reason = "cannot stat the root: " + std::string(std::strerror(st.err()));
    return false;
  }
  nodes_[FUSE_ROOT_ID] = Node{*fd, st->ino, 1};
  by_ino_[st->ino] = FUSE_ROOT_ID;
  return true;
}

Result<vfs::Stat> FuseServe::stat_fd(vfs::Proc& w, int fd) {
  return k_.fstatat(w, fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

// A descriptor of the holder lent to worker `w` for one request: the same
// open file under a descriptor of w's own (none needed when w is the holder).
class FuseServe::Lend {
 public:
  Lend(vfs::Kernel& k, vfs::Proc& holder, vfs::Proc& w, Result<int> fd) : k_(k), w_(w) {
    if (!fd.ok()) {
      status_ = fd.status();
    } else if (&holder == &w) {
      fd_ = *fd;
    } else {
      auto r = k.fd_share(holder, *fd, w);
      if (r.ok()) {
        fd_ = *r;
        own_ = true;
      } else {
        status_ = r.status();
      }
    }
  }
  ~Lend() {
    if (own_) (void)k_.close(w_, fd_);
  }
  Lend(const Lend&) = delete;
  Lend& operator=(const Lend&) = delete;
  bool ok() const { return status_.ok(); }
  Status status() const { return status_; }
  int operator*() const { return fd_; }

 private:
  vfs::Kernel& k_;
  vfs::Proc& w_;
  int fd_ = -1;
  bool own_ = false;
  Status status_ = vn::kOk;
};

Result<int> FuseServe::adopt(vfs::Proc& w, int fd) {
  if (&w == &p_) return fd;
  return k_.fd_pass(w, fd, p_);
}

Result<int> FuseServe::node_fd(std::uint64_t nodeid) const {
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end()) return Status(ESTALE);
  return it->second.fd;
}

Result<int> FuseServe::handle_fd(std::uint64_t fh, bool dir) const {
  auto it = handles_.find(fh);
  if (it == handles_.end() || it->second.dir != dir) return Status(EBADF);
  return static_cast<int>(fh);
}

Result<FuseServe::Entry> FuseServe::lookup(vfs::Proc& w, int dirfd, std::string_view name) {
  auto fd = k_.openat(w, dirfd, name, O_PATH | O_NOFOLLOW);
  if (!fd.ok()) return fd.status();
  auto st = stat_fd(w, *fd);
  if (!st.ok()) {
    (void)k_.close(w, *fd);
    return st.status();
  }
  // No scheduling point between the search and the count or the insertion:
  // another worker's FORGET or LOOKUP of the same file sees either before or
  // after.
  auto known = by_ino_.find(st->ino);
  if (known != by_ino_.end()) {
    const std::uint64_t id = known->second;
    ++nodes_[id].nlookup;
    (void)k_.close(w, *fd);
    return Entry{id, *st};
  }
  const std::uint64_t id = next_nodeid_++;
  nodes_[id] = Node{-1, st->ino, 1};
  by_ino_[st->ino] = id;
  auto held = adopt(w, *fd);
  if (!held.ok()) {
    nodes_.erase(id);
    by_ino_.erase(st->ino);
    return held.status();
  }
  auto it = nodes_.find(id);
  if (it == nodes_.end()) {  // forgotten meanwhile (cannot be: not yet sent)
    (void)k_.close(p_, *held);
    return Status(ESTALE);
  }
  it->second.fd = *held;
  return Entry{id, *st};
}

void FuseServe::forget(std::uint64_t nodeid, std::uint64_t n) {
  auto it = nodes_.find(nodeid);
  if (it == nodes_.end() || nodeid == FUSE_ROOT_ID) return;
  Node& node = it->second;
  node.nlookup -= std::min(n, node.nlookup);
  if (node.nlookup != 0) return;
  const int fd = node.fd;
  by_ino_.erase(node.ino);
  // The host forgot the file, and its size with it; the inode number may
  // name a new file next.
  acked_size_.erase(node.ino);
  nodes_.erase(it);
  if (fd >= 0) (void)k_.close(p_, fd);
}

std::string FuseServe::attr_bytes(const vfs::Stat& st) const {
  fuse_attr a{};
  a.ino = st.ino;
  a.size = st.size;
  a.blocks = st.blocks;
  a.atime = static_cast<std::uint64_t>(st.atime / 1'000'000'000);
  a.atimensec = static_cast<std::uint32_t>(st.atime % 1'000'000'000);
  a.mtime = static_cast<std::uint64_t>(st.mtime / 1'000'000'000);
  a.mtimensec = static_cast<std::uint32_t>(st.mtime % 1'000'000'000);
  a.ctime = static_cast<std::uint64_t>(st.ctime / 1'000'000'000);
  a.ctimensec = static_cast<std::uint32_t>(st.ctime % 1'000'000'000);
  a.mode = st.mode;
  a.nlink = st.nlink;
  a.uid = st.uid;
  a.gid = st.gid;
  a.rdev = static_cast<std::uint32_t>(st.rdev);
  a.blksize = static_cast<std::uint32_t>(st.blksize);
  std::string out;
  put(&out, a);
  return out;
}

Result<std::string> FuseServe::lookup_entry(vfs::Proc& w, int dirfd, std::string_view name) {
  auto e = lookup(w, dirfd, name);
  if (!e.ok()) return e.status();
  return entry_bytes(*e);
}

std::string FuseServe::entry_bytes(const Entry& e) const {
  fuse_entry_out eo{};
  eo.nodeid = e.nodeid;
  eo.entry_valid = o_.valid_ns / 1'000'000'000;
  eo.entry_valid_nsec = static_cast<std::uint32_t>(o_.valid_ns % 1'000'000'000);
  eo.attr_valid = eo.entry_valid;
  eo.attr_valid_nsec = eo.entry_valid_nsec;
  const std::string a = attr_bytes(e.st);
  std::memcpy(&eo.attr, a.data(), sizeof(eo.attr));
  std::string out;
  put(&out, eo);
  return out;
}

std::string FuseServe::handle(std::string_view request, vfs::Proc& w, std::string* debug) {
  ++requests_;
  fuse_in_header h{};
  if (request.size() < sizeof h) return {};  // not a request: nothing to answer
  std::memcpy(&h, request.data(), sizeof h);
  std::string_view body = request.substr(sizeof h);
  if (h.len != request.size()) body = {};  // a length that disagrees: EINVAL below
  w.cred = vn::Cred{h.uid, h.gid, {}};
  bool no_reply = false;
  Result<std::string> r = Status(EINVAL);
  if (h.len == request.size()) {
    if (!initialised_ && h.opcode != FUSE_INIT) {
      r = Status(EIO);
    } else if (o_.read_only && is_change(h.opcode)) {
      r = Status(EROFS);
    } else {
      r = dispatch(w, h.opcode, h.nodeid, body, &no_reply);
    }
  }
  w.cred = vn::Cred{};
  if (debug != nullptr) {
    *debug = "unique " + std::to_string(h.unique) + " op " + std::to_string(h.opcode) + " node " +
             std::to_string(h.nodeid) + " uid " + std::to_string(h.uid) + " pid " +
             std::to_string(h.pid) + ": " +
             (no_reply ? std::string("no reply")
              : r.ok() ? "ok " + std::to_string(r->size()) + " bytes"
                       : std::string(std::strerror(r.err())));
  }
  if (no_reply) return {};
  fuse_out_header oh{};
  oh.unique = h.unique;
  std::string out;
  if (r.ok()) {
    oh.len = static_cast<std::uint32_t>(sizeof oh + r->size());
    put(&out, oh);
    out += *r;
  } else {
    oh.error = -r.err();
    oh.len = sizeof oh;
    put(&out, oh);
  }
  return out;
}

Result<std::string> FuseServe::do_init(std::string_view body) {
  Body b(body);
  fuse_init_in in{};
  // Before 7.36 the request is 16 bytes; the rest is zero.
  if (body.size() < 16) return Status(EINVAL);
  std::memcpy(&in, body.data(), std::min(body.size(), sizeof in));
  if (in.major != FUSE_KERNEL_VERSION) return Status(EPROTO);
  minor_ = std::min<std::uint32_t>(in.minor, FUSE_KERNEL_MINOR_VERSION);
  if (minor_ < 31) return Status(EPROTO);  // older kernels: struct sizes differ
  const std::uint32_t want = FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                             FUSE_ATOMIC_O_TRUNC | FUSE_MAX_PAGES;
  fuse_init_out out{};
  out.major = FUSE_KERNEL_VERSION;
  out.minor = minor_;
  out.max_readahead = in.max_readahead;
  out.flags = in.flags & want;
  out.max_background = 16;
  out.congestion_threshold = 12;
  out.max_write = o_.max_write;
  out.time_gran = 1;
  out.max_pages = static_cast<std::uint16_t>(o_.max_write / 4096);
  initialised_ = true;
  std::string s;
  put(&s, out);
  return s;
}

Result<std::string> FuseServe::do_setattr(vfs::Proc& w, int fd, std::string_view body) {
  Body b(body);
  fuse_setattr_in in{};
  if (!b.get(&in)) return Status(EINVAL);
  if ((in.valid & FATTR_MODE) != 0) VN_TRY(k_.fchmod(w, fd, in.mode & 07777));
  if ((in.valid & (FATTR_UID | FATTR_GID)) != 0) {
    VN_TRY(k_.fchown(w, fd, (in.valid & FATTR_UID) != 0 ? in.uid : static_cast<vn::Uid>(-1),
                     (in.valid & FATTR_GID) != 0 ? in.gid : static_cast<vn::Gid>(-1)));
  }
  if ((in.valid & FATTR_SIZE) != 0) {
    if (in.size > static_cast<std::uint64_t>(INT64_MAX)) return Status(EINVAL);
    auto h = handles_.find(in.fh);
    if ((in.valid & FATTR_FH) != 0 && h != handles_.end() && !h->second.dir) {
      Lend fh(k_, p_, w, handle_fd(in.fh, false));
      VN_TRY(fh.status());
      VN_TRY(k_.ftruncate(w, *fh, static_cast<std::int64_t>(in.size)));
    } else {
      // truncate(2) by name: write permission as the caller.
      auto of = k_.getfile(w, fd);
      if (!of.ok()) return of.status();
      vn::Vnode& vp = *(*of)->vp;
      k_.vref(vp);
      k_.putfile(**of);
      auto wfd = k_.open_vnode(w, vp, O_WRONLY);
      k_.vrele(vp);
      if (!wfd.ok()) return wfd.status();
      Status s = k_.ftruncate(w, *wfd, static_cast<std::int64_t>(in.size));
      (void)k_.close(w, *wfd);
      VN_TRY(s);
    }
  }
  if ((in.valid & (FATTR_ATIME | FATTR_MTIME)) != 0) {
    vfs::Timespec t[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if ((in.valid & FATTR_ATIME) != 0) {
      t[0] = (in.valid & FATTR_ATIME_NOW) != 0
                 ? vfs::Timespec{0, UTIME_NOW}
                 : vfs::Timespec{static_cast<std::int64_t>(in.atime), in.atimensec};
    }
    if ((in.valid & FATTR_MTIME) != 0) {
      t[1] = (in.valid & FATTR_MTIME_NOW) != 0
                 ? vfs::Timespec{0, UTIME_NOW}
                 : vfs::Timespec{static_cast<std::int64_t>(in.mtime), in.mtimensec};
    }
    VN_TRY(k_.utimensat(w, fd, "", t, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
  }
  // FATTR_CTIME, FATTR_LOCKOWNER, FATTR_KILL_SUIDGID: the kernel keeps ctime
  // itself; locks are the host's; kill-suidgid is not negotiated.
  auto st = stat_fd(w, fd);
  if (!st.ok()) return st.status();
  fuse_attr_out ao{};
  ao.attr_valid = o_.valid_ns / 1'000'000'000;
  ao.attr_valid_nsec = static_cast<std::uint32_t>(o_.valid_ns % 1'000'000'000);
  const std::string a = attr_bytes(*st);
  std::memcpy(&ao.attr, a.data(), sizeof ao.attr);
  std::string s;
  put(&s, ao);
  return s;
}

Result<std::string> FuseServe::do_readdir(vfs::Proc& w, std::string_view body, bool plus) {
  Body b(body);
  fuse_read_in in{};
  if (!b.get(&in)) return Status(EINVAL);
  Lend fd(k_, p_, w, handle_fd(in.fh, true));
  if (!fd.ok()) return fd.status();
  Handle& h = handles_[in.fh];
  if (in.offset == 0 || !h.loaded) {
    h.entries.clear();
    VN_TRY(k_.lseek(w, *fd, 0, SEEK_SET).status());
    for (;;) {
      auto some = k_.getdents(w, *fd, 256);
      if (!some.ok()) return some.status();
      if (some->empty()) break;
      for (auto& d : *some) h.entries.push_back(std::move(d));
    }
    h.loaded = true;
  }
  std::string out;
  const std::size_t max = in.size;
  for (std::size_t i = in.offset; i < h.entries.size(); ++i) {
    const vn::Dirent& d = h.entries[i];
    const std::size_t rec =
        (plus ? sizeof(fuse_entry_out) : 0) + align8(FUSE_NAME_OFFSET + d.name.size());
    if (out.size() + rec > max) break;
    fuse_dirent de{};
    de.ino = d.fileid;
    de.off = i + 1;
    de.namelen = static_cast<std::uint32_t>(d.name.size());
    de.type = dirent_type(d.type);
    if (plus) {
      std::string eo(sizeof(fuse_entry_out), '\0');
      if (d.name != "." && d.name != "..") {
        // The entry counts a lookup only once it is certain to be sent.
        auto e = lookup(w, *fd, d.name);
        if (e.ok()) {
          eo = entry_bytes(*e);
          de.ino = e->st.ino;
        }
      }
      out += eo;
    }
    put(&out, de);
    out += d.name;
    out.resize(out.size() +
                   (align8(FUSE_NAME_OFFSET + d.name.size()) - (FUSE_NAME_OFFSET + d.name.size())),
               '\0');
  }
  return out;
}

Result<std::string> FuseServe::do_xattr(vfs::Proc& w, std::uint32_t opcode, int fd,
                                        std::string_view body) {
  Body b(body);
  std::string out;
  switch (opcode) {
    case FUSE_SETXATTR: {
      // Without FUSE_SETXATTR_EXT (not negotiated) the body is the 8-byte
      // compat form: size and flags.
      struct {
        std::uint32_t size, flags;
      } in{};
      static_assert(sizeof in == FUSE_COMPAT_SETXATTR_IN_SIZE);
      std::string_view name;
      if (!b.get(&in) || !b.name(&name) || b.rest().size() < in.size) return Status(EINVAL);
      VN_TRY(k_.fsetxattr(w, fd, name, b.rest().substr(0, in.size), static_cast<int>(in.flags)));
      return out;
    }
    case FUSE_GETXATTR: {
      fuse_getxattr_in in{};
      std::string_view name;
      if (!b.get(&in) || !b.name(&name)) return Status(EINVAL);
      auto v = k_.fgetxattr(w, fd, name, 0);
      if (!v.ok()) return v.status();
      if (in.size == 0) {
        fuse_getxattr_out go{};
        go.size = static_cast<std::uint32_t>(v->size());
        put(&out, go);
        return out;
      }
      if (v->size() > in.size) return Status(ERANGE);
      return *v;
    }
    case FUSE_LISTXATTR: {
      fuse_getxattr_in in{};
      if (!b.get(&in)) return Status(EINVAL);
      auto names = k_.flistxattr(w, fd, 0);
      if (!names.ok()) return names.status();
      std::string list;
      for (const auto& n : *names) {
        list += n;
        list += '\0';
      }
      if (in.size == 0) {
        fuse_getxattr_out go{};
        go.size = static_cast<std::uint32_t>(list.size());
        put(&out, go);
        return out;
      }
      if (list.size() > in.size) return Status(ERANGE);
      return list;
    }
    case FUSE_REMOVEXATTR: {
      std::string_view name;
      if (!b.name(&name)) return Status(EINVAL);
      VN_TRY(k_.fremovexattr(w, fd, name));
      return out;
    }
    default: return Status(ENOSYS);
  }
}

Result<std::string> FuseServe::dispatch(vfs::Proc& w, std::uint32_t opcode, std::uint64_t nodeid,
                                        std::string_view body, bool* no_reply) {
  Body b(body);
  std::string out;
  switch (opcode) {
    case FUSE_INIT: return do_init(body);
    case FUSE_DESTROY: return out;
    case FUSE_INTERRUPT: *no_reply = true; return out;  // every request is answered at once
    case FUSE_FORGET: {
      *no_reply = true;
      fuse_forget_in in{};
      if (b.get(&in)) forget(nodeid, in.nlookup);
      return out;
    }
    case FUSE_BATCH_FORGET: {
      *no_reply = true;
      fuse_batch_forget_in in{};
      if (!b.get(&in)) return out;
      for (std::uint32_t i = 0; i < in.count; ++i) {
        fuse_forget_one one{};
        if (!b.get(&one)) break;
        forget(one.nodeid, one.nlookup);
      }
      return out;
    }
    default: break;
  }
  // Everything below names a node.
  Lend fdr(k_, p_, w, node_fd(nodeid));
  if (!fdr.ok()) return fdr.status();
  const int fd = *fdr;
  switch (opcode) {
    case FUSE_LOOKUP: {
      std::string_view name;
      if (!b.name(&name)) return Status(EINVAL);
      return lookup_entry(w, fd, name);
    }
    case FUSE_GETATTR: {
      auto st = stat_fd(w, fd);
      if (!st.ok()) return st.status();
      fuse_attr_out ao{};
      ao.attr_valid = o_.valid_ns / 1'000'000'000;
      ao.attr_valid_nsec = static_cast<std::uint32_t>(o_.valid_ns % 1'000'000'000);
      const std::string a = attr_bytes(*st);
      std::memcpy(&ao.attr, a.data(), sizeof ao.attr);
      put(&out, ao);
      return out;
    }
    case FUSE_SETATTR: return do_setattr(w, fd, body);
    case FUSE_READLINK: return k_.readlinkat(w, fd, "", 4096);
    case FUSE_SYMLINK: {
      std::string_view name, target;
      if (!b.name(&name) || !b.name(&target)) return Status(EINVAL);
      VN_TRY(k_.symlinkat(w, target, fd, name));
      return lookup_entry(w, fd, name);
    }
    case FUSE_MKNOD: {
      fuse_mknod_in in{};
      std::string_view name;
      if (!b.get(&in) || !b.name(&name)) return Status(EINVAL);
      VN_TRY(k_.mknodat(w, fd, name, in.mode, in.rdev));
      return lookup_entry(w, fd, name);
    }
    case FUSE_MKDIR: {
      fuse_mkdir_in in{};
      std::string_view name;
      if (!b.get(&in) || !b.name(&name)) return Status(EINVAL);
      VN_TRY(k_.mkdirat(w, fd, name, in.mode & 07777));
      return lookup_entry(w, fd, name);
    }
    case FUSE_UNLINK:
    case FUSE_RMDIR: {
      std::string_view name;
      if (!b.name(&name)) return Status(EINVAL);
      VN_TRY(k_.unlinkat(w, fd, name, opcode == FUSE_RMDIR ? AT_REMOVEDIR : 0));
      return out;
    }
    case FUSE_RENAME:
    case FUSE_RENAME2: {
      std::uint64_t newdir = 0;
      std::uint32_t flags = 0;
      if (opcode == FUSE_RENAME) {
        fuse_rename_in in{};
        if (!b.get(&in)) return Status(EINVAL);
        newdir = in.newdir;
      } else {
        fuse_rename2_in in{};
        if (!b.get(&in)) return Status(EINVAL);
        newdir = in.newdir;
        flags = in.flags;
      }
      std::string_view from, to;
      if (!b.name(&from) || !b.name(&to)) return Status(EINVAL);
      Lend tofd(k_, p_, w, node_fd(newdir));
      if (!tofd.ok()) return tofd.status();
      VN_TRY(k_.renameat2(w, fd, from, *tofd, to, flags));
      return out;
    }
    case FUSE_LINK: {
      fuse_link_in in{};
      std::string_view name;
      if (!b.get(&in) || !b.name(&name)) return Status(EINVAL);
      Lend oldfd(k_, p_, w, node_fd(in.oldnodeid));
      if (!oldfd.ok()) return oldfd.status();
      VN_TRY(k_.linkat(w, *oldfd, "", fd, name, AT_EMPTY_PATH));
      return lookup_entry(w, fd, name);
    }
    case FUSE_OPEN:
    case FUSE_OPENDIR: {
      fuse_open_in in{};
      if (!b.get(&in)) return Status(EINVAL);
      auto of = k_.getfile(w, fd);
      if (!of.ok()) return of.status();
      vn::Vnode& vp = *(*of)->vp;
      k_.vref(vp);
      k_.putfile(**of);
      const bool dir = opcode == FUSE_OPENDIR;
      auto wh = k_.open_vnode(w, vp, dir ? (O_RDONLY | O_DIRECTORY) : open_flags(in.flags));
      k_.vrele(vp);
      if (!wh.ok()) return wh.status();
      auto h = adopt(w, *wh);
      if (!h.ok()) return h.status();
      const auto node = nodes_.find(nodeid);
      handles_[static_cast<std::uint64_t>(*h)] =
          Handle{dir, false, {}, node != nodes_.end() ? node->second.ino : 0};
      fuse_open_out oo{};
      oo.fh = static_cast<std::uint64_t>(*h);
      put(&out, oo);
      return out;
    }
    case FUSE_CREATE: {
      fuse_create_in in{};
      std::string_view name;
      if (!b.get(&in) || !b.name(&name)) return Status(EINVAL);
      auto wh =
          k_.openat(w, fd, name, open_flags(in.flags) | O_CREAT | O_NOFOLLOW, in.mode & 07777);
      if (!wh.ok()) return wh.status();
      auto h = adopt(w, *wh);
      if (!h.ok()) return h.status();
      auto e = lookup(w, fd, name);
      if (!e.ok()) {
        (void)k_.close(p_, *h);
        return e.status();
      }
      handles_[static_cast<std::uint64_t>(*h)] = Handle{false, false, {}, e->st.ino};
      out = entry_bytes(*e);
      fuse_open_out oo{};
      oo.fh = static_cast<std::uint64_t>(*h);
      put(&out, oo);
      return out;
    }
    case FUSE_READ: {
      fuse_read_in in{};
      if (!b.get(&in)) return Status(EINVAL);
      Lend h(k_, p_, w, handle_fd(in.fh, false));
      if (!h.ok()) return h.status();
      if (in.offset > static_cast<std::uint64_t>(INT64_MAX)) return Status(EINVAL);
      return k_.pread(w, *h, in.size, static_cast<std::int64_t>(in.offset));
    }
    case FUSE_WRITE: {
      fuse_write_in in{};
      if (!b.get(&in) || b.rest().size() != in.size) return Status(EINVAL);
      Lend h(k_, p_, w, handle_fd(in.fh, false));
      if (!h.ok()) return h.status();
      if (in.offset > static_cast<std::uint64_t>(INT64_MAX)) return Status(EINVAL);
      auto n = k_.pwrite(w, *h, b.rest(), static_cast<std::int64_t>(in.offset));
      if (!n.ok()) return n.status();
      fuse_write_out wo{};
      wo.size = static_cast<std::uint32_t>(*n);
      put(&out, wo);
      return out;
    }
    case FUSE_FLUSH: {
      fuse_flush_in in{};
      if (!b.get(&in)) return Status(EINVAL);
      VN_TRY(handle_fd(in.fh, false).status());
      return out;  // close(2) of one of the host's descriptors: nothing to write back
    }
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR: {
      fuse_release_in in{};
      if (!b.get(&in)) return Status(EINVAL);
      auto h = handle_fd(in.fh, opcode == FUSE_RELEASEDIR);
      if (!h.ok()) return h.status();
      handles_.erase(in.fh);
      VN_TRY(k_.close(p_, *h));
      return out;
    }
    case FUSE_FSYNC:
    case FUSE_FSYNCDIR: {
      fuse_fsync_in in{};
      if (!b.get(&in)) return Status(EINVAL);
      Lend h(k_, p_, w, handle_fd(in.fh, opcode == FUSE_FSYNCDIR));
      if (!h.ok()) return h.status();
      VN_TRY(k_.fsync(w, *h));
      return out;
    }
    case FUSE_READDIR: return do_readdir(w, body, false);
    case FUSE_READDIRPLUS: return do_readdir(w, body, true);
    case FUSE_STATFS: {
      auto sv = k_.fstatvfs(w, fd);
      if (!sv.ok()) return sv.status();
      fuse_statfs_out so{};
      so.st.blocks = sv->blocks;
      so.st.bfree = sv->bfree;
      so.st.bavail = sv->bavail;
      so.st.files = sv->files;
      so.st.ffree = sv->ffree;
      so.st.bsize = static_cast<std::uint32_t>(sv->bsize);
      so.st.namelen = static_cast<std::uint32_t>(sv->namemax);
      so.st.frsize = static_cast<std::uint32_t>(sv->frsize);
      put(&out, so);
      return out;
    }
    case FUSE_SETXATTR:
    case FUSE_GETXATTR:
    case FUSE_LISTXATTR:
    case FUSE_REMOVEXATTR: return do_xattr(w, opcode, fd, body);
    case FUSE_ACCESS: {
      fuse_access_in in{};
      if (!b.get(&in)) return Status(EINVAL);
      VN_TRY(k_.faccessat(w, fd, "", static_cast<int>(in.mask & 7), AT_EMPTY_PATH));
      return out;
    }
    default: return Status(ENOSYS);
  }
}

std::string FuseServe::release_all() {
  std::uint64_t lookups = 0;
  for (auto& [id, node] : nodes_) {
    if (id != FUSE_ROOT_ID) lookups += node.nlookup;
    (void)k_.close(p_, node.fd);
  }
  const std::size_t open_handles = handles_.size();
  for (auto& [fh, h] : handles_) (void)k_.close(p_, static_cast<int>(fh));
  std::string left;
  if (open_handles != 0 || lookups != 0) {
    left = std::to_string(open_handles) + " handles never released, " + std::to_string(lookups) +
           " lookups never forgotten in " + std::to_string(nodes_.size() - 1) + " nodes";
  }
  nodes_.clear();
  by_ino_.clear();
  handles_.clear();
  return left;
}

}  // namespace vfsim::cli
