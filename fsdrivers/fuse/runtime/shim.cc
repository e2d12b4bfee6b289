// The shim between foreign C code (Debian's libfuse3 and the FUSE file
// systems compiled by vfsim_add_fuse_fs) and the machine.
//
// The build rewrites that code's object files (cmake/vfsim_fuse.cmake,
// objcopy --redefine-syms=shim.syms): every call it makes to a pthread,
// semaphore, clock, sleep, realpath or close function calls the
// vfsim_shim_* function of the same name here instead. Only that code is
// rewritten: vfsim itself, the C++ runtime, Boost and the test framework
// keep the real functions. Each shim asks whether it runs in an lwp of a
// FUSE daemon (slot.h); if so, the daemon's PosixSim serves the call on sim
// primitives and the virtual clock; if not (static initialisation, a tool
// outside any machine) it calls the real function.
//
// The same rewrite weakens libfuse's fuse_session_mount,
// fuse_session_unmount, the fuse_session_loop_mt versions, fuse_daemonize
// and fuse_set/remove_signal_handlers (objcopy --weaken-symbol); the strong
// definitions at the end of this file replace them (fuse_daemon.h says
// with what). Outside a machine they refuse with one line.
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "fsdrivers/fuse/runtime/fuse_daemon.h"
#include "fsdrivers/fuse/runtime/isolation.h"
#include "fsdrivers/fuse/runtime/slot.h"

using vfsim::fuse::current_daemon;
using vfsim::fuse::FuseDaemon;

namespace {

vfsim::fuse::PosixSim* posix() {
  FuseDaemon* d = current_daemon();
  return d != nullptr ? &d->posix() : nullptr;
}

// The simulated path as it is, made absolute: there is no host path to
// resolve a mount point against.
char* sim_realpath(const char* path, char* out, std::size_t room) {
  if (path == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  std::string p = path[0] == '/' ? std::string(path) : "/" + std::string(path);
  if (p.size() + 1 > room) {
    errno = ENAMETOOLONG;
    return nullptr;
  }
  if (out == nullptr) return strdup(p.c_str());
  memcpy(out, p.c_str(), p.size() + 1);
  return out;
}

int refuse_outside(const char* what) {
  fprintf(stderr, "vfsim: %s of the rewritten libfuse called outside a simulated machine\n", what);
  return -1;
}

}  // namespace

extern "C" {

// --- mutexes ----------------------------------------------------------------
int vfsim_shim_pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* a) {
  if (auto* p = posix()) return p->mutex_init(m, a);
  return pthread_mutex_init(m, a);
}
int vfsim_shim_pthread_mutex_destroy(pthread_mutex_t* m) {
  if (auto* p = posix()) return p->mutex_destroy(m);
  return pthread_mutex_destroy(m);
}
int vfsim_shim_pthread_mutex_lock(pthread_mutex_t* m) {
  if (auto* p = posix()) return p->mutex_lock(m);
  return pthread_mutex_lock(m);
}
int vfsim_shim_pthread_mutex_trylock(pthread_mutex_t* m) {
  if (auto* p = posix()) return p->mutex_trylock(m);
  return pthread_mutex_trylock(m);
}
int vfsim_shim_pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* t) {
  if (auto* p = posix()) return p->mutex_timedlock(m, t);
  return pthread_mutex_timedlock(m, t);
}
int vfsim_shim_pthread_mutex_unlock(pthread_mutex_t* m) {
  if (auto* p = posix()) return p->mutex_unlock(m);
  return pthread_mutex_unlock(m);
}

// --- condition variables ------------------------------------------------------
int vfsim_shim_pthread_cond_init(pthread_cond_t* c, const pthread_condattr_t* a) {
  if (auto* p = posix()) return p->cond_init(c, a);
  return pthread_cond_init(c, a);
}
int vfsim_shim_pthread_cond_destroy(pthread_cond_t* c) {
  if (auto* p = posix()) return p->cond_destroy(c);
  return pthread_cond_destroy(c);
}
int vfsim_shim_pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  if (auto* p = posix()) return p->cond_wait(c, m, nullptr);
  return pthread_cond_wait(c, m);
}
int vfsim_shim_pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                      const struct timespec* t) {
  if (auto* p = posix()) return p->cond_wait(c, m, t);
  return pthread_cond_timedwait(c, m, t);
}
int vfsim_shim_pthread_cond_signal(pthread_cond_t* c) {
  if (auto* p = posix()) return p->cond_signal(c);
  return pthread_cond_signal(c);
}
int vfsim_shim_pthread_cond_broadcast(pthread_cond_t* c) {
  if (auto* p = posix()) return p->cond_broadcast(c);
  return pthread_cond_broadcast(c);
}

// --- read/write locks ---------------------------------------------------------
int vfsim_shim_pthread_rwlock_init(pthread_rwlock_t* l, const pthread_rwlockattr_t* a) {
  if (auto* p = posix()) return p->rwlock_init(l);
  return pthread_rwlock_init(l, a);
}
int vfsim_shim_pthread_rwlock_destroy(pthread_rwlock_t* l) {
  if (auto* p = posix()) return p->rwlock_destroy(l);
  return pthread_rwlock_destroy(l);
}
int vfsim_shim_pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  if (auto* p = posix()) return p->rwlock_lock(l, false, false);
  return pthread_rwlock_rdlock(l);
}
int vfsim_shim_pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  if (auto* p = posix()) return p->rwlock_lock(l, true, false);
  return pthread_rwlock_wrlock(l);
}
int vfsim_shim_pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  if (auto* p = posix()) return p->rwlock_lock(l, false, true);
  return pthread_rwlock_tryrdlock(l);
}
int vfsim_shim_pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  if (auto* p = posix()) return p->rwlock_lock(l, true, true);
  return pthread_rwlock_trywrlock(l);
}
int vfsim_shim_pthread_rwlock_unlock(pthread_rwlock_t* l) {
  if (auto* p = posix()) return p->rwlock_unlock(l);
  return pthread_rwlock_unlock(l);
}

// --- keys ---------------------------------------------------------------------
int vfsim_shim_pthread_key_create(pthread_key_t* k, void (*d)(void*)) {
  if (auto* p = posix()) return p->key_create(k, d);
  return pthread_key_create(k, d);
}
int vfsim_shim_pthread_key_delete(pthread_key_t k) {
  if (auto* p = posix()) return p->key_delete(k);
  return pthread_key_delete(k);
}
void* vfsim_shim_pthread_getspecific(pthread_key_t k) {
  if (auto* p = posix()) return p->getspecific(k);
  return pthread_getspecific(k);
}
int vfsim_shim_pthread_setspecific(pthread_key_t k, const void* v) {
  if (auto* p = posix()) return p->setspecific(k, v);
  return pthread_setspecific(k, v);
}

// --- threads ------------------------------------------------------------------
int vfsim_shim_pthread_create(pthread_t* t, const pthread_attr_t* a, void* (*start)(void*),
                              void* arg) {
  if (auto* p = posix()) return p->thread_create(t, start, arg);
  return pthread_create(t, a, start, arg);  // determinism-ok: outside a machine only
}
int vfsim_shim_pthread_join(pthread_t t, void** ret) {
  if (auto* p = posix()) return p->thread_join(t, ret);
  return pthread_join(t, ret);
}
int vfsim_shim_pthread_detach(pthread_t t) {
  if (auto* p = posix()) return p->thread_detach(t);
  return pthread_detach(t);
}
pthread_t vfsim_shim_pthread_self(void) {
  if (auto* p = posix()) return p->self();
  return pthread_self();
}
int vfsim_shim_pthread_equal(pthread_t a, pthread_t b) { return a == b; }
void vfsim_shim_pthread_exit(void* ret) {
  if (auto* p = posix()) p->thread_exit(ret);
  pthread_exit(ret);
}
int vfsim_shim_pthread_cancel(pthread_t t) {
  if (auto* p = posix()) {
    p->unsupported("pthread_cancel");
    return ENOSYS;
  }
  return pthread_cancel(t);
}
int vfsim_shim_pthread_kill(pthread_t t, int sig) {
  if (auto* p = posix()) {
    if (sig == 0) return 0;
    p->unsupported("pthread_kill with signal " + std::to_string(sig));
    return ENOSYS;
  }
  return pthread_kill(t, sig);
}
// Signals never reach a daemon inside the machine: masks change nothing.
int vfsim_shim_pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  if (posix() != nullptr) {
    if (old != nullptr) sigemptyset(old);
    return 0;
  }
  return pthread_sigmask(how, set, old);
}
int vfsim_shim_pthread_setcancelstate(int state, int* old) {
  if (posix() != nullptr) {
    if (old != nullptr) *old = PTHREAD_CANCEL_ENABLE;
    return 0;
  }
  return pthread_setcancelstate(state, old);
}

// --- semaphores ---------------------------------------------------------------
int vfsim_shim_sem_init(sem_t* s, int pshared, unsigned v) {
  if (auto* p = posix()) return p->sem_init(s, v);
  return sem_init(s, pshared, v);
}
int vfsim_shim_sem_destroy(sem_t* s) {
  if (auto* p = posix()) return p->sem_destroy(s);
  return sem_destroy(s);
}
int vfsim_shim_sem_wait(sem_t* s) {
  if (auto* p = posix()) return p->sem_wait(s, false, nullptr);
  return sem_wait(s);
}
int vfsim_shim_sem_trywait(sem_t* s) {
  if (auto* p = posix()) return p->sem_wait(s, true, nullptr);
  return sem_trywait(s);
}
int vfsim_shim_sem_timedwait(sem_t* s, const struct timespec* t) {
  if (auto* p = posix()) return p->sem_wait(s, false, t);
  return sem_timedwait(s, t);
}
int vfsim_shim_sem_post(sem_t* s) {
  if (auto* p = posix()) return p->sem_post(s);
  return sem_post(s);
}
int vfsim_shim_sem_getvalue(sem_t* s, int* v) {
  if (auto* p = posix()) return p->sem_getvalue(s, v);
  return sem_getvalue(s, v);
}

// --- clocks and sleeps --------------------------------------------------------
int vfsim_shim_clock_gettime(clockid_t clk, struct timespec* ts) {
  if (auto* p = posix()) {
    const std::uint64_t ns = p->clock_ns(clk);
    ts->tv_sec = static_cast<time_t>(ns / 1'000'000'000ull);
    ts->tv_nsec = static_cast<long>(ns % 1'000'000'000ull);
    return 0;
  }
  return clock_gettime(clk, ts);  // determinism-ok: outside a machine only
}
int vfsim_shim_gettimeofday(struct timeval* tv, void* tz) {
  if (auto* p = posix()) {
    const std::uint64_t ns = p->clock_ns(CLOCK_REALTIME);
    tv->tv_sec = static_cast<time_t>(ns / 1'000'000'000ull);
    tv->tv_usec = static_cast<suseconds_t>((ns % 1'000'000'000ull) / 1000);
    return 0;
  }
  return gettimeofday(tv, static_cast<struct timezone*>(tz));  // determinism-ok: outside a machine
}
time_t vfsim_shim_time(time_t* out) {
  if (auto* p = posix()) {
    const auto t = static_cast<time_t>(p->clock_ns(CLOCK_REALTIME) / 1'000'000'000ull);
    if (out != nullptr) *out = t;
    return t;
  }
  return time(out);
}
unsigned vfsim_shim_sleep(unsigned s) {
  if (auto* p = posix()) {
    p->sleep_ns(static_cast<std::uint64_t>(s) * 1'000'000'000ull);
    return 0;
  }
  return sleep(s);
}
int vfsim_shim_usleep(useconds_t us) {
  if (auto* p = posix()) {
    p->sleep_ns(static_cast<std::uint64_t>(us) * 1000ull);
    return 0;
  }
  return usleep(us);
}
int vfsim_shim_nanosleep(const struct timespec* req, struct timespec* rem) {
  if (auto* p = posix()) {
    if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1'000'000'000) {
      errno = EINVAL;
      return -1;
    }
    p->sleep_ns(static_cast<std::uint64_t>(req->tv_sec) * 1'000'000'000ull +
                static_cast<std::uint64_t>(req->tv_nsec));
    if (rem != nullptr) *rem = {};
    return 0;
  }
  return nanosleep(req, rem);
}
int vfsim_shim_clock_nanosleep(clockid_t clk, int flags, const struct timespec* req,
                               struct timespec* rem) {
  if (auto* p = posix()) {
    if (flags & TIMER_ABSTIME) {
      p->sleep_until(clk, *req);
    } else {
      p->sleep_ns(static_cast<std::uint64_t>(req->tv_sec) * 1'000'000'000ull +
                  static_cast<std::uint64_t>(req->tv_nsec));
    }
    if (rem != nullptr) *rem = {};
    return 0;
  }
  return clock_nanosleep(clk, flags, req, rem);
}

// --- paths and fds ------------------------------------------------------------
char* vfsim_shim_realpath(const char* path, char* out) {
  if (posix() != nullptr) return sim_realpath(path, out, PATH_MAX);
  return realpath(path, out);
}
// NOLINTNEXTLINE(bugprone-reserved-identifier): wraps glibc's __realpath_chk
char* vfsim_shim___realpath_chk(const char* path, char* out, size_t room) {
  if (posix() != nullptr) return sim_realpath(path, out, room);
  return realpath(path, out);
}
// fuse_session_destroy closes the /dev/fuse fd: the channel must know.
int vfsim_shim_close(int fd) {
  if (FuseDaemon* d = current_daemon()) {
    if (vfsim::fuse::DevFuse* dev = d->dev_by_fd(fd)) dev->fd_closed();
  }
  return close(fd);
}

// A file system may stat its own mount point (null.c does): the host has
// no such path; the daemon answers for it. Every other path is the host's.
int vfsim_shim_stat(const char* path, struct stat* st) {
  if (FuseDaemon* d = current_daemon(); d != nullptr && d->stat_mountpoint(path, st)) return 0;
  return stat(path, st);
}
int vfsim_shim_lstat(const char* path, struct stat* st) {
  if (FuseDaemon* d = current_daemon(); d != nullptr && d->stat_mountpoint(path, st)) return 0;
  return lstat(path, st);
}

// x86_64: struct stat64 is struct stat.
int vfsim_shim_stat64(const char* path, struct stat* st) { return vfsim_shim_stat(path, st); }
int vfsim_shim_lstat64(const char* path, struct stat* st) { return vfsim_shim_lstat(path, st); }

// --- the foreign heap (isolation.h) --------------------------------------------
// Blocks allocated in a daemon are tracked, so that what a run leaves behind
// is freed when its machine's daemons are gone.
void* vfsim_shim_malloc(size_t n) {
  void* p = malloc(n);
  return current_daemon() != nullptr ? vfsim::fuse::foreign_track(p) : p;
}
void* vfsim_shim_calloc(size_t n, size_t size) {
  void* p = calloc(n, size);
  return current_daemon() != nullptr ? vfsim::fuse::foreign_track(p) : p;
}
void* vfsim_shim_realloc(void* old, size_t n) {
  const bool in = current_daemon() != nullptr;
  if (in) vfsim::fuse::foreign_untrack(old);  // before: realloc may free it
  void* p = realloc(old, n);
  if (in) vfsim::fuse::foreign_track(p != nullptr || n == 0 ? p : old);  // failed: old stays
  return p;
}
void* vfsim_shim_reallocarray(void* old, size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) {
    errno = ENOMEM;
    return nullptr;
  }
  return vfsim_shim_realloc(old, n * size);
}
void vfsim_shim_free(void* p) {
  if (current_daemon() != nullptr) vfsim::fuse::foreign_untrack(p);
  free(p);
}
char* vfsim_shim_strdup(const char* s) {
  char* p = strdup(s);
  if (current_daemon() != nullptr) vfsim::fuse::foreign_track(p);
  return p;
}
char* vfsim_shim_strndup(const char* s, size_t n) {
  char* p = strndup(s, n);
  if (current_daemon() != nullptr) vfsim::fuse::foreign_track(p);
  return p;
}
int vfsim_shim_posix_memalign(void** out, size_t align, size_t n) {
  const int e = posix_memalign(out, align, n);
  if (e == 0 && current_daemon() != nullptr) vfsim::fuse::foreign_track(*out);
  return e;
}
void* vfsim_shim_aligned_alloc(size_t align, size_t n) {
  void* p = aligned_alloc(align, n);
  return current_daemon() != nullptr ? vfsim::fuse::foreign_track(p) : p;
}

// --- libfuse entry points replaced inside the machine ---------------------------
struct fuse_session;
struct fuse_loop_config;

int fuse_session_mount(struct fuse_session* se, const char* mountpoint) {
  if (FuseDaemon* d = current_daemon()) return d->attach_session(se, mountpoint);
  return refuse_outside("fuse_session_mount");
}
void fuse_session_unmount(struct fuse_session*) {}
int fuse_session_loop_mt_312(struct fuse_session* se, struct fuse_loop_config*) {
  if (FuseDaemon* d = current_daemon()) return d->run_loop(se);
  return refuse_outside("fuse_session_loop_mt");
}
int fuse_session_loop_mt(struct fuse_session* se, struct fuse_loop_config* c) {
  return fuse_session_loop_mt_312(se, c);
}
int fuse_session_loop_mt_32(struct fuse_session* se, struct fuse_loop_config* c) {
  return fuse_session_loop_mt_312(se, c);
}
int fuse_session_loop_mt_31(struct fuse_session* se, int) {
  return fuse_session_loop_mt_312(se, nullptr);
}
int fuse_daemonize(int) {
  if (current_daemon() != nullptr) return 0;
  return refuse_outside("fuse_daemonize");
}
int fuse_set_signal_handlers(struct fuse_session*) {
  if (current_daemon() != nullptr) return 0;
  return refuse_outside("fuse_set_signal_handlers");
}
void fuse_remove_signal_handlers(struct fuse_session*) {}

}  // extern "C"
