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

namespace trace_detail {
inline constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;
// Eight bytes as a little-endian word, byte by byte, so the value is the
// same on any host.
constexpr std::uint64_t load_le64(const char* p) {
  std::uint64_t v = 0;
  for (int k = 0; k < 8; ++k) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[k])) << (8 * k);
  }
  return v;
}
}  // namespace trace_detail

// The tag of a scheduling point ("mutex_enter", "vcache.load"): a string
// literal whose hash words are worked out at compile time, because a
// scheduling point is the hottest path of every run. The words sum a tag up
// by its length and its first and last eight bytes (tags are short literals
// that differ there). A tag built at run time must say so: SchedTag::runtime.
class SchedTag {
 public:
  template <std::size_t N>
  consteval SchedTag(const char (&s)[N])  // NOLINT: implicit on purpose
      : SchedTag(std::string_view(s, N - 1), 0) {}
  static constexpr SchedTag runtime(std::string_view s) { return SchedTag(s, 0); }

  constexpr std::string_view text() const { return text_; }
  constexpr std::uint64_t head() const { return head_; }
  constexpr bool has_tail() const { return text_.size() > 8; }
  constexpr std::uint64_t tail() const { return tail_; }

 private:
  constexpr SchedTag(std::string_view s, int) : text_(s) {
    std::uint64_t v = static_cast<std::uint64_t>(s.size()) << 56;
    const std::size_t n = s.size() < 8 ? s.size() : 8;
    for (std::size_t j = 0; j < n; ++j) {
      v ^= static_cast<std::uint64_t>(static_cast<unsigned char>(s[j])) << (8 * j);
    }
    head_ = v * trace_detail::kMul;
    tail_ = s.size() > 8 ? trace_detail::load_le64(s.data() + s.size() - 8) : 0;
  }
  std::string_view text_;
  std::uint64_t head_ = 0;
  std::uint64_t tail_ = 0;
};

struct TraceEvent {
  std::uint64_t step = 0;  // machine step when it happened
  VTime time = 0;          // virtual time
  LwpId lwp = kNoLwp;      // who did it (kNoLwp: the machine itself)
  std::string kind;        // "decide", "sched", "block", "wake", "timer", module kinds...
  std::string detail;      // human-readable, deterministic
  // What ties this event to another one, for the kinds sim/trace_kinds.h
  // says pair up: a message's send and its receive carry the same key (the
  // socket, direction and message number); a wake names the lwp it wakes.
  // Never a pointer value. Empty for every other event.
  std::string key;
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
    for (; i + 8 <= n; i += 8) mix(trace_detail::load_le64(s.data() + i));
    std::uint64_t tail = static_cast<std::uint64_t>(n) << 56;
    for (std::size_t j = 0; i + j < n; ++j) {
      tail ^= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i + j])) << (8 * j);
    }
    mix(tail);
  }

  // A scheduling point: the hot path. The kind is a number and the tag's
  // words were worked out at compile time (SchedTag): two multiplies in all.
  [[gnu::always_inline]] void add_sched(std::uint64_t step, VTime time, LwpId lwp,
                                        const SchedTag& tag) {
    mix(step ^ (static_cast<std::uint64_t>(lwp) << 40) ^ kSchedCode ^ tag.head());
    if (tag.has_tail()) mix(tag.tail());
    if (keep_) [[unlikely]]
      keep_sched(step, time, lwp, tag.text());
  }

  // Keeps an event's text without hashing it: for details whose substance is
  // already mixed in cheaply (a decision's chosen lwp id), so the hash is the
  // same whether or not events are kept.
  void note(std::uint64_t step, VTime time, LwpId lwp, std::string_view kind,
            std::string_view detail, std::string_view key = {}) {
    if (keep_) {
      events_.push_back(
          TraceEvent{step, time, lwp, std::string(kind), std::string(detail), std::string(key)});
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
      events_.push_back(TraceEvent{step, time, lwp, std::string(kind), std::string(detail), {}});
    }
  }

 private:
  [[gnu::noinline]] void keep_sched(std::uint64_t step, VTime time, LwpId lwp,
                                    std::string_view tag) {
    events_.push_back(TraceEvent{step, time, lwp, "sched", std::string(tag), {}});
  }
  static constexpr std::uint64_t kOffset = 0xcbf29ce484222325ULL;
  static constexpr std::uint64_t kMul = trace_detail::kMul;
  static constexpr std::uint64_t kSchedCode = 0x5c4edULL << 44;
  bool keep_;
  std::uint64_t hash_ = kOffset;
  std::vector<TraceEvent> events_;
};

}  // namespace vfsim::sim
