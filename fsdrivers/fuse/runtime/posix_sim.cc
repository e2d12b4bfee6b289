#include "fsdrivers/fuse/runtime/posix_sim.h"

#include <cerrno>

#include "fsdrivers/fuse/runtime/slot.h"

namespace vfsim::fuse {

namespace {
// pthread_t values handed out: a tag, so that a stray real pthread_t is
// never mistaken for one of ours, and the lwp id.
constexpr std::uint64_t kThreadTag = 0x5653494d00000000ull;  // "VSIM"
pthread_t thread_id(sim::LwpId id) { return static_cast<pthread_t>(kThreadTag | id); }
bool is_ours(pthread_t t) { return (static_cast<std::uint64_t>(t) >> 32) == (kThreadTag >> 32); }
sim::LwpId lwp_of(pthread_t t) { return static_cast<sim::LwpId>(t & 0xffffffffu); }

// Thrown by pthread_exit, caught where the thread started.
struct ThreadExit {
  void* ret;
};
}  // namespace

struct PosixSim::MutexObj {
  MutexObj(sim::Machine& m, std::string name, bool recursive)
      : mu(m, std::move(name)), recursive(recursive) {}
  sim::Mutex mu;
  bool recursive;
  int depth = 0;  // recursive holds by the owner
};

struct PosixSim::CondObj {
  CondObj(sim::Machine& m, std::string name, clockid_t clk) : cv(m, std::move(name)), clock(clk) {}
  sim::CondVar cv;
  clockid_t clock;
};

struct PosixSim::RwObj {
  RwObj(sim::Machine& m, std::string name) : rw(m, std::move(name)) {}
  sim::RwLock rw;
};

struct PosixSim::SemObj {
  SemObj(sim::Machine& m, std::string name, unsigned v) : ch(m, std::move(name)), value(v) {}
  sim::WaitChannel ch;
  unsigned value;
};

struct PosixSim::ThreadObj {
  sim::LwpId lwp = sim::kNoLwp;
  void* (*start)(void*) = nullptr;
  void* arg = nullptr;
  void* ret = nullptr;
  bool detached = false;
  bool joined = false;
};

PosixSim::PosixSim(sim::Machine& m, std::string name, void* slot_value)
    : m_(m), name_(std::move(name)), slot_value_(slot_value) {}

PosixSim::~PosixSim() = default;

void PosixSim::unsupported(std::string_view what) {
  m_.event("fuse_posix_unsupported", name_ + ": " + std::string(what));
}

// ---------------------------------------------------------------------------
// Mutexes

PosixSim::MutexObj& PosixSim::mutex(void* addr) {
  for (const MutexHit& h : mutex_hits_) {
    if (h.addr == addr && addr != nullptr) return *h.obj;
  }
  auto& slot = mutexes_[addr];
  if (!slot) {
    slot = std::make_unique<MutexObj>(
        m_, "fuse '" + name_ + "' mutex " + std::to_string(next_ordinal_++), false);
  }
  mutex_hits_[mutex_hit_next_] = MutexHit{addr, slot.get()};
  mutex_hit_next_ ^= 1U;
  return *slot;
}

// A plain mutex is made at its first use, not here: libfuse initialises and
// destroys a lock in every request (fuse_req's) that is almost never taken,
// and a sim Mutex per request was a named allocation for nothing. Only a
// recursive one must remember its attribute now.
int PosixSim::mutex_init(void* addr, const pthread_mutexattr_t* attr) {
  int type = PTHREAD_MUTEX_DEFAULT;
  if (attr != nullptr) (void)pthread_mutexattr_gettype(attr, &type);
  forget_mutex_hit(addr);
  if (type != PTHREAD_MUTEX_RECURSIVE) {
    mutexes_.erase(addr);
    return 0;
  }
  mutexes_[addr] = std::make_unique<MutexObj>(
      m_, "fuse '" + name_ + "' mutex " + std::to_string(next_ordinal_++), true);
  return 0;
}

int PosixSim::mutex_destroy(void* addr) {
  auto it = mutexes_.find(addr);
  if (it == mutexes_.end()) return 0;
  if (it->second->mu.held()) return EBUSY;
  forget_mutex_hit(addr);
  mutexes_.erase(it);
  return 0;
}

int PosixSim::mutex_lock(void* addr) {
  MutexObj& o = mutex(addr);
  if (o.mu.held_by_me()) {
    if (!o.recursive) return EDEADLK;  // what an error-checking mutex says; a normal one hangs
    ++o.depth;
    return 0;
  }
  o.mu.lock();
  o.depth = 1;
  return 0;
}

int PosixSim::mutex_trylock(void* addr) {
  MutexObj& o = mutex(addr);
  if (o.mu.held_by_me()) {
    if (!o.recursive) return EBUSY;
    ++o.depth;
    return 0;
  }
  if (!o.mu.try_lock()) return EBUSY;
  o.depth = 1;
  return 0;
}

int PosixSim::mutex_timedlock(void* addr, const timespec* abstime) {
  // A timed lock polls on the virtual clock: the wait ends when the lock is
  // free or the deadline passed.
  const sim::VTime budget = timeout_for(CLOCK_REALTIME, abstime);
  const sim::VTime deadline = m_.now() + budget;
  for (;;) {
    if (mutex_trylock(addr) == 0) return 0;
    if (m_.now() >= deadline) return ETIMEDOUT;
    m_.sleep_for(std::min<sim::VTime>(sim::kMillisecond, deadline - m_.now()));
  }
}

int PosixSim::mutex_unlock(void* addr) {
  MutexObj& o = mutex(addr);
  if (!o.mu.held_by_me()) return EPERM;
  if (--o.depth > 0) return 0;
  // The release stays a scheduling point. In principle a preemption right
  // after it reaches nothing that one at the thread's next scheduling point
  // does not, but without it pct (depth 5) no longer found libfuse #746 in
  // fuse_hidden_release_unlink within 20,000 schedules (it did at 637):
  // what the explorer reaches within a budget is what counts.
  o.mu.unlock();
  return 0;
}

// ---------------------------------------------------------------------------
// Condition variables

PosixSim::CondObj& PosixSim::cond(void* addr) {
  auto& slot = conds_[addr];
  if (!slot) {
    slot = std::make_unique<CondObj>(
        m_, "fuse '" + name_ + "' cond " + std::to_string(next_ordinal_++), CLOCK_REALTIME);
  }
  return *slot;
}

int PosixSim::cond_init(void* addr, const pthread_condattr_t* attr) {
  clockid_t clk = CLOCK_REALTIME;
  if (attr != nullptr) (void)pthread_condattr_getclock(attr, &clk);
  conds_[addr] = std::make_unique<CondObj>(
      m_, "fuse '" + name_ + "' cond " + std::to_string(next_ordinal_++), clk);
  return 0;
}

int PosixSim::cond_destroy(void* addr) {
  auto it = conds_.find(addr);
  if (it == conds_.end()) return 0;
  if (!it->second->cv.waiters().empty()) return EBUSY;
  conds_.erase(it);
  return 0;
}

int PosixSim::cond_wait(void* c, void* mu, const timespec* abstime) {
  CondObj& cv = cond(c);
  MutexObj& o = mutex(mu);
  if (!o.mu.held_by_me()) return EPERM;
  const sim::VTime timeout = abstime != nullptr ? timeout_for(cv.clock, abstime) : 0;
  if (abstime != nullptr && timeout == 0) return ETIMEDOUT;
  const int depth = o.depth;
  const bool woken = cv.cv.wait(o.mu, timeout);
  o.depth = depth;
  return woken ? 0 : ETIMEDOUT;
}

int PosixSim::cond_signal(void* addr) {
  cond(addr).cv.signal();
  return 0;
}

int PosixSim::cond_broadcast(void* addr) {
  cond(addr).cv.broadcast();
  return 0;
}

// ---------------------------------------------------------------------------
// Read/write locks

PosixSim::RwObj& PosixSim::rwlock(void* addr) {
  auto& slot = rwlocks_[addr];
  if (!slot) {
    slot = std::make_unique<RwObj>(
        m_, "fuse '" + name_ + "' rwlock " + std::to_string(next_ordinal_++));
  }
  return *slot;
}

int PosixSim::rwlock_init(void* addr) {
  rwlocks_[addr] =
      std::make_unique<RwObj>(m_, "fuse '" + name_ + "' rwlock " + std::to_string(next_ordinal_++));
  return 0;
}

int PosixSim::rwlock_destroy(void* addr) {
  auto it = rwlocks_.find(addr);
  if (it == rwlocks_.end()) return 0;
  if (it->second->rw.held()) return EBUSY;
  rwlocks_.erase(it);
  return 0;
}

int PosixSim::rwlock_lock(void* addr, bool exclusive, bool try_only) {
  sim::RwLock& rw = rwlock(addr).rw;
  if (rw.held_by_me()) return EDEADLK;
  if (try_only) return (exclusive ? rw.try_lock_exclusive() : rw.try_lock_shared()) ? 0 : EBUSY;
  if (exclusive) rw.lock_exclusive();
  else rw.lock_shared();
  return 0;
}

int PosixSim::rwlock_unlock(void* addr) {
  sim::RwLock& rw = rwlock(addr).rw;
  if (!rw.held_by_me()) return EPERM;
  rw.unlock();
  return 0;
}

// ---------------------------------------------------------------------------
// Semaphores

PosixSim::SemObj* PosixSim::sem(void* addr) {
  auto it = sems_.find(addr);
  return it == sems_.end() ? nullptr : it->second.get();
}

int PosixSim::sem_init(void* addr, unsigned value) {
  sems_[addr] = std::make_unique<SemObj>(
      m_, "fuse '" + name_ + "' semaphore " + std::to_string(next_ordinal_++), value);
  return 0;
}

int PosixSim::sem_destroy(void* addr) {
  sems_.erase(addr);
  return 0;
}

int PosixSim::sem_wait(void* addr, bool try_only, const timespec* abstime) {
  SemObj* s = sem(addr);
  if (s == nullptr) {
    errno = EINVAL;
    return -1;
  }
  const sim::VTime timeout = abstime != nullptr ? timeout_for(CLOCK_REALTIME, abstime) : 0;
  m_.sched_point("sem_wait");
  while (s->value == 0) {
    if (try_only || (abstime != nullptr && timeout == 0)) {
      errno = try_only ? EAGAIN : ETIMEDOUT;
      return -1;
    }
    if (!s->ch.sleep("sem_wait", timeout)) {
      errno = ETIMEDOUT;
      return -1;
    }
  }
  --s->value;
  return 0;
}

int PosixSim::sem_post(void* addr) {
  SemObj* s = sem(addr);
  if (s == nullptr) {
    errno = EINVAL;
    return -1;
  }
  ++s->value;
  s->ch.wakeup_one();
  return 0;
}

int PosixSim::sem_getvalue(void* addr, int* out) {
  SemObj* s = sem(addr);
  if (s == nullptr) {
    errno = EINVAL;
    return -1;
  }
  *out = static_cast<int>(s->value);
  return 0;
}

// ---------------------------------------------------------------------------
// Keys

int PosixSim::key_create(pthread_key_t* key, void (*destructor)(void*)) {
  *key = next_key_++;
  keys_[*key] = destructor;
  return 0;
}

int PosixSim::key_delete(pthread_key_t key) {
  keys_.erase(key);
  for (auto& [lwp, values] : specific_) values.erase(key);
  return 0;
}

void* PosixSim::getspecific(pthread_key_t key) {
  auto it = specific_.find(m_.current_id());
  if (it == specific_.end()) return nullptr;
  auto v = it->second.find(key);
  return v == it->second.end() ? nullptr : const_cast<void*>(v->second);
}

int PosixSim::setspecific(pthread_key_t key, const void* value) {
  if (value == nullptr) {
    auto it = specific_.find(m_.current_id());
    if (it != specific_.end()) it->second.erase(key);
    return 0;
  }
  specific_[m_.current_id()][key] = value;
  return 0;
}

// POSIX: up to PTHREAD_DESTRUCTOR_ITERATIONS rounds, in key order.
void PosixSim::run_key_destructors(sim::LwpId lwp) {
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round) {
    auto it = specific_.find(lwp);
    if (it == specific_.end() || it->second.empty()) break;
    std::map<pthread_key_t, const void*> values;
    values.swap(it->second);
    for (const auto& [key, value] : values) {
      auto k = keys_.find(key);
      if (k != keys_.end() && k->second != nullptr) k->second(const_cast<void*>(value));
    }
  }
  specific_.erase(lwp);
}

// ---------------------------------------------------------------------------
// Threads

sim::LwpId PosixSim::spawn(std::string name, std::function<void()> body) {
  const sim::LwpId id = m_.spawn(
      std::move(name),
      [this, body = std::move(body)] {
        m_.current().slots[m_.lwp_slot(kFuseSlotOwner).index] = slot_value_;
        body();
        run_key_destructors(m_.current_id());
      },
      /*daemon=*/true);
  // Drawn as the daemon's process, not the kernel's (sim/trace_export.h).
  m_.set_group(id, "fuse daemon " + name_);
  return id;
}

void PosixSim::thread_main(ThreadObj* t) {
  try {
    t->ret = t->start(t->arg);
  } catch (const ThreadExit& e) {
    t->ret = e.ret;
  }
}

int PosixSim::thread_create(pthread_t* out, void* (*start)(void*), void* arg) {
  auto t = std::make_unique<ThreadObj>();
  t->start = start;
  t->arg = arg;
  ThreadObj* raw = t.get();
  const std::size_t n = threads_.size() + 1;
  const sim::LwpId id =
      spawn("fuse:" + name_ + " thread " + std::to_string(n), [this, raw] { thread_main(raw); });
  raw->lwp = id;
  threads_[id] = std::move(t);
  *out = thread_id(id);
  return 0;
}

int PosixSim::thread_join(pthread_t t, void** ret) {
  if (!is_ours(t)) return ESRCH;
  auto it = threads_.find(lwp_of(t));
  if (it == threads_.end()) return ESRCH;
  ThreadObj& o = *it->second;
  if (o.detached || o.joined) return EINVAL;
  if (o.lwp == m_.current_id()) return EDEADLK;
  m_.join(o.lwp);
  o.joined = true;
  if (ret != nullptr) *ret = o.ret;
  return 0;
}

int PosixSim::thread_detach(pthread_t t) {
  if (!is_ours(t)) return ESRCH;
  auto it = threads_.find(lwp_of(t));
  if (it == threads_.end()) return ESRCH;
  it->second->detached = true;
  return 0;
}

pthread_t PosixSim::self() { return thread_id(m_.current_id()); }

void PosixSim::thread_exit(void* ret) { throw ThreadExit{ret}; }

// ---------------------------------------------------------------------------
// Clocks and sleeps

std::uint64_t PosixSim::clock_ns(clockid_t clk) const {
  return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE ? kRealtimeEpochNs + m_.now()
                                                               : m_.now();
}

sim::VTime PosixSim::timeout_for(clockid_t clk, const timespec* abstime) const {
  if (abstime == nullptr) return 0;
  if (abstime->tv_sec < 0 || abstime->tv_nsec < 0) return 0;
  const std::uint64_t at = static_cast<std::uint64_t>(abstime->tv_sec) * 1'000'000'000ull +
                           static_cast<std::uint64_t>(abstime->tv_nsec);
  const std::uint64_t now = clock_ns(clk);
  return at > now ? at - now : 0;
}

void PosixSim::sleep_ns(std::uint64_t ns) { m_.sleep_for(ns); }

void PosixSim::sleep_until(clockid_t clk, const timespec& abstime) {
  const sim::VTime d = timeout_for(clk, &abstime);
  if (d > 0) m_.sleep_for(d);
  else m_.sched_point("sleep_until");
}

}  // namespace vfsim::fuse
