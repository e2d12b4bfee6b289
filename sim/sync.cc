#include "sim/sync.h"

#include <algorithm>
#include <exception>

namespace vfsim::sim {

// ---------------------------------------------------------------------------
// Resource

bool Resource::wait_here(std::string_view reason, VTime timeout) {
  const LwpId me = machine_.current_id();
  waiters_.push_back(me);
  bool ok = false;
  try {
    ok = machine_.block(*this, reason, timeout);
  } catch (...) {
    forget_waiter(me);
    throw;
  }
  forget_waiter(me);
  return ok;
}

void Resource::forget_waiter(LwpId id) {
  auto it = std::find(waiters_.begin(), waiters_.end(), id);
  if (it != waiters_.end()) waiters_.erase(it);
}

bool Resource::wake_one() {
  if (waiters_.empty()) return false;
  const std::size_t idx = machine_.choose_waiter(waiters_);
  const LwpId id = waiters_[idx];
  waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(idx));
  machine_.wake(*machine_.lwp(id));
  return true;
}

void Resource::wake_all_waiters() {
  std::vector<LwpId> all;
  all.swap(waiters_);
  for (LwpId id : all) machine_.wake(*machine_.lwp(id));
}

// ---------------------------------------------------------------------------
// Mutex

Mutex::~Mutex() = default;

std::vector<LwpId> Mutex::holders() const {
  if (owner_ == kNoLwp) return {};
  return {owner_};
}

bool Mutex::held_by_me() const { return owner_ != kNoLwp && owner_ == machine_.current_id(); }

void Mutex::lock() {
  const LwpId me = machine_.current_id();
  if (machine_.killing()) {
    owner_ = me;  // the run is over; only unwinding is left
    return;
  }
  machine_.sched_point("mutex_enter");
  VFSIM_KASSERT(machine_, owner_ != me, "mutex '" + name_ + "' locked twice by one lwp");
  while (owner_ != kNoLwp) {
    wait_here("lock");
    if (machine_.killing()) {
      owner_ = me;
      return;
    }
  }
  owner_ = me;
}

bool Mutex::try_lock() {
  if (!machine_.killing()) machine_.sched_point("mutex_tryenter");
  if (owner_ != kNoLwp) return false;
  owner_ = machine_.current_id();
  return true;
}

void Mutex::release() {
  if (!machine_.killing()) {
    VFSIM_KASSERT(machine_, owner_ == machine_.current_id(),
                  "mutex '" + name_ + "' released by an lwp that does not hold it");
  }
  owner_ = kNoLwp;
  wake_one();
}

void Mutex::unlock() {
  release();
  machine_.release_point("mutex_exit");
}

// ---------------------------------------------------------------------------
// LwpIdList

bool LwpIdList::erase(LwpId id) {
  std::size_t i = index_of(id);
  if (i == size_) return false;
  for (; i + 1 < size_; ++i) {
    const LwpId next = (*this)[i + 1];
    if (i < kInline) inline_[i] = next;
    else more_[i - kInline] = next;
  }
  --size_;
  if (size_ >= kInline) more_.pop_back();
  return true;
}

std::vector<LwpId> LwpIdList::to_vector() const {
  std::vector<LwpId> out;
  out.reserve(size_);
  for (std::size_t i = 0; i < size_; ++i) out.push_back((*this)[i]);
  return out;
}

// ---------------------------------------------------------------------------
// RwLock

RwLock::~RwLock() = default;

std::vector<LwpId> RwLock::holders() const {
  if (writer_ != kNoLwp) return {writer_};
  return readers_.to_vector();
}

void RwLock::lock_shared() {
  const LwpId me = machine_.current_id();
  if (machine_.killing()) {
    readers_.push_back(me);
    return;
  }
  machine_.sched_point("rw_enter_shared");
  VFSIM_KASSERT(machine_, !held_by_me(), "rwlock '" + name_ + "' entered twice by one lwp");
  while (writer_ != kNoLwp) {
    wait_here("rw_shared");
    if (machine_.killing()) break;
  }
  readers_.push_back(me);
}

void RwLock::lock_exclusive() {
  const LwpId me = machine_.current_id();
  if (machine_.killing()) {
    writer_ = me;
    return;
  }
  machine_.sched_point("rw_enter_exclusive");
  if (writer_ == kNoLwp && readers_.empty()) [[likely]] {  // free, so not ours either
    writer_ = me;
    return;
  }
  VFSIM_KASSERT(machine_, !held_by_me(), "rwlock '" + name_ + "' entered twice by one lwp");
  while (writer_ != kNoLwp || !readers_.empty()) {
    wait_here("rw_exclusive");
    if (machine_.killing()) break;
  }
  writer_ = me;
}

bool RwLock::try_lock_shared() {
  if (!machine_.killing()) machine_.sched_point("rw_tryenter_shared");
  if (writer_ != kNoLwp || held_by_me()) return false;
  readers_.push_back(machine_.current_id());
  return true;
}

bool RwLock::try_lock_exclusive() {
  if (!machine_.killing()) machine_.sched_point("rw_tryenter_exclusive");
  if (writer_ != kNoLwp || !readers_.empty()) return false;
  writer_ = machine_.current_id();
  return true;
}

void RwLock::unlock() {
  const LwpId me = machine_.current_id();
  if (writer_ == me) {
    writer_ = kNoLwp;
  } else {
    const bool held = readers_.erase(me);
    if (!machine_.killing()) {
      VFSIM_KASSERT(machine_, held,
                    "rwlock '" + name_ + "' released by an lwp that does not hold it");
    }
  }
  // Every waiter retries; the strategy orders them when they run.
  if (writer_ == kNoLwp && readers_.empty()) wake_all();
  machine_.release_point("rw_exit");
}

// ---------------------------------------------------------------------------
// CondVar and WaitChannel

bool CondVar::wait(Mutex& mutex, VTime timeout) {
  VFSIM_KASSERT(machine_, mutex.held_by_me() || machine_.killing(),
                "cv_wait on '" + name_ + "' without holding '" + mutex.name() + "'");
  const LwpId me = machine_.current_id();
  waiters_.push_back(me);
  mutex.release();  // no scheduling point between release and sleep
  bool ok = false;
  try {
    ok = machine_.block(*this, "cv_wait", timeout);
  } catch (...) {
    forget_waiter(me);
    throw;
  }
  forget_waiter(me);
  mutex.lock();
  return ok;
}

void CondVar::signal() {
  wake_one();
  machine_.release_point("cv_signal");
}

void CondVar::broadcast() {
  wake_all();
  machine_.release_point("cv_broadcast");
}

bool WaitChannel::sleep(std::string_view wmesg, VTime timeout) { return wait_here(wmesg, timeout); }

bool WaitChannel::sleep(Mutex& interlock, std::string_view wmesg, VTime timeout) {
  const LwpId me = machine_.current_id();
  waiters_.push_back(me);
  interlock.release();
  bool ok = false;
  try {
    ok = machine_.block(*this, wmesg, timeout);
  } catch (...) {
    forget_waiter(me);
    throw;
  }
  forget_waiter(me);
  interlock.lock();
  return ok;
}

void WaitChannel::wakeup() {
  wake_all();
  machine_.release_point("wakeup");
}

void WaitChannel::wakeup_one() {
  wake_one();
  machine_.release_point("wakeup_one");
}

}  // namespace vfsim::sim
