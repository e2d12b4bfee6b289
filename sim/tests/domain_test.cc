// Tests of fault domains (sim/machine.h): a panic inside a domain — the lwps
// of one userland process — ends the domain and not the run. Each test
// builds a small "process" of lwps in a domain, makes one of them panic
// (a VFSIM_KASSERT, a thrown PanicError or std::exception, a panic in a
// kernel lwp that entered the domain with run_in_domain) and checks what
// the machine did: the domain's lwps unwound, its death hook ran once in
// the kernel, the contained panic is in the RunResult and the trace, and
// the kernel's lwps went on — while the same panic in a kernel lwp still
// ends the run as `panic`.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "sim/sync.h"
#include "test_util.h"

namespace vfsim::sim {
namespace {

using testing::run_once;

// Shows: a KASSERT in a domain's lwp ends the domain: its other lwp (blocked
// on a channel) is unwound without running on, the death hook runs once,
// in the kernel's domain, in the lwp that panicked; a kernel lwp goes on
// and the run passes, with the panic recorded (domain, lwp, message) in
// the RunResult and as a hashed trace event.
TEST(Domain, PanicInADomainEndsTheDomainNotTheRun) {
  int hooks = 0;
  DomainId hook_domain = 99;
  std::string hook_lwp;
  bool sibling_ran_on = false;
  bool kernel_done = false;
  auto r = run_once(
      [&](Machine& m) {
        auto ch = std::make_shared<WaitChannel>(m, "server work");
        m.spawn("kernel", [&m, &kernel_done, ch] {
          m.sleep_for(10 * kSecond);
          kernel_done = true;
        });
        m.spawn("starter", [&, ch] {
          const DomainId d = m.add_domain("test server", [&m, &hooks, &hook_domain, &hook_lwp] {
            ++hooks;
            hook_domain = m.current_domain();
            hook_lwp = m.current().name;
          });
          const bool ok = m.run_in_domain(d, [&, ch] {
            m.spawn(
                "server idle",
                [&, ch] {
                  ch->sleep("wait for work");
                  sibling_ran_on = true;
                },
                /*daemon=*/true);
            m.spawn(
                "server worker",
                [&m] {
                  m.sleep_for(kSecond);
                  VFSIM_KASSERT(m, 1 + 1 == 3, "a driver bug");
                },
                /*daemon=*/true);
          });
          EXPECT_TRUE(ok);
        });
      },
      "random", 1, /*keep_trace=*/true);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(kernel_done);
  EXPECT_FALSE(sibling_ran_on);
  EXPECT_EQ(hooks, 1);
  EXPECT_EQ(hook_domain, kKernelDomain);
  EXPECT_EQ(hook_lwp, "server worker");
  ASSERT_EQ(r.contained.size(), 1u);
  EXPECT_EQ(r.contained[0].domain, "test server");
  EXPECT_EQ(r.contained[0].lwp, "server worker");
  EXPECT_NE(r.contained[0].message.find("KASSERT failed: 1 + 1 == 3 (a driver bug)"),
            std::string::npos)
      << r.contained[0].message;
  EXPECT_EQ(r.contained[0].time, kSecond);
  bool traced = false;
  for (const auto& e : r.events) {
    if (e.kind == "contained_panic") traced = e.detail.find("test server: KASSERT") == 0;
  }
  EXPECT_TRUE(traced);
}

// Shows: the same KASSERT in a kernel lwp (no domain) still ends the run as
// `panic`, and nothing is recorded as contained.
TEST(Domain, PanicInTheKernelEndsTheRun) {
  auto r = run_once([](Machine& m) {
    m.spawn("kernel", [&m] {
      m.sleep_for(kSecond);
      VFSIM_KASSERT(m, 1 + 1 == 3, "a driver bug");
    });
  });
  EXPECT_EQ(r.outcome, Outcome::panic);
  EXPECT_TRUE(r.contained.empty());
}

// Shows: what escapes a domain's lwp — a PanicError, a std::exception — is
// contained as a KASSERT is; only the first panic of a domain is recorded
// (a second lwp of the dead domain that throws on its way out adds none).
TEST(Domain, ThrownPanicsAndExceptionsAreContained) {
  for (int kind = 0; kind < 2; ++kind) {
    auto r = run_once([kind](Machine& m) {
      m.spawn("starter", [&m, kind] {
        const DomainId d = m.add_domain("thrower", {});
        (void)m.run_in_domain(d, [&m, kind] {
          m.spawn("second", [&m] {
            try {
              m.sleep_for(5 * kSecond);
            } catch (const LwpKilled&) {
              throw std::runtime_error("thrown while unwinding");
            }
          });
          m.spawn("first", [&m, kind] {
            m.sleep_for(kSecond);
            if (kind == 0) throw PanicError{"machine-free assertion"};
            throw std::out_of_range("vector::at");
          });
        });
      });
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
    ASSERT_EQ(r.contained.size(), 1u);
    EXPECT_EQ(r.contained[0].lwp, "first");
    EXPECT_EQ(r.contained[0].message,
              kind == 0 ? "machine-free assertion" : "lwp 'first' threw vector::at");
  }
}

// Shows: a kernel lwp that entered a domain (run_in_domain) and panics
// there is unwound to the domain's boundary only: run_in_domain answers
// false after the death hook ran, the lwps spawned inside are unwound
// before they ever run, and the caller goes on holding the lock it took
// before it entered the domain.
TEST(Domain, RunInDomainUnwindsToItsBoundary) {
  bool child_ran = false;
  bool after = false;
  int hooks = 0;
  auto r = run_once([&](Machine& m) {
    auto lock = std::make_shared<Mutex>(m, "kernel lock");
    m.spawn("kernel", [&, lock] {
      MutexGuard g(*lock);
      const DomainId d = m.add_domain("synchronous", [&hooks] { ++hooks; });
      const bool ok = m.run_in_domain(d, [&] {
        EXPECT_EQ(m.current_domain(), d);
        m.spawn("child", [&child_ran] { child_ran = true; });
        VFSIM_KASSERT(m, false, "while starting");
      });
      EXPECT_FALSE(ok);
      EXPECT_EQ(m.current_domain(), kKernelDomain);
      EXPECT_TRUE(m.domain_dead(d));
      EXPECT_TRUE(lock->held_by_me());
      EXPECT_FALSE(m.run_in_domain(d, [] {}));  // a dead domain is not entered
      m.sleep_for(kSecond);
      after = true;
    });
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  EXPECT_TRUE(after);
  EXPECT_FALSE(child_ran);
  EXPECT_EQ(hooks, 1);
  ASSERT_EQ(r.contained.size(), 1u);
  EXPECT_EQ(r.contained[0].lwp, "kernel");
}

// Shows: while the panicking lwp unwinds, no other lwp runs — not the
// kernel's lwps, ready at the same virtual time, nor the domain's lwp
// woken by the release of the lock the panicking lwp held — until the
// death hook has run; the lock's waiter in the domain is unwound and never
// enters its critical section. Both a KASSERT (marked at once) and a
// thrown exception (caught only at the lwp's entry) are shown, over 30
// seeds, some of which run kernel lwps after the hook.
TEST(Domain, NothingRunsBetweenThePanicAndTheHook) {
  for (int kind = 0; kind < 2; ++kind) {
    int kernel_after_hook = 0;
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      std::vector<std::string> order;
      auto r = run_once(
          [&](Machine& m) {
            auto lock = std::make_shared<Mutex>(m, "server lock");
            m.spawn("starter", [&, lock] {
              const DomainId d = m.add_domain("server", [&order] { order.push_back("hook"); });
              (void)m.run_in_domain(d, [&, lock] {
                m.spawn("holder", [&, lock] {
                  MutexGuard g(*lock);
                  m.sleep_for(kSecond);
                  order.push_back("panic");
                  if (kind == 0) VFSIM_KASSERT(m, false, "holding the lock");
                  throw std::logic_error("holding the lock");
                });
                m.spawn("waiter", [&, lock] {
                  m.sleep_for(kMillisecond);
                  MutexGuard g(*lock);
                  order.push_back("waiter in");
                });
              });
            });
            for (int i = 0; i < 3; ++i) {
              m.spawn("kernel " + std::to_string(i), [&m, &order] {
                m.sleep_for(kSecond);
                for (int k = 0; k < 5; ++k) m.sched_point("spin");
                order.push_back("kernel");
              });
            }
          },
          "random", seed);
      ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
      ASSERT_EQ(order.size(), 5u);
      const auto panic = std::find(order.begin(), order.end(), "panic");
      ASSERT_NE(panic, order.end());
      ASSERT_EQ(*(panic + 1), "hook") << "seed " << seed;
      kernel_after_hook += static_cast<int>(std::count(panic + 2, order.end(), "kernel"));
    }
    EXPECT_GT(kernel_after_hook, 0) << "no seed had kernel lwps ready at the panic";
  }
}

// Shows: a run with a contained panic replays: the same seed gives the same
// trace hash, and the panic changes the hash (it is an event of the trace).
TEST(Domain, ContainedPanicIsDeterministic) {
  auto setup = [](bool panic) {
    return [panic](Machine& m) {
      m.spawn("starter", [&m, panic] {
        const DomainId d = m.add_domain("server", {});
        (void)m.run_in_domain(d, [&m, panic] {
          for (int i = 0; i < 3; ++i) {
            m.spawn("w" + std::to_string(i), [&m, panic, i] {
              for (int k = 0; k < 10; ++k) m.sched_point("work");
              if (panic && i == 1) VFSIM_KASSERT(m, false, "boom");
            });
          }
        });
      });
      m.spawn("kernel", [&m] {
        for (int k = 0; k < 30; ++k) m.sched_point("kwork");
      });
    };
  };
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto a = run_once(setup(true), "random", seed);
    auto b = run_once(setup(true), "random", seed);
    ASSERT_EQ(a.outcome, Outcome::pass);
    ASSERT_EQ(a.contained.size(), 1u);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_EQ(a.schedule, b.schedule);
    EXPECT_NE(a.trace_hash, run_once(setup(false), "random", seed).trace_hash);
  }
}

}  // namespace
}  // namespace vfsim::sim
