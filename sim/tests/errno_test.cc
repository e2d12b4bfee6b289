// Tests of the one errno result type (sim/errno.h) and the machine-free
// kernel assertion (sim/assert.h): values and errnos round-trip, the
// propagation macros return the first error, misuse of a Result is a kernel
// assertion (a PanicError outside a machine, Outcome::panic inside one), and
// both assertion forms give the same text.
#include "sim/errno.h"

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace vfsim::sim {
namespace {

using testing::run_once;

// A Status is 0 or an errno; a Result holds a value or a nonzero errno.
TEST(Errno, StatusAndResultCarryValuesAndErrnos) {
  EXPECT_TRUE(kOk.ok());
  EXPECT_EQ(Status(ENOENT).err(), ENOENT);
  EXPECT_FALSE(Status(ENOENT).ok());
  EXPECT_TRUE(Status(EIO) == Status(EIO));
  Result<std::string> v(std::string("x"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "x");
  EXPECT_EQ(v->size(), 1u);
  EXPECT_EQ(v.err(), 0);
  EXPECT_TRUE(v.status() == kOk);
  Result<std::string> e(Status(EACCES));
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.err(), EACCES);
  EXPECT_EQ(e.status().err(), EACCES);
}

Status step(int err, int* ran) {
  ++*ran;
  return Status(err);
}

Status two_steps(int first, int second, int* ran) {
  VFSIM_TRY(step(first, ran));
  VFSIM_TRY(step(second, ran));
  return kOk;
}

Result<int> half(int n) {
  if (n % 2 != 0) return Status(EINVAL);
  return n / 2;
}

Result<int> quarter(int n) {
  VFSIM_TRY_ASSIGN(const int h, half(n));
  VFSIM_TRY_ASSIGN(const int q, half(h));
  return q;
}

// VFSIM_TRY returns the first error and skips what follows; VFSIM_TRY_ASSIGN
// takes a Result's value or returns its errno.
TEST(Errno, PropagationReturnsTheFirstError) {
  int ran = 0;
  EXPECT_TRUE(two_steps(0, 0, &ran).ok());
  EXPECT_EQ(ran, 2);
  ran = 0;
  EXPECT_EQ(two_steps(EIO, 0, &ran).err(), EIO);
  EXPECT_EQ(ran, 1);
  ran = 0;
  EXPECT_EQ(two_steps(0, ENOSPC, &ran).err(), ENOSPC);
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(*quarter(12), 3);
  EXPECT_EQ(quarter(6).err(), EINVAL);  // 6 / 2 = 3 is odd
  EXPECT_EQ(quarter(5).err(), EINVAL);
}

std::string panic_text(void (*fn)()) {
  try {
    fn();
  } catch (const PanicError& p) {
    return p.message;
  }
  return "";
}

// Outside a machine, misuse of a Result throws PanicError with the kernel
// assertion's text: the condition, the reason and the place.
TEST(Errno, ResultMisuseIsAKernelAssertion) {
  const std::string zero = panic_text([] { Result<int> r(kOk); });
  EXPECT_NE(zero.find("KASSERT failed: !s.ok() (Result<T> constructed from a zero Status) at "),
            std::string::npos)
      << zero;
  EXPECT_NE(zero.find("sim/errno.h:"), std::string::npos) << zero;
  const std::string value = panic_text([] {
    Result<int> r(Status(EIO));
    (void)r.value();
  });
  EXPECT_NE(value.find("value of a failed Result<T>, errno " + std::to_string(EIO)),
            std::string::npos)
      << value;
}

// VFSIM_ASSERT and VFSIM_KASSERT say the same thing about a failure.
TEST(Errno, BothAssertionFormsGiveTheSameText) {
  const std::string free_form = panic_text([] { VFSIM_ASSERT(2 + 2 == 5, "arithmetic"); });
  EXPECT_EQ(free_form.find("KASSERT failed: 2 + 2 == 5 (arithmetic) at "), 0u) << free_form;
  auto r = run_once(
      [](Machine& m) { m.spawn("bad", [&m] { VFSIM_KASSERT(m, 2 + 2 == 5, "arithmetic"); }); });
  EXPECT_EQ(r.outcome, Outcome::panic);
  EXPECT_EQ(r.message.substr(0, r.message.find(" at ")),
            free_form.substr(0, free_form.find(" at ")));
}

// Inside a machine, a failed VFSIM_ASSERT in an lwp ends the run as a panic
// with its message (the machine catches PanicError at the lwp's entry).
TEST(Errno, MachineFreeAssertionInAnLwpIsAPanic) {
  auto r = run_once([](Machine& m) {
    m.spawn("other", [&m] { m.sched_point("x"); });
    m.spawn("bad", [] {
      Result<int> r(Status(ENOENT));
      (void)r.value();
    });
  });
  EXPECT_EQ(r.outcome, Outcome::panic);
  EXPECT_NE(r.message.find("value of a failed Result<T>, errno " + std::to_string(ENOENT)),
            std::string::npos)
      << r.message;
}

}  // namespace
}  // namespace vfsim::sim
