#include "sim/scheduler.h"

#include <cstdio>
#include <cstdlib>

namespace vfsim::sim {

using boost::fibers::context;
using boost::fibers::type;

void SimAlgorithm::awakened(context* ctx) noexcept {
  if (ctx->is_context(type::main_context)) {
    main = ctx;
    main_ready = true;
    return;
  }
  if (ctx->is_context(type::dispatcher_context)) {
    dispatcher = ctx;
    dispatcher_ready = true;
    return;
  }
  if (machine_ == nullptr) {
    std::fprintf(stderr, "vfsim: internal error: an lwp woke after its machine ended\n");
    std::abort();
  }
  machine_->on_awakened(ctx);
}

context* SimAlgorithm::pick_next() noexcept {
  if (machine_ != nullptr && machine_->has_ready_lwp()) return machine_->pick_next();
  if (machine_ != nullptr && machine_->dispatcher_due_ && dispatcher_ready) {
    machine_->dispatcher_due_ = false;
    dispatcher_ready = false;
    return dispatcher;
  }
  if (main_ready) {
    main_ready = false;
    return main;
  }
  if (dispatcher_ready) {
    dispatcher_ready = false;
    return dispatcher;
  }
  return nullptr;
}

bool SimAlgorithm::has_ready_fibers() const noexcept {
  return main_ready || dispatcher_ready || (machine_ != nullptr && machine_->has_ready_lwp());
}

void SimAlgorithm::suspend_until(std::chrono::steady_clock::time_point const&) noexcept {
  // Boost would now block the thread waiting for another thread to wake a
  // fiber. In vfsim nothing outside the machine can, so this is a bug.
  std::fprintf(stderr, "vfsim: internal error: no runnable fiber and no main context\n");
  std::abort();
}

}  // namespace vfsim::sim
