// Instrumented synchronisation primitives. Each one is a Resource: it has a
// name, knows who holds it, and lwps blocked on it are recorded, so a
// deadlock is reported as a wait-for cycle by lwp name and resource name.
//
// Unlike Boost.Fiber's own mutex and condition variable:
// - every acquire and every release is a scheduling point, contended or not;
// - when several lwps wait, the run's strategy chooses which one wakes;
// - timed waits use the machine's virtual clock only.
//
// All of them belong to one Machine and may only be used by its lwps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/machine.h"

namespace vfsim::sim {

class Resource {
 public:
  Resource(Machine& m, std::string name, ResourceKind kind)
      : machine_(m), name_(std::move(name)), kind_(kind) {}
  virtual ~Resource() = default;
  Resource(const Resource&) = delete;
  Resource& operator=(const Resource&) = delete;

  const std::string& name() const { return name_; }
  ResourceKind kind() const { return kind_; }
  Machine& machine() const { return machine_; }

  // Who could release the lwps waiting here: the holders of a lock, or the
  // lwps declared as wakers of a channel. Used for the wait-for graph.
  virtual std::vector<LwpId> holders() const { return wakers_; }

  // Declares that only `lwp` (e.g. the pagedaemon for "free memory") wakes
  // this resource, so waiting on it while `lwp` waits too is a cycle.
  void add_waker(LwpId lwp) { wakers_.push_back(lwp); }
  void clear_wakers() { wakers_.clear(); }

  // Lwps blocked here, in arrival order.
  const std::vector<LwpId>& waiters() const { return waiters_; }

 protected:
  // Blocks the current lwp here; false when the timeout fired.
  bool wait_here(std::string_view reason, VTime timeout = 0);
  // Wakes one waiter chosen by the strategy; false if none.
  bool wake_one();
  // Wakes every waiter.
  void wake_all();
  void forget_waiter(LwpId id);

  Machine& machine_;
  std::string name_;
  ResourceKind kind_;
  std::vector<LwpId> wakers_;
  std::vector<LwpId> waiters_;
};

class Mutex : public Resource {
 public:
  Mutex(Machine& m, std::string name) : Resource(m, std::move(name), ResourceKind::mutex) {}
  ~Mutex() override;
  void lock();
  bool try_lock();
  void unlock();
  bool held_by_me() const;
  bool held() const { return owner_ != kNoLwp; }
  LwpId owner() const { return owner_; }
  std::vector<LwpId> holders() const override;

 private:
  friend class CondVar;
  friend class WaitChannel;
  // Releases without a scheduling point (for cv_wait and interlocked sleep).
  void release();
  LwpId owner_ = kNoLwp;
};

class MutexGuard {
 public:
  explicit MutexGuard(Mutex& m) : m_(m) { m_.lock(); }
  ~MutexGuard() { m_.unlock(); }
  MutexGuard(const MutexGuard&) = delete;
  MutexGuard& operator=(const MutexGuard&) = delete;

 private:
  Mutex& m_;
};

// Shared/exclusive lock (rw_enter / rw_exit style).
class RwLock : public Resource {
 public:
  RwLock(Machine& m, std::string name) : Resource(m, std::move(name), ResourceKind::rwlock) {}
  ~RwLock() override;
  void lock_shared();
  void lock_exclusive();
  bool try_lock_shared();
  bool try_lock_exclusive();
  void unlock();  // releases whichever hold the current lwp has
  bool held_exclusive_by_me() const;
  bool held_by_me() const;
  bool held() const { return writer_ != kNoLwp || !readers_.empty(); }
  std::vector<LwpId> holders() const override;

 private:
  LwpId writer_ = kNoLwp;
  std::vector<LwpId> readers_;
};

// Condition variable over a sim Mutex (cv_wait / cv_signal / cv_broadcast).
class CondVar : public Resource {
 public:
  CondVar(Machine& m, std::string name) : Resource(m, std::move(name), ResourceKind::condvar) {}
  // Releases `mutex`, waits, re-acquires. Returns false if `timeout` (virtual
  // ns, 0 = none) expired first.
  bool wait(Mutex& mutex, VTime timeout = 0);
  void signal();
  void broadcast();
};

// A sleep channel (tsleep / wakeup). Without an interlock the caller must not
// pass a scheduling point between testing its condition and sleeping.
class WaitChannel : public Resource {
 public:
  WaitChannel(Machine& m, std::string name)
      : Resource(m, std::move(name), ResourceKind::channel) {}
  // Returns false if `timeout` (virtual ns, 0 = none) expired first.
  bool sleep(std::string_view wmesg, VTime timeout = 0);
  bool sleep(Mutex& interlock, std::string_view wmesg, VTime timeout = 0);
  void wakeup();      // every sleeper
  void wakeup_one();  // one sleeper, chosen by the strategy
  // Wakes every sleeper without a scheduling point (for an lwp's exit).
  void wakeup_quiet() { wake_all(); }
  bool has_sleepers() const { return !waiters_.empty(); }
};

}  // namespace vfsim::sim
