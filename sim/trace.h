// The trace of a run: every scheduling decision and every event, folded into a
// stable 64-bit hash (over words that never include pointer values), and
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

  // The hash works a 64-bit word at a time (one multiply per word): it is
  // on the hot path of every scheduling point. Strings are read as
  // little-endian words byte by byte, so the value is the same on any host.
  void mix(std::uint64_t v) {
    hash_ = (hash_ ^ v) * kMul;
    hash_ ^= hash_ >> 32;
  }
  void mix(std::string_view s) {
    const std::size_t n = s.size();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) mix(load_le64(s.data() + i));
    std::uint64_t tail = static_cast<std::uint64_t>(n) << 56;
    for (std::size_t j = 0; i + j < n; ++j) {
      tail ^= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i + j])) << (8 * j);
    }
    mix(tail);
  }

  // A scheduling point: the hot path. The kind is a number and the tag is
  // summed up by its length and its first and last eight bytes (tags are
  // short literals that differ there), two multiplies in all.
  void add_sched(std::uint64_t step, VTime time, LwpId lwp, std::string_view tag) {
    mix(step ^ (static_cast<std::uint64_t>(lwp) << 40) ^ kSchedCode ^ tag_words(tag));
    if (tag.size() > 8) mix(load_le64(tag.data() + tag.size() - 8));
    if (keep_) events_.push_back(TraceEvent{step, time, lwp, "sched", std::string(tag)});
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
  // The first (up to) eight bytes of a tag with its length on top.
  static std::uint64_t tag_words(std::string_view tag) {
    std::uint64_t v = static_cast<std::uint64_t>(tag.size()) << 56;
    const std::size_t n = tag.size() < 8 ? tag.size() : 8;
    for (std::size_t j = 0; j < n; ++j) {
      v ^= static_cast<std::uint64_t>(static_cast<unsigned char>(tag[j])) << (8 * j);
    }
    return v * kMul;
  }
  static std::uint64_t load_le64(const char* p) {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[k])) << (8 * k);
    }
    return v;
  }
  static constexpr std::uint64_t kOffset = 0xcbf29ce484222325ULL;
  static constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  static constexpr std::uint64_t kSchedCode = 0x5c4edULL << 44;
  bool keep_;
  std::uint64_t hash_ = kOffset;
  std::vector<TraceEvent> events_;
};

}  // namespace vfsim::sim
