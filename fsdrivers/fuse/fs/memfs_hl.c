// memfs_hl: a small in-memory file system on libfuse's high-level
// (path-based) API, vfsim's own, so that libfuse's high-level layer — its
// path locks, node table, open counts and the ".fuse_hidden" files it makes
// when an open file is unlinked — runs under the simulator. It is the file
// system of scenarios/fuse_hidden_release_unlink.json (libfuse #746).
//
// It is written as a FUSE author writes one: a main() that hands an
// operations table to fuse_main(). It serves regular files and
// directories: getattr, readdir, mkdir, rmdir, create, open, read, write,
// truncate, unlink, rename, release, chmod, chown, utimens, statfs. Like
// passthrough_fh it works on open files through their handle and sets
// nullpath_ok, so libfuse calls release without a path (and without its
// path lock) — the configuration in which libfuse 3.14's unlink can race a
// release. One mutex serialises the tree; node numbers are handed out in
// order; times come from clock_gettime (the virtual clock in the simulator).
// Every node lives in a table owned by main()'s state (no globals but the
// fuse_get_context() pointer libfuse hands every operation). Its one
// option, -o hard_remove, sets libfuse's fuse_config.hard_remove (which
// libfuse 3 takes from the file system's init, not from the command line).
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { kMaxNodes = 256, kMaxName = 255 };

struct node {
  int used;
  int parent;  // index of the directory naming it (-1: unlinked, or the root)
  char name[kMaxName + 1];
  mode_t mode;
  uid_t uid;
  gid_t gid;
  struct timespec atime, mtime, ctime;
  char* data;
  size_t size;
  int open;  // handles not released
};

struct memfs {
  pthread_mutex_t lock;
  int hard_remove;  // -o hard_remove: libfuse's fuse_config.hard_remove
  struct node nodes[kMaxNodes];
};

static struct memfs* fs_of(void) { return (struct memfs*)fuse_get_context()->private_data; }

static struct timespec now(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);  // determinism-ok: the shim makes it the machine's clock
  return t;
}

// The child of directory `dir` named `name` (a component: no '/'), or -1.
static int child(struct memfs* fs, int dir, const char* name, size_t len) {
  for (int i = 1; i < kMaxNodes; ++i) {
    const struct node* n = &fs->nodes[i];
    if (n->used && n->parent == dir && strlen(n->name) == len && memcmp(n->name, name, len) == 0)
      return i;
  }
  return -1;
}

// The node a path names, or -1. With `parent` set, resolves all but the
// last component and returns the directory, *last pointing into `path`.
static int resolve(struct memfs* fs, const char* path, int parent, const char** last) {
  int cur = 0;
  const char* p = path;
  while (*p == '/') ++p;
  while (*p != '\0') {
    const char* end = strchr(p, '/');
    const size_t len = end ? (size_t)(end - p) : strlen(p);
    const char* rest = p + len;
    while (*rest == '/') ++rest;
    if (parent && *rest == '\0') {
      if (last) *last = p;
      return cur;
    }
    if (!S_ISDIR(fs->nodes[cur].mode)) return -1;
    cur = child(fs, cur, p, len);
    if (cur < 0) return -1;
    p = rest;
  }
  return parent ? -1 : cur;
}

static void fill_stat(int i, const struct node* n, struct stat* st) {
  memset(st, 0, sizeof(*st));
  st->st_ino = (ino_t)i + 1;
  st->st_mode = n->mode;
  st->st_nlink = S_ISDIR(n->mode) ? 2 : (n->parent >= 0 || i == 0 ? 1 : 0);
  st->st_uid = n->uid;
  st->st_gid = n->gid;
  st->st_size = (off_t)n->size;
  st->st_atim = n->atime;
  st->st_mtim = n->mtime;
  st->st_ctim = n->ctime;
}

// The node of an open file or directory (fi: its handle is the node's index
// plus one) or of a path.
static int node_of(struct memfs* fs, const char* path, struct fuse_file_info* fi) {
  if (fi != NULL && fi->fh != 0) return (int)fi->fh - 1;
  return path != NULL ? resolve(fs, path, 0, NULL) : -1;
}

static void* m_init(struct fuse_conn_info* conn, struct fuse_config* cfg) {
  (void)conn;
  cfg->nullpath_ok = 1;
  // libfuse 3 has no command-line hard_remove: a file system sets it here.
  cfg->hard_remove = ((struct memfs*)fuse_get_context()->private_data)->hard_remove;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  return fuse_get_context()->private_data;
}

static int m_getattr(const char* path, struct stat* st, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = node_of(fs, path, fi);
  if (i >= 0) fill_stat(i, &fs->nodes[i], st);
  pthread_mutex_unlock(&fs->lock);
  return i >= 0 ? 0 : -ENOENT;
}

static int m_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t off,
                     struct fuse_file_info* fi, enum fuse_readdir_flags flags) {
  (void)off;
  (void)flags;
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int dir = node_of(fs, path, fi);
  int err = 0;
  if (dir < 0) err = -ENOENT;
  else if (!S_ISDIR(fs->nodes[dir].mode)) err = -ENOTDIR;
  if (err == 0) {
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (int i = 1; i < kMaxNodes; ++i) {
      if (fs->nodes[i].used && fs->nodes[i].parent == dir) fill(buf, fs->nodes[i].name, NULL, 0, 0);
    }
  }
  pthread_mutex_unlock(&fs->lock);
  return err;
}

// A new node named by the last component of `path`.
static int make(struct memfs* fs, const char* path, mode_t mode, int* out) {
  const char* last = NULL;
  const int dir = resolve(fs, path, 1, &last);
  if (dir < 0 || !S_ISDIR(fs->nodes[dir].mode)) return -ENOENT;
  if (strlen(last) > kMaxName) return -ENAMETOOLONG;
  if (child(fs, dir, last, strlen(last)) >= 0) return -EEXIST;
  for (int i = 1; i < kMaxNodes; ++i) {
    struct node* n = &fs->nodes[i];
    if (n->used || n->open > 0) continue;
    memset(n, 0, sizeof(*n));
    n->used = 1;
    n->parent = dir;
    strcpy(n->name, last);
    n->mode = mode;
    n->uid = fuse_get_context()->uid;
    n->gid = fuse_get_context()->gid;
    n->atime = n->mtime = n->ctime = now();
    *out = i;
    return 0;
  }
  return -ENOSPC;
}

static int m_mkdir(const char* path, mode_t mode) {
  struct memfs* fs = fs_of();
  int i = 0;
  pthread_mutex_lock(&fs->lock);
  const int err = make(fs, path, S_IFDIR | (mode & 07777), &i);
  pthread_mutex_unlock(&fs->lock);
  return err;
}

static int m_create(const char* path, mode_t mode, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  int i = 0;
  pthread_mutex_lock(&fs->lock);
  const int err = make(fs, path, S_IFREG | (mode & 07777), &i);
  if (err == 0) {
    fs->nodes[i].open++;
    fi->fh = (uint64_t)i + 1;
  }
  pthread_mutex_unlock(&fs->lock);
  return err;
}

static int m_opendir(const char* path, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = resolve(fs, path, 0, NULL);
  int err = 0;
  if (i < 0) err = -ENOENT;
  else if (!S_ISDIR(fs->nodes[i].mode)) err = -ENOTDIR;
  if (err == 0) {
    fs->nodes[i].open++;
    fi->fh = (uint64_t)i + 1;
  }
  pthread_mutex_unlock(&fs->lock);
  return err;
}

static int m_open(const char* path, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = resolve(fs, path, 0, NULL);
  int err = 0;
  if (i < 0) err = -ENOENT;
  else if (S_ISDIR(fs->nodes[i].mode)) err = -EISDIR;
  if (err == 0) {
    fs->nodes[i].open++;
    fi->fh = (uint64_t)i + 1;
    if (fi->flags & O_TRUNC) fs->nodes[i].size = 0;
  }
  pthread_mutex_unlock(&fs->lock);
  return err;
}

// Frees a node with no name and no open handle.
static void maybe_free(struct node* n) {
  if (n->parent >= 0 || n->open > 0) return;
  free(n->data);
  n->data = NULL;
  n->used = 0;
}

static int m_release(const char* path, struct fuse_file_info* fi) {
  (void)path;
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  struct node* n = &fs->nodes[fi->fh - 1];
  if (n->open > 0) n->open--;
  maybe_free(n);
  pthread_mutex_unlock(&fs->lock);
  return 0;
}

static int m_read(const char* path, char* buf, size_t size, off_t off, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = node_of(fs, path, fi);
  int res = -ENOENT;
  if (i >= 0) {
    const struct node* n = &fs->nodes[i];
    res = 0;
    if ((size_t)off < n->size) {
      res = (int)((n->size - (size_t)off) < size ? n->size - (size_t)off : size);
      memcpy(buf, n->data + off, (size_t)res);
    }
  }
  pthread_mutex_unlock(&fs->lock);
  return res;
}

static int resize(struct node* n, size_t size) {
  if (size > n->size) {
    char* d = realloc(n->data, size);
    if (d == NULL) return -ENOSPC;
    memset(d + n->size, 0, size - n->size);
    n->data = d;
  }
  n->size = size;
  n->mtime = n->ctime = now();
  return 0;
}

static int m_write(const char* path, const char* buf, size_t size, off_t off,
                   struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = node_of(fs, path, fi);
  int res = -ENOENT;
  if (i >= 0) {
    struct node* n = &fs->nodes[i];
    const size_t end = (size_t)off + size;
    res = end > n->size ? resize(n, end) : 0;
    if (res == 0) {
      memcpy(n->data + off, buf, size);
      n->mtime = n->ctime = now();
      res = (int)size;
    }
  }
  pthread_mutex_unlock(&fs->lock);
  return res;
}

static int m_truncate(const char* path, off_t size, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = node_of(fs, path, fi);
  const int err = i < 0 ? -ENOENT : resize(&fs->nodes[i], (size_t)size);
  pthread_mutex_unlock(&fs->lock);
  return err;
}

static int m_unlink(const char* path) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = resolve(fs, path, 0, NULL);
  int err = 0;
  if (i <= 0) err = -ENOENT;
  else if (S_ISDIR(fs->nodes[i].mode)) err = -EISDIR;
  if (err == 0) {
    fs->nodes[i].parent = -1;
    fs->nodes[i].ctime = now();
    maybe_free(&fs->nodes[i]);
  }
  pthread_mutex_unlock(&fs->lock);
  return err;
}

static int m_rmdir(const char* path) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = resolve(fs, path, 0, NULL);
  int err = 0;
  if (i < 0) err = -ENOENT;
  else if (i == 0) err = -EBUSY;
  else if (!S_ISDIR(fs->nodes[i].mode)) err = -ENOTDIR;
  for (int j = 1; err == 0 && j < kMaxNodes; ++j) {
    if (fs->nodes[j].used && fs->nodes[j].parent == i) err = -ENOTEMPTY;
  }
  if (err == 0) {
    fs->nodes[i].parent = -1;
    maybe_free(&fs->nodes[i]);
  }
  pthread_mutex_unlock(&fs->lock);
  return err;
}

// libfuse's high-level layer renames an open file it is asked to unlink to
// ".fuse_hidden..." through this.
static int m_rename(const char* from, const char* to, unsigned int flags) {
  struct memfs* fs = fs_of();
  if (flags != 0) return -EINVAL;
  pthread_mutex_lock(&fs->lock);
  const int i = resolve(fs, from, 0, NULL);
  const char* last = NULL;
  const int dir = resolve(fs, to, 1, &last);
  int err = 0;
  if (i <= 0 || dir < 0) err = -ENOENT;
  else if (strlen(last) > kMaxName) err = -ENAMETOOLONG;
  if (err == 0) {
    const int old = child(fs, dir, last, strlen(last));
    if (old == i) {
      pthread_mutex_unlock(&fs->lock);
      return 0;
    }
    if (old >= 0) {
      if (S_ISDIR(fs->nodes[old].mode)) err = -EISDIR;
      else {
        fs->nodes[old].parent = -1;
        maybe_free(&fs->nodes[old]);
      }
    }
  }
  if (err == 0) {
    fs->nodes[i].parent = dir;
    strcpy(fs->nodes[i].name, last);
    fs->nodes[i].ctime = now();
  }
  pthread_mutex_unlock(&fs->lock);
  return err;
}

static int m_chmod(const char* path, mode_t mode, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = node_of(fs, path, fi);
  if (i >= 0) {
    fs->nodes[i].mode = (fs->nodes[i].mode & S_IFMT) | (mode & 07777);
    fs->nodes[i].ctime = now();
  }
  pthread_mutex_unlock(&fs->lock);
  return i >= 0 ? 0 : -ENOENT;
}

static int m_chown(const char* path, uid_t uid, gid_t gid, struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = node_of(fs, path, fi);
  if (i >= 0) {
    if (uid != (uid_t)-1) fs->nodes[i].uid = uid;
    if (gid != (gid_t)-1) fs->nodes[i].gid = gid;
    fs->nodes[i].ctime = now();
  }
  pthread_mutex_unlock(&fs->lock);
  return i >= 0 ? 0 : -ENOENT;
}

static int m_utimens(const char* path, const struct timespec tv[2], struct fuse_file_info* fi) {
  struct memfs* fs = fs_of();
  pthread_mutex_lock(&fs->lock);
  const int i = node_of(fs, path, fi);
  if (i >= 0) {
    fs->nodes[i].atime = tv[0];
    fs->nodes[i].mtime = tv[1];
  }
  pthread_mutex_unlock(&fs->lock);
  return i >= 0 ? 0 : -ENOENT;
}

static int m_statfs(const char* path, struct statvfs* st) {
  (void)path;
  memset(st, 0, sizeof(*st));
  st->f_bsize = 4096;
  st->f_frsize = 4096;
  st->f_blocks = 1024;
  st->f_bfree = 1024;
  st->f_bavail = 1024;
  st->f_files = kMaxNodes;
  st->f_ffree = kMaxNodes;
  st->f_namemax = kMaxName;
  return 0;
}

static void m_destroy(void* data) {
  struct memfs* fs = data;
  for (int i = 0; i < kMaxNodes; ++i) free(fs->nodes[i].data);
}

static const struct fuse_operations kOps = {
    .init = m_init,
    .getattr = m_getattr,
    .readdir = m_readdir,
    .mkdir = m_mkdir,
    .rmdir = m_rmdir,
    .create = m_create,
    .open = m_open,
    .read = m_read,
    .write = m_write,
    .truncate = m_truncate,
    .unlink = m_unlink,
    .rename = m_rename,
    .release = m_release,
    .opendir = m_opendir,
    .releasedir = m_release,
    .chmod = m_chmod,
    .chown = m_chown,
    .utimens = m_utimens,
    .statfs = m_statfs,
    .destroy = m_destroy,
};

static const struct fuse_opt kOptSpec[] = {
    {"hard_remove", offsetof(struct memfs, hard_remove), 1},
    FUSE_OPT_END,
};

int main(int argc, char* argv[]) {
  struct memfs* fs = calloc(1, sizeof(*fs));
  if (fs == NULL) return 1;
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  if (fuse_opt_parse(&args, fs, kOptSpec, NULL) == -1) {
    free(fs);
    return 1;
  }
  pthread_mutex_init(&fs->lock, NULL);
  fs->nodes[0].used = 1;
  fs->nodes[0].parent = -1;
  fs->nodes[0].mode = S_IFDIR | 0755;
  fs->nodes[0].atime = fs->nodes[0].mtime = fs->nodes[0].ctime = now();
  const int ret = fuse_main(args.argc, args.argv, &kOps, fs);
  fuse_opt_free_args(&args);
  pthread_mutex_destroy(&fs->lock);
  free(fs);
  return ret;
}
