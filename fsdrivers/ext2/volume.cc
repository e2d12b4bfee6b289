// The public Volume: VOP-shaped operations composed from Core's pieces.
// Each operation validates its arguments, re-reads the inodes it needs (the
// buffer cache makes that cheap) and writes back every inode it changed.
#include "fsdrivers/ext2/volume.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "fsdrivers/ext2/core.h"

namespace vfsim::ext2 {
namespace {

// A time as this file system stores it: clamped to the range its inodes
// hold, and whole seconds when they have no room for nanoseconds (inodes of
// 128 bytes), as Linux truncates a timestamp to its super block's limits.
Time stamp(const Core& c, Time t) {
  const bool extra = c.sb.inode_size >= 160;
  const int64_t sec = std::clamp<int64_t>(t.sec, kTimeMin, extra ? kTimeMaxExtra : kTimeMaxSmall);
  return Time(sec, extra && sec == t.sec ? t.nsec : 0);
}

// i_dtime: unsigned 32-bit seconds.
uint32_t dtime_of(Time t) {
  return static_cast<uint32_t>(std::clamp<int64_t>(t.sec, 0, UINT32_MAX));
}

Status check_name(std::string_view name) {
  if (name.empty()) return Status(ENOENT);
  if (name.size() > kNameMax) return Status(ENAMETOOLONG);
  if (name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos)
    return Status(EINVAL);
  return kOk;
}

bool is_dot(std::string_view name) { return name == "." || name == ".."; }

struct XattrName {
  uint8_t index;
  std::string suffix;
};

// Splits "user.foo" into (1, "foo"); only namespaces that can be set are
// accepted here (ACLs are system-owned).
Result<XattrName> parse_xattr_name(std::string_view name) {
  static constexpr std::pair<std::string_view, uint8_t> kPrefixes[] = {
      {"user.", 1}, {"trusted.", 4}, {"security.", 6}};
  for (auto [prefix, index] : kPrefixes) {
    if (name.substr(0, prefix.size()) != prefix) continue;
    std::string_view suffix = name.substr(prefix.size());
    if (suffix.empty()) return Status(EINVAL);
    if (suffix.size() > kNameMax) return Status(ERANGE);
    return XattrName{index, std::string(suffix)};
  }
  return Status(EOPNOTSUPP);
}

std::string xattr_full_name(uint8_t index, const std::string& suffix) {
  switch (index) {
    case 1: return "user." + suffix;
    case 2: return "system.posix_acl_access";
    case 3: return "system.posix_acl_default";
    case 4: return "trusted." + suffix;
    case 6: return "security." + suffix;
    default: return "";
  }
}

uint32_t decode_rdev(const Inode& n) { return n.block[0] != 0 ? n.block[0] : n.block[1]; }

}  // namespace

Volume::Volume(std::unique_ptr<Core> core) : core_(std::move(core)) {}
Volume::~Volume() = default;

MountResult Volume::mount(BlockIo& io, const MountOptions& opts) {
  MountResult r;
  std::unique_ptr<Core> c = Core::open(io, opts, r.reason);
  if (!c) {
    r.err = Status(EINVAL);
    return r;
  }
  auto root = c->read_live_inode(kRootIno);
  if (!root.ok() || !root->is_dir()) {
    r.reason =
        root.ok() ? "root inode 2 is not a directory" : "root inode 2 is unreadable or corrupt";
    r.err = Status(EIO);
    return r;
  }
  r.volume.reset(new Volume(std::move(c)));
  return r;
}

Status Volume::usable(bool for_write) const {
  if (unmounted_) return Status(ENXIO);
  if (for_write && core_->read_only) return Status(EROFS);
  return kOk;
}

Result<Inode> Volume::live_dir(uint32_t ino) {
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  if (!n.is_dir()) return Status(ENOTDIR);
  if (n.links_count == 0) return Status(ENOENT);  // removed, still open
  return n;
}

Result<uint32_t> Volume::lookup(uint32_t dir, std::string_view name) {
  EXT2_TRY(usable(false));
  EXT2_TRY(check_name(name));
  EXT2_TRY_ASSIGN(Inode d, live_dir(dir));
  if (name == ".") return dir;
  EXT2_TRY_ASSIGN(RawDirent e, core_->dir_find(dir, d, name));
  // Test only (MountOptions::test_panic_entry): a marked image trips an
  // assertion here, as a driver bug would; never on a mount that did not
  // ask for it.
  VFSIM_ASSERT(!(core_->test_panic_entry && name == kTestPanicEntry),
               "test-only assertion: the image holds the entry vfsim-test-panic");
  if (name == "..") return e.ino;
  if (e.ino == dir) return corrupt();  // a directory that contains itself
  EXT2_TRY_ASSIGN(Inode child, core_->read_live_inode(e.ino));
  if (child.is_dir()) {
    // A subdirectory's ".." names its parent; anything else is a hard
    // link to a directory, which could make path walks cycle.
    EXT2_TRY_ASSIGN(uint32_t up, core_->dir_parent(child));
    if (up != dir) return corrupt();
  }
  return e.ino;
}

// Allocates, initialises and links a new inode of any type.
Result<uint32_t> Volume::make_node(uint32_t dir, std::string_view name, Inode n, Time now,
                                   std::span<const std::byte> symlink_target) {
  EXT2_TRY(usable(true));
  EXT2_TRY(check_name(name));
  if (is_dot(name)) return Status(EEXIST);
  EXT2_TRY_ASSIGN(Inode d, live_dir(dir));
  auto existing = core_->dir_find(dir, d, name);
  if (existing.ok()) return Status(EEXIST);
  if (existing.err() != ENOENT) return existing.status();
  if (n.is_dir() && d.links_count >= kLinkMax) return Status(EMLINK);
  EXT2_TRY_ASSIGN(uint32_t ino, core_->alloc_inode(dir, n.is_dir()));
  EXT2_TRY_ASSIGN(Inode old, core_->read_inode(ino));
  const Time t = stamp(*core_, now);
  n.links_count = n.is_dir() ? 2 : 1;
  n.atime = n.ctime = n.mtime = n.crtime = t;
  n.generation = old.generation + 1;  // deterministic, distinct from the slot's last user
  n.extra_isize = core_->sb.inode_size >= 160 ? kExtraIsizeDefault : 0;
  Status s = kOk;
  if (n.is_dir()) s = core_->dir_init(ino, n, dir);
  if (s.ok() && !symlink_target.empty()) s = core_->write_data(ino, n, 0, symlink_target).status();
  if (Status w = core_->init_new_inode(ino, n); s.ok()) s = w;
  if (s.ok()) s = core_->dir_add(dir, d, name, ino, file_type_of_mode(n.mode), t);
  if (!s.ok()) {  // undo: give back the inode and whatever it got
    n.links_count = 0;
    (void)core_->release_inode(ino, n, dtime_of(t));
    return s;
  }
  if (n.is_dir()) {
    d.links_count++;
    EXT2_TRY(core_->write_inode(dir, d));
  }
  return ino;
}

Result<uint32_t> Volume::create(uint32_t dir, std::string_view name, uint16_t perm, uint32_t uid,
                                uint32_t gid, Time now) {
  Inode n;
  n.mode = static_cast<uint16_t>(kSIFREG | (perm & 07777));
  n.uid = uid;
  n.gid = gid;
  return make_node(dir, name, n, now, {});
}

Result<uint32_t> Volume::mknod(uint32_t dir, std::string_view name, uint16_t mode, uint32_t rdev,
                               uint32_t uid, uint32_t gid, Time now) {
  const uint16_t type = mode & kSIFMT;
  if (type != kSIFCHR && type != kSIFBLK && type != kSIFIFO && type != kSIFSOCK)
    return Status(EINVAL);
  Inode n;
  n.mode = static_cast<uint16_t>(type | (mode & 07777));
  n.uid = uid;
  n.gid = gid;
  if (n.is_device()) (rdev < 0x10000 ? n.block[0] : n.block[1]) = rdev;
  return make_node(dir, name, n, now, {});
}

Result<uint32_t> Volume::mkdir(uint32_t dir, std::string_view name, uint16_t perm, uint32_t uid,
                               uint32_t gid, Time now) {
  Inode n;
  n.mode = static_cast<uint16_t>(kSIFDIR | (perm & 07777));
  n.uid = uid;
  n.gid = gid;
  return make_node(dir, name, n, now, {});
}

Result<uint32_t> Volume::symlink(uint32_t dir, std::string_view name, std::string_view target,
                                 uint32_t uid, uint32_t gid, Time now, uint16_t perm) {
  if (target.empty()) return Status(ENOENT);
  if (target.size() >= core_->block_size) return Status(ENAMETOOLONG);
  if (target.find('\0') != std::string_view::npos) return Status(EINVAL);
  Inode n;
  n.mode = static_cast<uint16_t>(kSIFLNK | (perm & 07777));
  n.uid = uid;
  n.gid = gid;
  n.size = target.size();
  auto bytes = std::as_bytes(std::span(target.data(), target.size()));
  if (target.size() >= kFastSymlinkMax) return make_node(dir, name, n, now, bytes);
  // A fast symlink keeps the target in i_block, stored as little-endian words.
  std::array<std::byte, kFastSymlinkMax> raw{};
  std::memcpy(raw.data(), target.data(), target.size());
  for (uint32_t i = 0; i < kNBlocks; ++i) n.block[i] = get32(raw, size_t{4} * i);
  n.size = target.size();
  return make_node(dir, name, n, now, {});
}

Result<Attr> Volume::getattr(uint32_t ino) {
  EXT2_TRY(usable(false));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  Attr a;
  a.ino = ino;
  a.type = file_type_of_mode(n.mode);
  a.mode = n.mode;
  a.uid = n.uid;
  a.gid = n.gid;
  a.nlink = n.links_count;
  a.size = n.size;
  a.blocks512 = n.blocks;
  a.atime = n.atime;
  a.mtime = n.mtime;
  a.ctime = n.ctime;
  a.crtime = n.crtime;
  a.rdev = n.is_device() ? decode_rdev(n) : 0;
  a.flags = n.flags;
  a.generation = n.generation;
  return a;
}

// Zeroes bytes past the old end of file inside its last block before the
// file grows, in case the image left garbage there.
static Status zero_tail_before_grow(Core& c, uint32_t ino, Inode& n, uint64_t new_size) {
  const uint32_t bs = c.block_size;
  if (n.size % bs == 0 || new_size <= n.size) return kOk;
  EXT2_TRY_ASSIGN(Core::Mapping m, c.bmap(n, n.size / bs, false, 0));
  if (m.pbn == 0) return kOk;
  const uint64_t end = std::min<uint64_t>(new_size, (n.size / bs + 1) * bs);
  std::vector<std::byte> zeros(end - n.size);
  return c.write_data(ino, n, n.size, zeros).status();
}

Status Volume::setattr(uint32_t ino, const SetAttr& sa, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  const Time t = stamp(*core_, now);
  if (sa.size) {
    if (n.is_dir()) return Status(EISDIR);
    if (!n.is_reg()) return Status(EINVAL);
    if (*sa.size > core_->max_file_size()) return Status(EFBIG);
    Status s = *sa.size < n.size ? core_->truncate_blocks(n, *sa.size)
                                 : zero_tail_before_grow(*core_, ino, n, *sa.size);
    n.size = s.ok() ? *sa.size : n.size;
    n.mtime = t;
    if (!s.ok()) {
      (void)core_->write_inode(ino, n);  // keep the block count of what was freed
      return s;
    }
  }
  if (sa.mode) n.mode = static_cast<uint16_t>((n.mode & kSIFMT) | (*sa.mode & 07777));
  if (sa.uid) n.uid = *sa.uid;
  if (sa.gid) n.gid = *sa.gid;
  if (sa.atime) n.atime = stamp(*core_, *sa.atime);
  if (sa.mtime) n.mtime = stamp(*core_, *sa.mtime);
  if (sa.mark_ctime) n.ctime = t;
  return core_->write_inode(ino, n);
}

Result<size_t> Volume::read(uint32_t ino, uint64_t off, std::span<std::byte> buf) {
  EXT2_TRY(usable(false));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  if (n.is_dir()) return Status(EISDIR);
  if (!n.is_reg()) return Status(EINVAL);
  return core_->read_data(n, off, buf);
}

Result<size_t> Volume::write(uint32_t ino, uint64_t off, std::span<const std::byte> buf, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  if (n.is_dir()) return Status(EISDIR);
  if (!n.is_reg()) return Status(EINVAL);
  const uint64_t max = core_->max_file_size();
  if (off >= max) return buf.empty() ? Result<size_t>(size_t{0}) : Result<size_t>(Status(EFBIG));
  buf = buf.first(static_cast<size_t>(std::min<uint64_t>(buf.size(), max - off)));
  if (buf.empty()) return size_t{0};
  EXT2_TRY(zero_tail_before_grow(*core_, ino, n, off));
  auto r = core_->write_data(ino, n, off, buf);
  n.mtime = n.ctime = stamp(*core_, now);
  // Written even on failure: indirect blocks may have been allocated.
  EXT2_TRY(core_->write_inode(ino, n));
  return r;
}

Result<size_t> Volume::allocate(uint32_t ino, uint64_t off, size_t len, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  if (n.is_dir()) return Status(EISDIR);
  if (!n.is_reg()) return Status(EINVAL);
  const uint64_t max = core_->max_file_size();
  if (off >= max) return len == 0 ? Result<size_t>(size_t{0}) : Result<size_t>(Status(EFBIG));
  len = static_cast<size_t>(std::min<uint64_t>(len, max - off));
  if (len == 0) return size_t{0};
  EXT2_TRY(zero_tail_before_grow(*core_, ino, n, off));
  auto r = core_->alloc_data(ino, n, off, len);
  n.mtime = n.ctime = stamp(*core_, now);
  // Written even on failure: indirect blocks may have been allocated.
  EXT2_TRY(core_->write_inode(ino, n));
  return r;
}

Status Volume::put_data(uint32_t ino, uint64_t off, std::span<const std::byte> buf) {
  EXT2_TRY(usable(true));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  if (!n.is_reg()) return Status(EINVAL);
  if (off >= n.size) return kOk;
  buf = buf.first(static_cast<size_t>(std::min<uint64_t>(buf.size(), n.size - off)));
  return core_->put_data(n, off, buf);
}

Status Volume::drop_link(uint32_t ino, Inode& n, Time now) {
  VFSIM_ASSERT(n.links_count > 0, "dropping a link of an inode that has none");
  n.links_count = n.is_dir() ? 0 : n.links_count - 1;
  n.ctime = now;
  if (n.links_count == 0 && !core_->defer_free_unlinked)
    return core_->release_inode(ino, n, dtime_of(now));
  if (n.links_count == 0) core_->orphans.insert(ino);
  return core_->write_inode(ino, n);
}

Status Volume::remove(uint32_t dir, std::string_view name, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY(check_name(name));
  if (is_dot(name)) return Status(EPERM);
  EXT2_TRY_ASSIGN(Inode d, live_dir(dir));
  EXT2_TRY_ASSIGN(RawDirent e, core_->dir_find(dir, d, name));
  if (e.ino == dir) return corrupt();
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(e.ino));
  if (n.is_dir()) return Status(EPERM);
  const Time t = stamp(*core_, now);
  EXT2_TRY(core_->dir_remove(dir, d, name, t));
  return drop_link(e.ino, n, t);
}

Status Volume::rmdir(uint32_t dir, std::string_view name, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY(check_name(name));
  if (name == ".") return Status(EINVAL);
  if (name == "..") return Status(ENOTEMPTY);
  EXT2_TRY_ASSIGN(Inode d, live_dir(dir));
  EXT2_TRY_ASSIGN(RawDirent e, core_->dir_find(dir, d, name));
  if (e.ino == dir) return corrupt();
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(e.ino));
  if (!n.is_dir()) return Status(ENOTDIR);
  EXT2_TRY_ASSIGN(bool empty, core_->dir_is_empty(n));
  if (!empty) return Status(ENOTEMPTY);
  const Time t = stamp(*core_, now);
  EXT2_TRY(core_->dir_remove(dir, d, name, t));
  if (d.links_count > 1) d.links_count--;  // the child's ".." is gone
  EXT2_TRY(core_->write_inode(dir, d));
  return drop_link(e.ino, n, t);
}

Status Volume::link(uint32_t dir, std::string_view name, uint32_t ino, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY(check_name(name));
  if (is_dot(name)) return Status(EEXIST);
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  if (n.is_dir()) return Status(EPERM);
  if (n.links_count >= kLinkMax) return Status(EMLINK);
  EXT2_TRY_ASSIGN(Inode d, live_dir(dir));
  auto existing = core_->dir_find(dir, d, name);
  if (existing.ok()) return Status(EEXIST);
  if (existing.err() != ENOENT) return existing.status();
  const Time t = stamp(*core_, now);
  EXT2_TRY(core_->dir_add(dir, d, name, ino, file_type_of_mode(n.mode), t));
  EXT2_TRY_ASSIGN(n, core_->read_live_inode(ino));  // dir_add may have touched its block
  n.links_count++;
  n.ctime = t;
  return core_->write_inode(ino, n);
}

// Fails with EINVAL if moved_dir is new_parent or one of its ancestors.
// Walks ".." up to the root; a cycle in the ".." chain answers EIO.
Status Volume::check_not_ancestor(uint32_t moved_dir, uint32_t new_parent) {
  std::set<uint32_t> visited;
  for (uint32_t cur = new_parent;;) {
    if (cur == moved_dir) return Status(EINVAL);
    if (cur == kRootIno) return kOk;
    if (!visited.insert(cur).second) return corrupt();
    EXT2_TRY_ASSIGN(Inode n, live_dir(cur));
    EXT2_TRY_ASSIGN(cur, core_->dir_parent(n));
    if (cur == 0) return corrupt();
  }
}

Status Volume::rename(uint32_t from_dir, std::string_view from_name, uint32_t to_dir,
                      std::string_view to_name, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY(check_name(from_name));
  EXT2_TRY(check_name(to_name));
  if (is_dot(from_name) || is_dot(to_name)) return Status(EINVAL);
  return rename_checked(from_dir, from_name, to_dir, to_name, stamp(*core_, now));
}

// Order: link the new name (or retarget the old target), then unlink the old
// name, then fix ".." and the link counts. Inodes are re-read before each
// change because from_dir and to_dir may be the same inode.
Status Volume::rename_checked(uint32_t fd, std::string_view fname, uint32_t td,
                              std::string_view tname, Time t) {
  Core& c = *core_;
  EXT2_TRY_ASSIGN(Inode fdir, live_dir(fd));
  EXT2_TRY_ASSIGN(Inode tdir, live_dir(td));
  EXT2_TRY_ASSIGN(RawDirent se, c.dir_find(fd, fdir, fname));
  const uint32_t src = se.ino;
  if (src == fd) return corrupt();
  EXT2_TRY_ASSIGN(Inode sn, c.read_live_inode(src));
  auto te = c.dir_find(td, tdir, tname);
  if (!te.ok() && te.err() != ENOENT) return te.status();
  const uint32_t tgt = te.ok() ? te->ino : 0;
  if (tgt == td) return corrupt();
  if (tgt == src) return kOk;  // both names already refer to the same file
  const bool moving_dir = sn.is_dir() && fd != td;
  if (moving_dir) EXT2_TRY(check_not_ancestor(src, td));
  if (moving_dir && tgt == 0 && tdir.links_count >= kLinkMax) return Status(EMLINK);
  bool target_was_dir = false;
  if (tgt != 0) {
    EXT2_TRY_ASSIGN(Inode tn, c.read_live_inode(tgt));
    target_was_dir = tn.is_dir();
    if (sn.is_dir() && !tn.is_dir()) return Status(ENOTDIR);
    if (!sn.is_dir() && tn.is_dir()) return Status(EISDIR);
    if (tn.is_dir()) {
      EXT2_TRY_ASSIGN(bool empty, c.dir_is_empty(tn));
      if (!empty) return Status(ENOTEMPTY);
    }
    EXT2_TRY(c.dir_retarget(td, tdir, tname, src, file_type_of_mode(sn.mode), t));
    EXT2_TRY(drop_link(tgt, tn, t));
  } else {
    EXT2_TRY(c.dir_add(td, tdir, tname, src, file_type_of_mode(sn.mode), t));
  }
  EXT2_TRY_ASSIGN(fdir, live_dir(fd));
  EXT2_TRY(c.dir_remove(fd, fdir, fname, t));
  if (moving_dir) {
    EXT2_TRY_ASSIGN(sn, c.read_live_inode(src));
    EXT2_TRY(c.dir_set_parent(sn, td));
    EXT2_TRY_ASSIGN(fdir, live_dir(fd));
    if (fdir.links_count > 1) fdir.links_count--;
    EXT2_TRY(c.write_inode(fd, fdir));
  }
  // The moved directory's ".." adds a link to td; a replaced directory's
  // ".." took one away.
  const int delta = (moving_dir ? 1 : 0) - (target_was_dir ? 1 : 0);
  if (delta != 0) {
    EXT2_TRY_ASSIGN(tdir, live_dir(td));
    tdir.links_count = static_cast<uint16_t>(tdir.links_count + delta);
    EXT2_TRY(c.write_inode(td, tdir));
  }
  EXT2_TRY_ASSIGN(sn, c.read_live_inode(src));
  sn.ctime = t;
  return c.write_inode(src, sn);
}

Result<ReaddirResult> Volume::readdir(uint32_t dir, uint64_t cookie, size_t max_entries) {
  EXT2_TRY(usable(false));
  if (max_entries == 0) return Status(EINVAL);
  EXT2_TRY_ASSIGN(Inode d, live_dir(dir));
  ReaddirResult r;
  r.eof = true;
  r.next_cookie = std::max<uint64_t>(cookie, d.size);
  EXT2_TRY(core_->dir_iterate(d, cookie, [&](const RawDirent& e) {
    if (e.ino == 0) return Visit::Continue;
    if (r.entries.size() == max_entries) {
      r.eof = false;
      r.next_cookie = e.pos;
      return Visit::Stop;
    }
    DirEntry de;
    de.ino = e.ino;
    de.type = e.type <= 7 ? static_cast<FileType>(e.type) : FileType::Unknown;
    de.name = std::string(e.name);
    de.next_cookie = e.pos + e.rec_len;
    r.entries.push_back(std::move(de));
    return Visit::Continue;
  }));
  return r;
}

Result<std::string> Volume::readlink(uint32_t ino) {
  EXT2_TRY(usable(false));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  if (!n.is_symlink()) return Status(EINVAL);
  std::string target(static_cast<size_t>(n.size), '\0');
  if (n.size < kFastSymlinkMax) {
    std::array<std::byte, kFastSymlinkMax> raw{};
    for (uint32_t i = 0; i < kNBlocks; ++i) put32(raw, size_t{4} * i, n.block[i]);
    std::memcpy(target.data(), raw.data(), target.size());
    return target;
  }
  EXT2_TRY_ASSIGN(Core::Mapping m, core_->bmap(n, 0, false, 0));
  if (m.pbn == 0) return corrupt();
  auto out = std::as_writable_bytes(std::span(target.data(), target.size()));
  EXT2_TRY_ASSIGN(size_t got, core_->read_data(n, 0, out));
  if (got != target.size()) return corrupt();
  return target;
}

Result<std::vector<std::byte>> Volume::getextattr(uint32_t ino, std::string_view name) {
  EXT2_TRY(usable(false));
  EXT2_TRY_ASSIGN(XattrName xn, parse_xattr_name(name));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  EXT2_TRY_ASSIGN(auto attrs, core_->xattr_load(n));
  for (auto& x : attrs)
    if (x.index == xn.index && x.name == xn.suffix) return std::move(x.value);
  return Status(ENODATA);
}

Status Volume::setextattr(uint32_t ino, std::string_view name, std::span<const std::byte> value,
                          Time now, XattrFlag flag) {
  EXT2_TRY(usable(true));
  EXT2_TRY_ASSIGN(XattrName xn, parse_xattr_name(name));
  if (value.size() > core_->block_size) return Status(E2BIG);
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  EXT2_TRY_ASSIGN(auto attrs, core_->xattr_load(n));
  auto it = std::find_if(attrs.begin(), attrs.end(), [&](const Core::Xattr& x) {
    return x.index == xn.index && x.name == xn.suffix;
  });
  if (it != attrs.end() && flag == XattrFlag::Create) return Status(EEXIST);
  if (it == attrs.end() && flag == XattrFlag::Replace) return Status(ENODATA);
  if (it == attrs.end()) it = attrs.insert(attrs.end(), Core::Xattr{xn.index, xn.suffix, {}});
  it->value.assign(value.begin(), value.end());
  EXT2_TRY(core_->xattr_store(n, attrs));
  // e2fsck expects feature ext_attr on a file system that uses xattr blocks.
  core_->sb.feature_compat |= kCompatExtAttr;
  put32(core_->sb_raw, 92, core_->sb.feature_compat);
  n.ctime = stamp(*core_, now);
  return core_->write_inode(ino, n);
}

Result<std::vector<std::string>> Volume::listextattr(uint32_t ino) {
  EXT2_TRY(usable(false));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  EXT2_TRY_ASSIGN(auto attrs, core_->xattr_load(n));
  std::vector<std::string> names;
  for (const auto& x : attrs)
    if (std::string full = xattr_full_name(x.index, x.name); !full.empty()) names.push_back(full);
  return names;
}

Status Volume::deleteextattr(uint32_t ino, std::string_view name, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY_ASSIGN(XattrName xn, parse_xattr_name(name));
  EXT2_TRY_ASSIGN(Inode n, core_->read_live_inode(ino));
  EXT2_TRY_ASSIGN(auto attrs, core_->xattr_load(n));
  auto it = std::find_if(attrs.begin(), attrs.end(), [&](const Core::Xattr& x) {
    return x.index == xn.index && x.name == xn.suffix;
  });
  if (it == attrs.end()) return Status(ENODATA);
  attrs.erase(it);
  EXT2_TRY(core_->xattr_store(n, attrs));
  n.ctime = stamp(*core_, now);
  return core_->write_inode(ino, n);
}

Status Volume::inactive(uint32_t ino, Time now) {
  EXT2_TRY(usable(true));
  EXT2_TRY_ASSIGN(Inode n, core_->read_inode(ino));
  if (n.mode == 0 || n.links_count != 0 || n.dtime != 0) return kOk;
  if (!core_->orphans.contains(ino)) return kOk;  // not one this mount unlinked
  if (ino < core_->sb.first_ino) return corrupt();
  return core_->release_inode(ino, n, dtime_of(now));
}

Result<StatVfs> Volume::statvfs() {
  EXT2_TRY(usable(false));
  const Core& c = *core_;
  StatVfs s;
  s.block_size = c.block_size;
  s.blocks = c.sb.blocks_count;
  s.files = c.sb.inodes_count;
  for (const GroupDesc& g : c.gds) {
    s.blocks_free += g.free_blocks_count;
    s.files_free += g.free_inodes_count;
  }
  s.blocks_avail = s.blocks_free > c.sb.r_blocks_count ? s.blocks_free - c.sb.r_blocks_count : 0;
  return s;
}

Status Volume::fsync(uint32_t ino) {
  EXT2_TRY(usable(false));
  if (ino < 1 || ino > core_->sb.inodes_count) return Status(EINVAL);
  return core_->sync();  // the whole volume: simple and always sufficient
}

Status Volume::sync() {
  EXT2_TRY(usable(false));
  return core_->sync();
}

Status Volume::unmount() {
  EXT2_TRY(usable(false));
  EXT2_TRY(core_->sync());
  unmounted_ = true;
  return kOk;
}

}  // namespace vfsim::ext2
