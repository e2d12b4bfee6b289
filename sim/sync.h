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
  void wake_all() {
    if (!waiters_.empty()) wake_all_waiters();
  }
  void forget_waiter(LwpId id);
  void wake_all_waiters();

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

// Lwp ids in arrival order, the first few stored inline: the readers of a
// lock are almost always none or one, and taking a lock must not allocate.
class LwpIdList {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  LwpId operator[](std::size_t i) const { return i < kInline ? inline_[i] : more_[i - kInline]; }
  // The position of the first `id`, or size() when absent.
  std::size_t index_of(LwpId id) const {
    std::size_t i = 0;
    while (i < size_ && (*this)[i] != id) ++i;
    return i;
  }
  bool contains(LwpId id) const { return index_of(id) != size_; }
  void push_back(LwpId id) {
    if (size_ < kInline) inline_[size_] = id;
    else more_.push_back(id);
    ++size_;
  }
  // Removes the first `id`, keeping the order of the rest; false if absent.
  bool erase(LwpId id);
  std::vector<LwpId> to_vector() const;

 private:
  static constexpr std::size_t kInline = 4;
  LwpId inline_[kInline] = {};
  std::size_t size_ = 0;
  std::vector<LwpId> more_;
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
  bool held_exclusive_by_me() const {
    return writer_ != kNoLwp && writer_ == machine_.current_id();
  }
  bool held_by_me() const {
    const LwpId me = machine_.current_id();
    return writer_ == me || readers_.contains(me);
  }
  bool held() const { return writer_ != kNoLwp || !readers_.empty(); }
  std::vector<LwpId> holders() const override;

 private:
  LwpId writer_ = kNoLwp;
  LwpIdList readers_;
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
  WaitChannel(Machine& m, std::string name) : Resource(m, std::move(name), ResourceKind::channel) {}
  // Returns false if `timeout` (virtual ns, 0 = none) expired first.
  bool sleep(std::string_view wmesg, VTime timeout = 0);
  bool sleep(Mutex& interlock, std::string_view wmesg, VTime timeout = 0);
  void wakeup();      // every sleeper
  void wakeup_one();  // one sleeper, chosen by the strategy
  // Wakes every sleeper without a scheduling point (for an lwp's exit, or
  // a waker whose next step is a scheduling point anyway).
  void wakeup_quiet() { wake_all(); }
  bool has_sleepers() const { return !waiters_.empty(); }
};

}  // namespace vfsim::sim
