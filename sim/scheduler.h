// The Boost.Fiber scheduling algorithm that hands every choice to the
// Machine (and through it to the run's strategy). Internal to sim/.
#pragma once

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/properties.hpp>

#include "sim/machine.h"

namespace vfsim::sim {

// Ties a fiber context to its lwp; owned (and deleted) by the context.
class LwpProps : public boost::fibers::fiber_properties {
 public:
  LwpProps(boost::fibers::context* ctx, Lwp* lwp) : fiber_properties(ctx), lwp_(lwp) {}
  Lwp* lwp() const { return lwp_; }

 private:
  Lwp* lwp_;
};

inline Lwp* lwp_of(boost::fibers::context* ctx) {
  auto* props = static_cast<LwpProps*>(ctx->get_properties());
  return props == nullptr ? nullptr : props->lwp();
}

// The ready set seen by Boost: the lwps (kept by the Machine, which the
// strategy chooses from), plus the thread's main context (which runs the
// machine's outer loop) and Boost's dispatcher context (which frees the
// stacks of finished fibers). Main only runs when no lwp is ready.
class SimAlgorithm final : public boost::fibers::algo::algorithm {
 public:
  explicit SimAlgorithm(Machine* m) : machine_(m) { m->algo_ = this; }

  void awakened(boost::fibers::context* ctx) noexcept override;
  boost::fibers::context* pick_next() noexcept override;
  bool has_ready_fibers() const noexcept override;
  void suspend_until(std::chrono::steady_clock::time_point const&) noexcept override;
  void notify() noexcept override {}

  // After the run: no more lwp decisions; only main and dispatcher remain.
  void detach() { machine_ = nullptr; }

  bool main_ready = false;
  bool dispatcher_ready = false;
  boost::fibers::context* main = nullptr;
  boost::fibers::context* dispatcher = nullptr;

 private:
  Machine* machine_;
};

}  // namespace vfsim::sim
