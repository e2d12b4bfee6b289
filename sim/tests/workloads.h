// Small workloads with known bugs, used by the strategy and explorer tests.
#pragma once

#include <memory>

#include "sim/sync.h"
#include "test_util.h"

namespace vfsim::sim::testing {

// A lost update that a random walk rarely finds: lwp "slow" does kSlowWork
// steps of unrelated work before its read-modify-write of a shared counter,
// lwp "fast" does its read-modify-write at once. The update is lost only if
// "fast" is held off for the whole of "slow"'s work (probability about
// 2^-kSlowWork for a random walk) and then runs inside "slow"'s window; pct
// finds it with one well-placed priority change. Without preemption the run
// always passes.
inline constexpr int kSlowWork = 8;
inline void lost_update(Machine& m) {
  auto counter = std::make_shared<int>(0);
  auto workers = std::make_shared<std::vector<LwpId>>();
  auto increment = [&m, counter] {
    int v = *counter;
    m.sched_point("between read and write");
    *counter = v + 1;
  };
  workers->push_back(m.spawn("slow", [&m, increment] {
    for (int i = 0; i < kSlowWork; ++i) m.sched_point("work");
    increment();
  }));
  workers->push_back(m.spawn("fast", [increment] { increment(); }));
  m.spawn("check", [&m, counter, workers] {
    for (LwpId w : *workers) m.join(w);
    if (*counter != 2)
      m.fail(Outcome::expectation, "counter is " + std::to_string(*counter) + ", expected 2");
  });
}

// The same increments under a mutex: no schedule fails.
inline void locked_counter(Machine& m) {
  auto counter = std::make_shared<int>(0);
  auto mu = std::make_shared<Mutex>(m, "counter lock");
  auto workers = std::make_shared<std::vector<LwpId>>();
  for (int i = 0; i < 2; ++i) {
    workers->push_back(m.spawn("inc" + std::to_string(i), [&m, counter, mu] {
      MutexGuard g(*mu);
      int v = *counter;
      m.sched_point("between read and write");
      *counter = v + 1;
    }));
  }
  m.spawn("check", [&m, counter, workers] {
    for (LwpId w : *workers) m.join(w);
    if (*counter != 2) m.fail(Outcome::expectation, "counter is " + std::to_string(*counter));
  });
}

// A bug that needs a preemption deep inside a long run: the order-violation
// of a flag set late by one lwp and read early by a second one after many
// steps of unrelated work.
inline void lock_order(Machine& m) {
  auto a = std::make_shared<Mutex>(m, "lock A");
  auto b = std::make_shared<Mutex>(m, "lock B");
  m.spawn("t1", [&m, a, b] {
    a->lock();
    m.sched_point("between");
    b->lock();
    b->unlock();
    a->unlock();
  });
  m.spawn("t2", [&m, a, b] {
    b->lock();
    m.sched_point("between");
    a->lock();
    a->unlock();
    b->unlock();
  });
}

}  // namespace vfsim::sim::testing
