// Error values and internal assertions for the ext2 core.
//
// File-system errors are values (CONVENTIONS §8): every operation returns a
// Status or a Result<T> carrying a host errno. Internal invariants are checked
// with EXT2_ASSERT, which throws InvariantViolation in every build type so that
// the simulator can turn it into a `panic` oracle; data read from an image is
// never asserted, it is checked and answered with EIO.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace vfsim::ext2 {

// Thrown when the library's own invariant does not hold (a bug, not bad input).
class InvariantViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void assert_fail(const char* expr, const char* file, int line);

#define EXT2_ASSERT(cond) ((cond) ? (void)0 : ::vfsim::ext2::assert_fail(#cond, __FILE__, __LINE__))

// Zero or an errno. [[nodiscard]] so an ignored error is a visible, greppable
// `(void)` cast.
class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr explicit Status(int err) : err_(err) {}
  static constexpr Status ok_status() { return Status(); }
  constexpr bool ok() const { return err_ == 0; }
  constexpr int err() const { return err_; }
  constexpr explicit operator bool() const { return ok(); }
  friend constexpr bool operator==(Status a, Status b) { return a.err_ == b.err_; }

 private:
  int err_ = 0;
};

inline constexpr Status kOk{};

// A value or an errno (never errno 0).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status s) : v_(s) { EXT2_ASSERT(!s.ok()); }  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  int err() const { return ok() ? 0 : std::get<1>(v_).err(); }
  Status status() const { return ok() ? kOk : std::get<1>(v_); }
  T& value() {
    EXT2_ASSERT(ok());
    return std::get<0>(v_);
  }
  const T& value() const {
    EXT2_ASSERT(ok());
    return std::get<0>(v_);
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

// Propagation helpers: keep call sites one line long.
#define EXT2_TRY(expr)                      \
  do {                                      \
    ::vfsim::ext2::Status ext2_s_ = (expr); \
    if (!ext2_s_.ok()) return ext2_s_;      \
  } while (0)

#define EXT2_CONCAT_(a, b) a##b
#define EXT2_CONCAT(a, b) EXT2_CONCAT_(a, b)
#define EXT2_TRY_ASSIGN_(tmp, lhs, expr) \
  auto tmp = (expr);                     \
  if (!tmp.ok()) return tmp.status();    \
  lhs = std::move(tmp.value())
// EXT2_TRY_ASSIGN(auto x, f()); declares/assigns x or returns f()'s errno.
#define EXT2_TRY_ASSIGN(lhs, expr) EXT2_TRY_ASSIGN_(EXT2_CONCAT(ext2_r_, __LINE__), lhs, expr)

inline Status corrupt() { return Status(EIO); }

}  // namespace vfsim::ext2
