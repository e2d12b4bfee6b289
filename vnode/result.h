// Errors are values (CONVENTIONS.md §8): every kernel path in vnode/, vfs/
// and the drivers returns a Status (0 or an errno) or a Result<T> (a value or
// an errno). Both are [[nodiscard]]; ignoring one is an explicit, greppable
// `(void)` cast. Errno numbers are the host's <cerrno> values, which are the
// POSIX names scenarios and tests use.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

#include "sim/machine.h"

namespace vfsim::vn {

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr explicit Status(int err) : err_(err) {}
  constexpr bool ok() const { return err_ == 0; }
  constexpr int err() const { return err_; }
  friend constexpr bool operator==(Status a, Status b) { return a.err_ == b.err_; }

 private:
  int err_ = 0;
};

inline constexpr Status kOk{};

// A value, or an errno that is never 0.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : v_(s) {                 // NOLINT
    // A Result built from success carries no value: a bug in our own code,
    // which the machine reports as a panic.
    if (s.ok()) throw sim::PanicError{"Result<T> constructed from a zero Status"};
  }
  bool ok() const { return v_.index() == 0; }
  int err() const { return ok() ? 0 : std::get<1>(v_).err(); }
  Status status() const { return ok() ? kOk : std::get<1>(v_); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vfsim::vn

// Propagation helper: returns the errno of `expr` when it is not 0.
#define VN_TRY(expr)                        \
  do {                                      \
    ::vfsim::vn::Status vn_try_s_ = (expr); \
    if (!vn_try_s_.ok()) return vn_try_s_;  \
  } while (0)
