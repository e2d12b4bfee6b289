// memfs_ll: an in-memory file system on libfuse's low-level API, vfsim's
// own conformance client for the FUSE path (the libfuse examples serve one
// file; this one serves the POSIX subset the VFS tests exercise: regular
// files, directories, symbolic links, device and fifo nodes, hard links,
// rename, truncate, chmod/chown/utimes, extended attributes, statfs).
//
// It is written as any FUSE author would write it — a main() that parses
// the command line and runs fuse_session_loop or fuse_session_loop_mt — and
// is built with vfsim_add_fuse_fs like a user's file system, so it runs on
// the rewritten libfuse with its pthread calls on sim primitives. All state
// lives in one object made by main() (no globals); one mutex serialises the
// operations. Inode numbers are handed out in order from 2 (1 is the
// root) and are the FUSE node ids; times come from clock_gettime (the
// virtual clock inside the simulator).
//
// Lookup counts follow the FUSE contract: every entry reply (lookup, mknod,
// mkdir, symlink, link, create) counts one, FORGET subtracts its nlookup,
// and an inode with no names, no lookups and no open handle is freed. At
// destroy, an inode other than the root with lookups left is a kernel that
// forgot to FORGET: it is reported on stderr and the exit status is 3.
//
// Options of its own: --no-create answers CREATE with ENOSYS (so the
// kernel's MKNOD+LOOKUP+OPEN fallback is exercised); ACCESS is never
// implemented (so the kernel emulates it from the mode bits).
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Inode {
  fuse_ino_t ino = 0;
  mode_t mode = 0;  // with S_IFMT
  uid_t uid = 0;
  gid_t gid = 0;
  nlink_t nlink = 0;
  dev_t rdev = 0;
  timespec atime{}, mtime{}, ctime{};
  std::string data;       // regular file contents; symlink target
  fuse_ino_t parent = 0;  // directories: the one directory naming it
  // Directory entries by name, each with the cookie readdir resumes after.
  std::map<std::string, std::pair<fuse_ino_t, off_t>> entries;
  std::map<off_t, std::string> by_cookie;
  off_t next_cookie = 3;  // 1 and 2 are "." and ".."
  std::map<std::string, std::string> xattrs;
  std::uint64_t nlookup = 0;
  int open = 0;
};

struct Fs {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  std::map<fuse_ino_t, std::unique_ptr<Inode>> inodes;
  fuse_ino_t next_ino = 2;
  bool no_create = false;
  // --bsd-groups: a new node's group is its directory's, as on BSD;
  // otherwise the caller's, or the directory's when it is set-group-ID
  // (which a new directory then inherits), as on Linux.
  bool bsd_groups = false;
  int leaks = 0;
};

Fs& fs_of(fuse_req_t req) { return *static_cast<Fs*>(fuse_req_userdata(req)); }

class Locked {
 public:
  explicit Locked(Fs& fs) : fs_(fs) { pthread_mutex_lock(&fs_.lock); }
  ~Locked() { pthread_mutex_unlock(&fs_.lock); }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

 private:
  Fs& fs_;
};

timespec now() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);  // determinism-ok: the shim makes it the machine's clock
  return t;
}

Inode* find(Fs& fs, fuse_ino_t ino) {
  auto it = fs.inodes.find(ino);
  return it == fs.inodes.end() ? nullptr : it->second.get();
}

Inode& make(Fs& fs, mode_t mode, const fuse_ctx* ctx) {
  auto n = std::make_unique<Inode>();
  n->ino = fs.next_ino++;
  n->mode = mode;
  n->uid = ctx->uid;
  n->gid = ctx->gid;
  n->atime = n->mtime = n->ctime = now();
  Inode& ref = *n;
  fs.inodes.emplace(ref.ino, std::move(n));
  return ref;
}

void fill_stat(const Inode& n, struct stat* st) {
  *st = {};
  st->st_ino = n.ino;
  st->st_mode = n.mode;
  st->st_nlink = n.nlink;
  st->st_uid = n.uid;
  st->st_gid = n.gid;
  st->st_rdev = n.rdev;
  st->st_size = S_ISDIR(n.mode) ? 4096 : static_cast<off_t>(n.data.size());
  st->st_blksize = 4096;
  st->st_blocks = (st->st_size + 511) / 512;
  st->st_atim = n.atime;
  st->st_mtim = n.mtime;
  st->st_ctim = n.ctime;
}

// Frees an inode nothing refers to any more.
void maybe_free(Fs& fs, Inode& n) {
  if (n.nlink == 0 && n.nlookup == 0 && n.open == 0 && n.ino != FUSE_ROOT_ID) {
    fs.inodes.erase(n.ino);
  }
}

void reply_entry(fuse_req_t req, Inode& n) {
  fuse_entry_param e{};
  e.ino = n.ino;
  e.attr_timeout = 0;
  e.entry_timeout = 0;
  fill_stat(n, &e.attr);
  ++n.nlookup;
  fuse_reply_entry(req, &e);
}

void add_entry(Inode& dir, const std::string& name, fuse_ino_t ino) {
  const off_t cookie = dir.next_cookie++;
  dir.entries[name] = {ino, cookie};
  dir.by_cookie[cookie] = name;
  dir.mtime = dir.ctime = now();
}

void drop_entry(Inode& dir, const std::string& name) {
  auto it = dir.entries.find(name);
  dir.by_cookie.erase(it->second.second);
  dir.entries.erase(it);
  dir.mtime = dir.ctime = now();
}

Inode* child(Fs& fs, Inode& dir, const char* name) {
  auto it = dir.entries.find(name);
  return it == dir.entries.end() ? nullptr : find(fs, it->second.first);
}

// --- operations ------------------------------------------------------------

void op_init(void*, fuse_conn_info*) {}

void op_destroy(void* userdata) {
  Fs& fs = *static_cast<Fs*>(userdata);
  for (const auto& [ino, n] : fs.inodes) {
    if (ino != FUSE_ROOT_ID && n->nlookup != 0) {
      fprintf(stderr, "memfs_ll: inode %lu still has %lu lookups at destroy\n",
              static_cast<unsigned long>(ino), static_cast<unsigned long>(n->nlookup));
      ++fs.leaks;
    }
  }
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* dir = find(fs, parent);
  if (dir == nullptr || !S_ISDIR(dir->mode)) return (void)fuse_reply_err(req, ENOTDIR);
  Inode* n = nullptr;
  if (strcmp(name, ".") == 0) n = dir;
  else if (strcmp(name, "..") == 0) n = find(fs, dir->parent);
  else n = child(fs, *dir, name);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  reply_entry(req, *n);
}

void forget_one(Fs& fs, fuse_ino_t ino, std::uint64_t nlookup) {
  Inode* n = find(fs, ino);
  if (n == nullptr) return;
  n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
  maybe_free(fs, *n);
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs& fs = fs_of(req);
  {
    Locked l(fs);
    forget_one(fs, ino, nlookup);
  }
  fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Fs& fs = fs_of(req);
  {
    Locked l(fs);
    for (size_t i = 0; i < count; ++i) forget_one(fs, forgets[i].ino, forgets[i].nlookup);
  }
  fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  struct stat st;
  fill_stat(*n, &st);
  fuse_reply_attr(req, &st, 0);
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  const timespec t = now();
  if (to_set & FUSE_SET_ATTR_MODE) n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
  if (to_set & FUSE_SET_ATTR_UID) n->uid = attr->st_uid;
  if (to_set & FUSE_SET_ATTR_GID) n->gid = attr->st_gid;
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (!S_ISREG(n->mode)) return (void)fuse_reply_err(req, S_ISDIR(n->mode) ? EISDIR : EINVAL);
    n->data.resize(static_cast<std::size_t>(attr->st_size), '\0');
    n->mtime = t;
  }
  if (to_set & FUSE_SET_ATTR_ATIME) n->atime = attr->st_atim;
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) n->atime = t;
  if (to_set & FUSE_SET_ATTR_MTIME) n->mtime = attr->st_mtim;
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) n->mtime = t;
  n->ctime = t;
  struct stat st;
  fill_stat(*n, &st);
  fuse_reply_attr(req, &st, 0);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr || !S_ISLNK(n->mode)) return (void)fuse_reply_err(req, EINVAL);
  fuse_reply_readlink(req, n->data.c_str());
}

// Makes a new name in `parent`; replies with its entry.
void new_node(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev,
              const char* target, fuse_file_info* fi) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* dir = find(fs, parent);
  if (dir == nullptr || !S_ISDIR(dir->mode)) return (void)fuse_reply_err(req, ENOTDIR);
  if (dir->entries.count(name) != 0) return (void)fuse_reply_err(req, EEXIST);
  Inode& n = make(fs, mode, fuse_req_ctx(req));
  if (fs.bsd_groups) {
    n.gid = dir->gid;
  } else if ((dir->mode & S_ISGID) != 0) {
    n.gid = dir->gid;
    if (S_ISDIR(mode)) n.mode |= S_ISGID;
  }
  n.rdev = rdev;
  if (S_ISDIR(mode)) {
    n.nlink = 2;
    n.parent = parent;
    ++dir->nlink;
  } else {
    n.nlink = 1;
  }
  if (target != nullptr) n.data = target;
  add_entry(*dir, name, n.ino);
  if (fi == nullptr) return reply_entry(req, n);
  fuse_entry_param e{};
  e.ino = n.ino;
  fill_stat(n, &e.attr);
  ++n.nlookup;
  ++n.open;
  fi->fh = n.ino;
  fuse_reply_create(req, &e, fi);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  new_node(req, parent, name, mode, rdev, nullptr, nullptr);
}
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  new_node(req, parent, name, S_IFDIR | (mode & 07777), 0, nullptr, nullptr);
}
void op_symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  new_node(req, parent, name, S_IFLNK | 0777, 0, target, nullptr);
}
void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
               fuse_file_info* fi) {
  if (fs_of(req).no_create) return (void)fuse_reply_err(req, ENOSYS);
  new_node(req, parent, name, S_IFREG | (mode & 07777), 0, nullptr, fi);
}

void remove_name(fuse_req_t req, fuse_ino_t parent, const char* name, bool dir_wanted) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* dir = find(fs, parent);
  if (dir == nullptr || !S_ISDIR(dir->mode)) return (void)fuse_reply_err(req, ENOTDIR);
  Inode* n = child(fs, *dir, name);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (dir_wanted) {
    if (!S_ISDIR(n->mode)) return (void)fuse_reply_err(req, ENOTDIR);
    if (!n->entries.empty()) return (void)fuse_reply_err(req, ENOTEMPTY);
    n->nlink = 0;
    --dir->nlink;
  } else {
    if (S_ISDIR(n->mode)) return (void)fuse_reply_err(req, EISDIR);
    --n->nlink;
  }
  n->ctime = now();
  drop_entry(*dir, name);
  maybe_free(fs, *n);
  fuse_reply_err(req, 0);
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  remove_name(req, parent, name, false);
}
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  remove_name(req, parent, name, true);
}

bool is_ancestor(Fs& fs, fuse_ino_t maybe_ancestor, fuse_ino_t ino) {
  for (Inode* n = find(fs, ino); n != nullptr && n->ino != FUSE_ROOT_ID; n = find(fs, n->parent)) {
    if (n->ino == maybe_ancestor) return true;
  }
  return false;
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
               const char* newname, unsigned int flags) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  if (flags != 0) return (void)fuse_reply_err(req, EINVAL);
  Inode* from = find(fs, parent);
  Inode* to = find(fs, newparent);
  if (from == nullptr || to == nullptr || !S_ISDIR(from->mode) || !S_ISDIR(to->mode)) {
    return (void)fuse_reply_err(req, ENOTDIR);
  }
  Inode* n = child(fs, *from, name);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  Inode* victim = child(fs, *to, newname);
  if (victim == n) return (void)fuse_reply_err(req, 0);
  if (S_ISDIR(n->mode) && (n->ino == newparent || is_ancestor(fs, n->ino, newparent))) {
    return (void)fuse_reply_err(req, EINVAL);
  }
  if (victim != nullptr) {
    if (S_ISDIR(victim->mode) && !S_ISDIR(n->mode)) return (void)fuse_reply_err(req, EISDIR);
    if (!S_ISDIR(victim->mode) && S_ISDIR(n->mode)) return (void)fuse_reply_err(req, ENOTDIR);
    if (S_ISDIR(victim->mode) && !victim->entries.empty()) {
      return (void)fuse_reply_err(req, ENOTEMPTY);
    }
    if (S_ISDIR(victim->mode)) {
      victim->nlink = 0;
      --to->nlink;
    } else {
      --victim->nlink;
    }
    victim->ctime = now();
    drop_entry(*to, newname);
    maybe_free(fs, *victim);
  }
  drop_entry(*from, name);
  add_entry(*to, newname, n->ino);
  if (S_ISDIR(n->mode) && from != to) {
    --from->nlink;
    ++to->nlink;
    n->parent = newparent;
  }
  n->ctime = now();
  fuse_reply_err(req, 0);
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  Inode* dir = find(fs, newparent);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (dir == nullptr || !S_ISDIR(dir->mode)) return (void)fuse_reply_err(req, ENOTDIR);
  if (S_ISDIR(n->mode)) return (void)fuse_reply_err(req, EPERM);
  if (dir->entries.count(newname) != 0) return (void)fuse_reply_err(req, EEXIST);
  ++n->nlink;
  n->ctime = now();
  add_entry(*dir, newname, n->ino);
  reply_entry(req, *n);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (S_ISDIR(n->mode) && (fi->flags & O_ACCMODE) != O_RDONLY) {
    return (void)fuse_reply_err(req, EISDIR);
  }
  ++n->open;
  fi->fh = ino;
  fuse_reply_open(req, fi);
}

void op_release(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  Fs& fs = fs_of(req);
  {
    Locked l(fs);
    if (Inode* n = find(fs, ino)) {
      if (n->open > 0) --n->open;
      maybe_free(fs, *n);
    }
  }
  fuse_reply_err(req, 0);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (!S_ISREG(n->mode)) return (void)fuse_reply_err(req, EISDIR);
  n->atime = now();
  if (off < 0 || static_cast<size_t>(off) >= n->data.size()) {
    return (void)fuse_reply_buf(req, nullptr, 0);
  }
  const size_t len = std::min(size, n->data.size() - static_cast<size_t>(off));
  fuse_reply_buf(req, n->data.data() + off, len);
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
              fuse_file_info*) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (!S_ISREG(n->mode)) return (void)fuse_reply_err(req, EISDIR);
  if (off < 0) return (void)fuse_reply_err(req, EINVAL);
  const size_t end = static_cast<size_t>(off) + size;
  if (n->data.size() < end) n->data.resize(end, '\0');
  n->data.replace(static_cast<size_t>(off), size, buf, size);
  n->mtime = n->ctime = now();
  fuse_reply_write(req, size);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (!S_ISDIR(n->mode)) return (void)fuse_reply_err(req, ENOTDIR);
  ++n->open;
  fi->fh = ino;
  fuse_reply_open(req, fi);
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { op_release(req, ino, fi); }

// Entries after cookie `off`: "." (1), ".." (2), then by cookie.
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* dir = find(fs, ino);
  if (dir == nullptr || !S_ISDIR(dir->mode)) return (void)fuse_reply_err(req, ENOTDIR);
  std::vector<char> buf(size);
  size_t used = 0;
  auto add = [&](const char* name, fuse_ino_t child_ino, mode_t mode, off_t cookie) {
    struct stat st {};
    st.st_ino = child_ino;
    st.st_mode = mode;
    const size_t need = fuse_add_direntry(req, nullptr, 0, name, nullptr, 0);
    if (used + need > size) return false;
    fuse_add_direntry(req, buf.data() + used, size - used, name, &st, cookie);
    used += need;
    return true;
  };
  bool room = true;
  if (off < 1) room = add(".", dir->ino, S_IFDIR, 1);
  if (room && off < 2) {
    room = add("..", dir->ino == FUSE_ROOT_ID ? dir->ino : dir->parent, S_IFDIR, 2);
  }
  for (auto it = dir->by_cookie.upper_bound(std::max<off_t>(off, 2));
       room && it != dir->by_cookie.end(); ++it) {
    const auto& entry = dir->entries.at(it->second);
    const Inode* c = find(fs, entry.first);
    room = add(it->second.c_str(), entry.first, c != nullptr ? c->mode : 0, it->first);
  }
  fuse_reply_buf(req, buf.data(), used);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  struct statvfs st {};
  st.f_bsize = st.f_frsize = 4096;
  st.f_blocks = 1 << 20;
  st.f_bfree = st.f_bavail = st.f_blocks;
  st.f_files = 1 << 16;
  st.f_ffree = st.f_favail = st.f_files - fs.inodes.size();
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                 int flags) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  const bool exists = n->xattrs.count(name) != 0;
  if ((flags & XATTR_CREATE) && exists) return (void)fuse_reply_err(req, EEXIST);
  if ((flags & XATTR_REPLACE) && !exists) return (void)fuse_reply_err(req, ENODATA);
  n->xattrs[name] = std::string(value, size);
  n->ctime = now();
  fuse_reply_err(req, 0);
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  auto it = n->xattrs.find(name);
  if (it == n->xattrs.end()) return (void)fuse_reply_err(req, ENODATA);
  if (size == 0) return (void)fuse_reply_xattr(req, it->second.size());
  if (size < it->second.size()) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, it->second.data(), it->second.size());
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  std::string names;
  for (const auto& [name, value] : n->xattrs) names.append(name).push_back('\0');
  if (size == 0) return (void)fuse_reply_xattr(req, names.size());
  if (size < names.size()) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, names.data(), names.size());
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  Fs& fs = fs_of(req);
  Locked l(fs);
  Inode* n = find(fs, ino);
  if (n == nullptr) return (void)fuse_reply_err(req, ENOENT);
  if (n->xattrs.erase(name) == 0) return (void)fuse_reply_err(req, ENODATA);
  n->ctime = now();
  fuse_reply_err(req, 0);
}

const fuse_lowlevel_ops kOps = [] {
  fuse_lowlevel_ops o{};
  o.init = op_init;
  o.destroy = op_destroy;
  o.lookup = op_lookup;
  o.forget = op_forget;
  o.forget_multi = op_forget_multi;
  o.getattr = op_getattr;
  o.setattr = op_setattr;
  o.readlink = op_readlink;
  o.mknod = op_mknod;
  o.mkdir = op_mkdir;
  o.unlink = op_unlink;
  o.rmdir = op_rmdir;
  o.symlink = op_symlink;
  o.rename = op_rename;
  o.link = op_link;
  o.open = op_open;
  o.read = op_read;
  o.write = op_write;
  o.release = op_release;
  o.opendir = op_opendir;
  o.readdir = op_readdir;
  o.releasedir = op_releasedir;
  o.statfs = op_statfs;
  o.setxattr = op_setxattr;
  o.getxattr = op_getxattr;
  o.listxattr = op_listxattr;
  o.removexattr = op_removexattr;
  o.create = op_create;
  return o;
}();

}  // namespace

int main(int argc, char* argv[]) {
  Fs fs;
  auto root = std::make_unique<Inode>();
  root->ino = FUSE_ROOT_ID;
  root->mode = S_IFDIR | 0755;
  root->nlink = 2;
  root->parent = FUSE_ROOT_ID;
  root->atime = root->mtime = root->ctime = now();
  fs.inodes.emplace(FUSE_ROOT_ID, std::move(root));

  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--no-create") == 0) fs.no_create = true;
    else if (strcmp(argv[i], "--bsd-groups") == 0) fs.bsd_groups = true;
    else args.push_back(argv[i]);
  }
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(args.size()), args.data());
  fuse_cmdline_opts opts{};
  if (fuse_parse_cmdline(&fargs, &opts) != 0) return 1;
  if (opts.mountpoint == nullptr) {
    fprintf(stderr, "usage: %s [options] <mountpoint>\n", argv[0]);
    fuse_opt_free_args(&fargs);
    return 1;
  }
  int ret = 1;
  fuse_session* se = fuse_session_new(&fargs, &kOps, sizeof(kOps), &fs);
  if (se != nullptr) {
    if (fuse_set_signal_handlers(se) == 0) {
      if (fuse_session_mount(se, opts.mountpoint) == 0) {
        fuse_daemonize(opts.foreground);
        if (opts.singlethread) {
          ret = fuse_session_loop(se);
        } else {
          fuse_loop_config* config = fuse_loop_cfg_create();
          ret = fuse_session_loop_mt(se, config);
          fuse_loop_cfg_destroy(config);
        }
        fuse_session_unmount(se);
      }
      fuse_remove_signal_handlers(se);
    }
    fuse_session_destroy(se);
  }
  free(opts.mountpoint);
  fuse_opt_free_args(&fargs);
  if (ret == 0 && fs.leaks != 0) ret = 3;
  return ret != 0 ? (ret == 3 ? 3 : 1) : 0;
}
