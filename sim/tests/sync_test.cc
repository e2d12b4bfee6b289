// Tests of the instrumented primitives: mutual exclusion under every
// strategy, that uncontended operations are still scheduling points, that the
// strategy picks which waiter wakes, rwlock sharing, condvar and channel
// timeouts on the virtual clock.
#include "sim/sync.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace vfsim::sim {
namespace {

using testing::run_once;

// Increments under a mutex are never lost, whatever the schedule.
TEST(Sync, MutexExcludes) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    int counter = 0;
    auto r = run_once(
        [&](Machine& m) {
          auto mu = std::make_shared<Mutex>(m, "counter lock");
          for (int i = 0; i < 3; ++i) {
            m.spawn("t" + std::to_string(i), [&m, &counter, mu] {
              for (int k = 0; k < 4; ++k) {
                MutexGuard g(*mu);
                int v = counter;
                m.sched_point("inside");
                counter = v + 1;
              }
            });
          }
        },
        "random", seed);
    ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
    ASSERT_EQ(counter, 12) << "seed " << seed;
  }
}

// An uncontended lock and unlock are scheduling points: each counts steps.
TEST(Sync, UncontendedLockIsSchedulingPoint) {
  auto r = run_once([&](Machine& m) {
    m.spawn("t", [&m] {
      Mutex mu(m, "m");
      mu.lock();
      mu.unlock();
    });
  });
  EXPECT_EQ(r.steps, 2u);
}

// With three waiters on a mutex, different seeds wake different waiters first.
TEST(Sync, StrategyChoosesWhichWaiterWakes) {
  std::set<std::string> firsts;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    std::string first;
    run_once(
        [&](Machine& m) {
          auto mu = std::make_shared<Mutex>(m, "m");
          m.spawn("holder", [&m, mu] {
            mu->lock();
            m.sleep_for(kSecond);  // everyone else queues up meanwhile
            mu->unlock();
          });
          for (int i = 0; i < 3; ++i) {
            m.spawn("w" + std::to_string(i), [&m, mu, &first, i] {
              m.sleep_for(kMillisecond);
              mu->lock();
              if (first.empty()) first = "w" + std::to_string(i);
              mu->unlock();
            });
          }
        },
        "random", seed);
    firsts.insert(first);
  }
  EXPECT_GE(firsts.size(), 2u);
}

// Two readers share an rwlock; a writer waits for both.
TEST(Sync, RwLockSharedThenExclusive) {
  auto r = run_once(
      [&](Machine& m) {
        auto rw = std::make_shared<RwLock>(m, "rw");
        auto readers_in = std::make_shared<int>(0);
        auto max_readers = std::make_shared<int>(0);
        for (int i = 0; i < 2; ++i) {
          m.spawn("r" + std::to_string(i), [&m, rw, readers_in, max_readers] {
            rw->lock_shared();
            ++*readers_in;
            *max_readers = std::max(*max_readers, *readers_in);
            m.sleep_for(kSecond);
            --*readers_in;
            rw->unlock();
          });
        }
        m.spawn("w", [&m, rw, readers_in, max_readers] {
          m.sleep_for(kMillisecond);
          rw->lock_exclusive();
          EXPECT_EQ(*readers_in, 0);
          EXPECT_EQ(*max_readers, 2);
          rw->unlock();
        });
      },
      "random", 5);
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
}

// cv_wait with a timeout returns false after exactly that much virtual time.
TEST(Sync, CondVarTimeoutUsesVirtualClock) {
  VTime woke = 0;
  bool ok = true;
  auto r = run_once([&](Machine& m) {
    m.spawn("t", [&] {
      Mutex mu(m, "m");
      CondVar cv(m, "cv");
      mu.lock();
      ok = cv.wait(mu, 250 * kMillisecond);
      woke = m.now();
      mu.unlock();
    });
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_FALSE(ok);
  EXPECT_EQ(woke, 250 * kMillisecond);
}

// A producer signals a consumer through a condvar; no wakeup is lost.
TEST(Sync, CondVarSignalDelivers) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    int got = 0;
    auto r = run_once(
        [&](Machine& m) {
          auto mu = std::make_shared<Mutex>(m, "m");
          auto cv = std::make_shared<CondVar>(m, "cv");
          auto items = std::make_shared<int>(0);
          m.spawn("consumer", [&m, mu, cv, items, &got] {
            MutexGuard g(*mu);
            while (got < 3) {
              while (*items == 0) cv->wait(*mu);
              --*items;
              ++got;
            }
          });
          m.spawn("producer", [&m, mu, cv, items] {
            for (int i = 0; i < 3; ++i) {
              MutexGuard g(*mu);
              ++*items;
              cv->signal();
            }
          });
        },
        "random", seed);
    ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
    ASSERT_EQ(got, 3);
  }
}

// tsleep/wakeup: a sleeper with a timeout is woken early by wakeup().
TEST(Sync, ChannelWakeupBeforeTimeout) {
  bool ok = false;
  VTime at = 0;
  auto r = run_once([&](Machine& m) {
    auto ch = std::make_shared<WaitChannel>(m, "chan");
    m.spawn("sleeper", [&, ch] {
      ok = ch->sleep("wait", 10 * kSecond);
      at = m.now();
    });
    m.spawn("waker", [&, ch] {
      m.sleep_for(2 * kSecond);
      ch->wakeup();
    });
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(ok);
  EXPECT_EQ(at, 2 * kSecond);
}

// Unlocking a mutex one does not hold is a kernel panic.
TEST(Sync, UnlockNotHeldPanics) {
  auto r = run_once([&](Machine& m) {
    m.spawn("t", [&] {
      Mutex mu(m, "m");
      mu.unlock();
    });
  });
  EXPECT_EQ(r.outcome, Outcome::panic);
  EXPECT_NE(r.message.find("does not hold"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace vfsim::sim

namespace vfsim::sim {
namespace {

// A MutexGuard whose unlock is a scheduling point where another lwp ends the
// run: the lwp switched out inside the guard's destructor must be unwound
// cleanly later, never terminate the process (releases do not throw).
TEST(Sync, RunEndingDuringGuardReleaseIsClean) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    auto r = run_once(
        [&](Machine& m) {
          auto mu = std::make_shared<Mutex>(m, "m");
          m.spawn("holder", [&m, mu] {
            for (int i = 0; i < 3; ++i) {
              MutexGuard g(*mu);
              m.sched_point("inside");
            }
            m.sched_point("after");
          });
          m.spawn("failer", [&m] {
            m.sched_point("a");
            m.fail(Outcome::expectation, "ending the run");
          });
        },
        "random", seed);
    ASSERT_EQ(r.outcome, Outcome::expectation) << r.message;
  }
}

}  // namespace
}  // namespace vfsim::sim
