// The one errno result type of vfsim, below every layer (CONVENTIONS §8):
// every kernel path — the block device and sockets here, the pager, the vnode
// layer, the VFS, the drivers and the ext2 core — returns a Status (0 or an
// errno) or a Result<T> (a value or an errno that is never 0).
//
// Both are [[nodiscard]]; ignoring one is an explicit, greppable `(void)`
// cast. Errno numbers are the host's <cerrno> values, which are the POSIX
// names scenarios and tests use; the wire formats (puffs replies) carry them
// as plain integers and convert at the edge.
//
// This header needs no Machine, so that the ext2 core builds without the
// kernel (its tests and the fuzzer). Misuse — a Result built from success, the
// value of a failed Result — is a bug in our own code and fails VFSIM_ASSERT.
// The layers keep their own spellings as aliases of these: vn::Status,
// vn::Result, vn::kOk and VN_TRY (vnode/result.h), ext2::Status and
// EXT2_TRY (fsdrivers/ext2/result.h).
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

#include "sim/assert.h"

namespace vfsim::sim {

// Zero or an errno.
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
    VFSIM_ASSERT(!s.ok(), "Result<T> constructed from a zero Status");
  }
  bool ok() const { return v_.index() == 0; }
  int err() const { return ok() ? 0 : std::get<1>(v_).err(); }
  Status status() const { return ok() ? kOk : std::get<1>(v_); }
  T& value() {
    VFSIM_ASSERT(ok(), "value of a failed Result<T>, errno " + std::to_string(err()));
    return *std::get_if<0>(&v_);
  }
  const T& value() const {
    VFSIM_ASSERT(ok(), "value of a failed Result<T>, errno " + std::to_string(err()));
    return *std::get_if<0>(&v_);
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vfsim::sim

// Propagation: returns the errno of `expr` (a Status) when it is not 0.
#define VFSIM_TRY(expr)                          \
  do {                                           \
    ::vfsim::sim::Status vfsim_try_s_ = (expr);  \
    if (!vfsim_try_s_.ok()) return vfsim_try_s_; \
  } while (0)

#define VFSIM_CONCAT_(a, b) a##b
#define VFSIM_CONCAT(a, b) VFSIM_CONCAT_(a, b)
// tmp and lhs are a declaration, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define VFSIM_TRY_ASSIGN_(tmp, lhs, expr) \
  auto tmp = (expr);                      \
  if (!tmp.ok()) return tmp.status();     \
  lhs = std::move(tmp.value())
// NOLINTEND(bugprone-macro-parentheses)
// VFSIM_TRY_ASSIGN(auto x, f()); declares or assigns x from the Result f(),
// or returns its errno.
#define VFSIM_TRY_ASSIGN(lhs, expr) \
  VFSIM_TRY_ASSIGN_(VFSIM_CONCAT(vfsim_try_r_, __LINE__), lhs, expr)
