// POSIX threads, semaphores, clocks and sleeps of one simulated process, on
// sim primitives. Foreign C code (libfuse, a FUSE file system) calls
// pthread_mutex_lock & co.; the shim (shim.cc) sends those calls here when
// they come from an lwp of a FUSE daemon, so that every acquire, release,
// wait and wakeup is a scheduling point the strategy decides, every timed
// wait and sleep runs on the virtual clock, and a deadlock among the daemon's
// threads is the machine's deadlock oracle's to report, with the wait-for
// cycle named by resource.
//
// Objects are found by address: a pthread_mutex_t (or cond, rwlock, sem)
// maps to its sim primitive, made at init or at first use (a static
// PTHREAD_MUTEX_INITIALIZER), dropped at destroy. Addresses are only ever
// looked up, never ordered or printed: each object is named by the ordinal
// of its first use ("fuse 'hello' mutex 3"), so names are the same in every
// run of a seed.
//
// Threads are lwps of the machine (daemon lwps: killed quietly when the run
// ends). pthread_t values are synthetic (a tag and the lwp id). Keys are
// per lwp, so libfuse's fuse_get_context() is per request, as each worker
// lwp serves one request at a time. Key destructors run when a thread
// started here returns or calls pthread_exit.
//
// Clocks: CLOCK_MONOTONIC (and every clock but REALTIME) reads the machine's
// virtual time; CLOCK_REALTIME reads kRealtimeEpochNs plus it. A run never
// sleeps or reads a host clock.
//
// Not supported (answered with an errno, logged in the trace as
// "fuse_posix_unsupported"): pthread_cancel, pthread_kill with a signal,
// process-shared objects, robust mutexes.
#pragma once

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "sim/machine.h"
#include "sim/sync.h"

namespace vfsim::fuse {

// 2023-11-14 22:13:20 UTC: what CLOCK_REALTIME reads at virtual time 0.
inline constexpr std::uint64_t kRealtimeEpochNs = 1'700'000'000ull * 1'000'000'000ull;

class PosixSim {
 public:
  // `name` names the process in resource names and traces; `slot_value` is
  // what every lwp this process starts carries in slot named kFuseSlotOwner.
  PosixSim(sim::Machine& m, std::string name, void* slot_value);
  ~PosixSim();
  PosixSim(const PosixSim&) = delete;
  PosixSim& operator=(const PosixSim&) = delete;

  sim::Machine& machine() const { return m_; }

  // Each returns 0 or an errno, as the pthread functions do.
  int mutex_init(void* addr, const pthread_mutexattr_t* attr);
  int mutex_destroy(void* addr);
  int mutex_lock(void* addr);
  int mutex_trylock(void* addr);
  int mutex_timedlock(void* addr, const timespec* abstime);
  int mutex_unlock(void* addr);

  int cond_init(void* addr, const pthread_condattr_t* attr);
  int cond_destroy(void* addr);
  int cond_wait(void* cond, void* mutex, const timespec* abstime);  // abstime null: no timeout
  int cond_signal(void* addr);
  int cond_broadcast(void* addr);

  int rwlock_init(void* addr);
  int rwlock_destroy(void* addr);
  int rwlock_lock(void* addr, bool exclusive, bool try_only);
  int rwlock_unlock(void* addr);

  // Semaphores answer -1 with errno set, like sem_*.
  int sem_init(void* addr, unsigned value);
  int sem_destroy(void* addr);
  int sem_wait(void* addr, bool try_only, const timespec* abstime);
  int sem_post(void* addr);
  int sem_getvalue(void* addr, int* out);

  int key_create(pthread_key_t* key, void (*destructor)(void*));
  int key_delete(pthread_key_t key);
  void* getspecific(pthread_key_t key);
  int setspecific(pthread_key_t key, const void* value);

  int thread_create(pthread_t* out, void* (*start)(void*), void* arg);
  int thread_join(pthread_t t, void** ret);
  int thread_detach(pthread_t t);
  pthread_t self();
  [[noreturn]] void thread_exit(void* ret);

  // Spawns an lwp of this process running `body` (slot set, keys cleaned
  // up at its end). For the session loop's workers and the daemon's main.
  sim::LwpId spawn(std::string name, std::function<void()> body);

  std::uint64_t clock_ns(clockid_t clk) const;
  void sleep_ns(std::uint64_t ns);
  // Sleeps until `abstime` on clock `clk`.
  void sleep_until(clockid_t clk, const timespec& abstime);

  // Logs a call the simulation cannot honour.
  void unsupported(std::string_view what);

 private:
  struct MutexObj;
  struct CondObj;
  struct RwObj;
  struct SemObj;
  struct ThreadObj;
  MutexObj& mutex(void* addr);
  CondObj& cond(void* addr);
  RwObj& rwlock(void* addr);
  SemObj* sem(void* addr);
  sim::VTime timeout_for(clockid_t clk, const timespec* abstime) const;
  void run_key_destructors(sim::LwpId lwp);
  void thread_main(ThreadObj* t);

  sim::Machine& m_;
  std::string name_;
  void* slot_value_;
  // Looked up by address only; never iterated where order could matter.
  template <class T>
  using AddrMap = std::unordered_map<const void*, std::unique_ptr<T>>;  // determinism-ok: lookup
  AddrMap<MutexObj> mutexes_;
  // The last two mutexes looked up (libfuse's session lock and the file
  // system's own alternate in every request): a hit for an address is
  // dropped whenever its entry of mutexes_ is erased or replaced, so it never
  // names a freed object.
  struct MutexHit {
    const void* addr = nullptr;
    MutexObj* obj = nullptr;
  };
  MutexHit mutex_hits_[2];
  unsigned mutex_hit_next_ = 0;
  void forget_mutex_hit(const void* addr) {
    for (MutexHit& h : mutex_hits_) {
      if (h.addr == addr) h = MutexHit{};
    }
  }
  AddrMap<CondObj> conds_;
  AddrMap<RwObj> rwlocks_;
  AddrMap<SemObj> sems_;
  std::uint64_t next_ordinal_ = 1;
  // Keys: destructors by key; values by (lwp, key).
  std::map<pthread_key_t, void (*)(void*)> keys_;
  pthread_key_t next_key_ = 1;
  std::map<sim::LwpId, std::map<pthread_key_t, const void*>> specific_;
  std::map<sim::LwpId, std::unique_ptr<ThreadObj>> threads_;  // by lwp id
};

}  // namespace vfsim::fuse
