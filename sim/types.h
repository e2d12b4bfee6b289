// Basic vocabulary of the deterministic machine: lwp ids, virtual time and
// the typed outcomes a run can end in.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vfsim::sim {

using LwpId = std::uint32_t;
inline constexpr LwpId kNoLwp = ~LwpId{0};

// Virtual time in nanoseconds. Only the machine's clock exists; nothing in the
// simulation ever reads a host clock.
using VTime = std::uint64_t;
inline constexpr VTime kMicrosecond = 1'000;
inline constexpr VTime kMillisecond = 1'000'000;
inline constexpr VTime kSecond = 1'000'000'000;
// A time that never comes: no deadline.
inline constexpr VTime kNever = ~VTime{0};

// How a run ends. Exactly one per run; the first failure wins.
enum class Outcome : std::uint8_t {
  pass,         // every lwp finished and every check held
  panic,        // a KASSERT or an invariant failed inside the simulation
  deadlock,     // no lwp can run, no timer is pending, and waits form a cycle
  hang,         // an operation exceeded its virtual-time budget, or waits forever
  budget,       // the step budget ran out: livelock or runaway loop
  expectation,  // a scenario's check on results or contents failed
  leak,         // something was still held after teardown
  protocol,     // a message on a transport could not be parsed
  setup,        // a scenario's setup op failed: nothing after it ran as written
};

std::string_view outcome_name(Outcome o);

// What an lwp can wait on (sim/sync.h); named in deadlock reports.
enum class ResourceKind : std::uint8_t { mutex, rwlock, condvar, channel, join, sleep };
std::string_view resource_kind_name(ResourceKind k);
std::optional<Outcome> outcome_from_name(std::string_view name);

}  // namespace vfsim::sim
