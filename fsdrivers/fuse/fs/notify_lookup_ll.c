// notify_lookup_ll: a low-level FUSE file system that tells the kernel to
// forget a directory entry while it looks that entry up: its LOOKUP
// handler calls fuse_lowlevel_notify_inval_entry() on the very parent and
// name it was asked about, before replying. A kernel applies an
// INVAL_ENTRY under the parent's lock, which the looking-up lwp holds while
// it waits for this LOOKUP's reply: the daemon waits for the lock, the
// lookup for the daemon — a deadlock libfuse's documentation warns about
// ("do not call this function from a filesystem operation on the same
// directory"). The file system of scenarios/notify_inval_entry_deadlock.json.
//
// With -o notify_from_thread the handler only queues the notification and
// replies; a thread of its own sends it afterwards, as libfuse's
// notify_inval_entry example does, and nothing waits in a circle.
//
// The tree: the root holds the files "a" and "b", each with 6 bytes.
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char* const kNames[] = {"a", "b"};
static const char* const kData[] = {"AAAAA\n", "BBBBB\n"};
enum { kFiles = 2, kQueueMax = 16 };

struct options {
  int notify_from_thread;
};

struct state {
  struct options opts;
  struct fuse_session* se;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  char queue[kQueueMax][8];
  int queued;
  int stop;
};

static struct state* state_of(fuse_req_t req) { return (struct state*)fuse_req_userdata(req); }

static void fill_attr(fuse_ino_t ino, struct stat* st) {
  memset(st, 0, sizeof(*st));
  st->st_ino = ino;
  if (ino == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  } else {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = (off_t)strlen(kData[ino - 2]);
  }
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  struct state* s = state_of(req);
  int found = -1;
  for (int i = 0; parent == FUSE_ROOT_ID && i < kFiles; ++i) {
    if (strcmp(name, kNames[i]) == 0) found = i;
  }
  if (s->opts.notify_from_thread) {
    pthread_mutex_lock(&s->lock);
    if (s->queued < kQueueMax && strlen(name) < sizeof(s->queue[0])) {
      strcpy(s->queue[s->queued++], name);
      pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
  } else {
    // The mistake under test: a notification on the parent being looked in.
    fuse_lowlevel_notify_inval_entry(s->se, parent, name, strlen(name));
  }
  if (found < 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct fuse_entry_param e;
  memset(&e, 0, sizeof(e));
  e.ino = (fuse_ino_t)found + 2;
  fill_attr(e.ino, &e.attr);
  fuse_reply_entry(req, &e);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  (void)fi;
  struct stat st;
  if (ino != FUSE_ROOT_ID && (ino < 2 || ino >= 2 + kFiles)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  fill_attr(ino, &st);
  fuse_reply_attr(req, &st, 0);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info* fi) {
  (void)fi;
  if (ino != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  char buf[512];
  size_t used = 0;
  const char* names[] = {".", "..", kNames[0], kNames[1]};
  const fuse_ino_t inos[] = {FUSE_ROOT_ID, FUSE_ROOT_ID, 2, 3};
  for (off_t i = off; i < 4; ++i) {
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_ino = inos[i];
    const size_t want =
        fuse_add_direntry(req, buf + used, sizeof(buf) - used, names[i], &st, i + 1);
    if (want > sizeof(buf) - used || used + want > size) break;
    used += want;
  }
  fuse_reply_buf(req, buf, used);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  if (ino < 2 || ino >= 2 + kFiles) fuse_reply_err(req, EISDIR);
  else if ((fi->flags & O_ACCMODE) != O_RDONLY) fuse_reply_err(req, EACCES);
  else fuse_reply_open(req, fi);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info* fi) {
  (void)fi;
  const char* d = kData[ino - 2];
  const size_t len = strlen(d);
  if ((size_t)off >= len) fuse_reply_buf(req, NULL, 0);
  else fuse_reply_buf(req, d + off, len - (size_t)off < size ? len - (size_t)off : size);
}

static const struct fuse_lowlevel_ops kOps = {
    .lookup = ll_lookup,
    .getattr = ll_getattr,
    .readdir = ll_readdir,
    .open = ll_open,
    .read = ll_read,
};

// Sends the queued notifications, outside any request.
static void* notifier(void* arg) {
  struct state* s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->stop) {
    if (s->queued == 0) {
      pthread_cond_wait(&s->cond, &s->lock);
      continue;
    }
    char name[8];
    strcpy(name, s->queue[--s->queued]);
    pthread_mutex_unlock(&s->lock);
    fuse_lowlevel_notify_inval_entry(s->se, FUSE_ROOT_ID, name, strlen(name));
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static const struct fuse_opt kOptSpec[] = {
    {"notify_from_thread", offsetof(struct options, notify_from_thread), 1}, FUSE_OPT_END};

int main(int argc, char* argv[]) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct fuse_cmdline_opts opts;
  struct state* s = calloc(1, sizeof(*s));
  int ret = 1;
  if (s == NULL) return 1;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  if (fuse_opt_parse(&args, &s->opts, kOptSpec, NULL) == -1) goto out;
  if (fuse_parse_cmdline(&args, &opts) != 0) goto out;
  s->se = fuse_session_new(&args, &kOps, sizeof(kOps), s);
  if (s->se == NULL) goto out_opts;
  if (fuse_set_signal_handlers(s->se) != 0) goto out_session;
  if (fuse_session_mount(s->se, opts.mountpoint) != 0) goto out_signals;
  fuse_daemonize(opts.foreground);
  pthread_t thread;
  if (s->opts.notify_from_thread)
    pthread_create(&thread, NULL, notifier, s);  // determinism-ok: the shim makes it an lwp
  if (opts.singlethread) {
    ret = fuse_session_loop(s->se);
  } else {
    struct fuse_loop_config config;
    config.clone_fd = opts.clone_fd;
    config.max_idle_threads = opts.max_idle_threads;
    ret = fuse_session_loop_mt(s->se, &config);
  }
  if (s->opts.notify_from_thread) {
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(thread, NULL);
  }
  fuse_session_unmount(s->se);
out_signals:
  fuse_remove_signal_handlers(s->se);
out_session:
  fuse_session_destroy(s->se);
out_opts:
  free(opts.mountpoint);
out:
  fuse_opt_free_args(&args);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->lock);
  free(s);
  return ret ? 1 : 0;
}
