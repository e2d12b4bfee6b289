// The trace of a run: every scheduling decision and every event, folded into a
// stable 64-bit hash (FNV-1a over bytes that never include pointer values), and
// optionally kept in full for reports and replay comparison.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/types.h"

namespace vfsim::sim {

struct TraceEvent {
  std::uint64_t step = 0;  // machine step when it happened
  VTime time = 0;          // virtual time
  LwpId lwp = kNoLwp;      // who did it (kNoLwp: the machine itself)
  std::string kind;        // "decide", "sched", "block", "wake", "timer", module kinds...
  std::string detail;      // human-readable, deterministic
};

class Trace {
 public:
  explicit Trace(bool keep_events) : keep_(keep_events) {}

  bool keeping() const { return keep_; }
  std::uint64_t hash() const { return hash_; }
  const std::vector<TraceEvent>& events() const { return events_; }

  void mix(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      hash_ ^= (v >> (i * 8)) & 0xff;
      hash_ *= kPrime;
    }
  }
  void mix(std::string_view s) {
    for (unsigned char c : s) {
      hash_ ^= c;
      hash_ *= kPrime;
    }
    mix(static_cast<std::uint64_t>(s.size()));
  }

  // Keeps an event's text without hashing it: for details whose substance is
  // already mixed in cheaply (a decision's chosen lwp id), so the hash is the
  // same whether or not events are kept.
  void note(std::uint64_t step, VTime time, LwpId lwp, std::string_view kind,
            std::string_view detail) {
    if (keep_) {
      events_.push_back(TraceEvent{step, time, lwp, std::string(kind), std::string(detail)});
    }
  }

  // Records an event: always into the hash, into the list when keeping.
  void add(std::uint64_t step, VTime time, LwpId lwp, std::string_view kind,
           std::string_view detail) {
    mix(step);
    mix(static_cast<std::uint64_t>(lwp));
    mix(kind);
    mix(detail);
    if (keep_) {
      events_.push_back(TraceEvent{step, time, lwp, std::string(kind),
                                   std::string(detail)});
    }
  }

 private:
  static constexpr std::uint64_t kOffset = 0xcbf29ce484222325ULL;
  static constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  bool keep_;
  std::uint64_t hash_ = kOffset;
  std::vector<TraceEvent> events_;
};

}  // namespace vfsim::sim
