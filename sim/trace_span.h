// A span of work on the current lwp (a VOP, a server op) for the tools that
// draw a run (sim/trace_kinds.h): a "span_begin" note when it opens, a "span_end"
// note when it closes, even when the run unwinds through it. Notes are kept
// only with a full trace and never hashed, so a span changes no trace hash
// and costs one test of Trace::keeping() when the trace is not kept; the
// name is built only then.
#pragma once

#include <string>
#include <utility>

#include "sim/machine.h"

namespace vfsim::sim {

class TraceSpan {
 public:
  // `name` is a callable returning the span's name (std::string).
  template <typename NameFn>
  TraceSpan(Machine& m, NameFn&& name) : m_(m.trace().keeping() ? &m : nullptr) {
    if (m_ != nullptr) [[unlikely]]
      m_->note("span_begin", std::forward<NameFn>(name)());
  }
  ~TraceSpan() {
    if (m_ != nullptr) [[unlikely]]
      m_->note("span_end", "");
  }
  TraceSpan(const TraceSpan&) = delete;
  TraceSpan& operator=(const TraceSpan&) = delete;

 private:
  Machine* m_;
};

}  // namespace vfsim::sim
