// A strategy decides every interleaving of a run. The machine asks it at each
// choice point (two or more lwps could run next, or two or more waiters could
// be woken); the list of its answers is the schedule. One interface, four
// implementations (random, pct, dfs, replay) in sim/strategies.cc: adding a
// strategy means adding a class and a line to make_strategy() there.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/types.h"

namespace vfsim::sim {

enum class ChoiceKind : std::uint8_t {
  schedule,  // which ready lwp runs next
  wakeup,    // which waiter a release or signal wakes
};

struct ChoicePoint {
  ChoiceKind kind = ChoiceKind::schedule;
  // Candidates: for `schedule`, sorted by lwp id; for `wakeup`, in the order
  // the waiters arrived. Always at least two.
  std::span<const LwpId> candidates;
  // Index in candidates of the lwp that was running and may continue, or -1
  // (it blocked, finished, or this is a wakeup choice).
  int current = -1;
  std::uint64_t step = 0;  // machine step count at this point
};

// The choice a strategy falls back on: let the running lwp continue, else the
// first candidate. A schedule made only of default choices has no preemption.
inline std::size_t default_choice(const ChoicePoint& cp) {
  return cp.current >= 0 ? static_cast<std::size_t>(cp.current) : 0;
}

// A schedule is the list of chosen lwp ids, one per choice point, in order.
using Schedule = std::vector<LwpId>;

struct StrategyParams {
  std::uint64_t seed = 1;
  int depth = 2;                        // pct: bug depth d (d-1 priority change points)
  int preemption_bound = 2;             // dfs: most preemptions per schedule
  std::uint64_t expected_steps = 1000;  // pct: estimate of steps per run
  Schedule schedule;                    // replay: the recorded decisions
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;

  // Prepares run number `run_index` whose seed is `run_seed`. Returns false
  // when the strategy has no schedule left (dfs: the space is exhausted).
  virtual bool begin_run(std::uint64_t run_index, std::uint64_t run_seed) = 0;

  // Returns an index into cp.candidates.
  virtual std::size_t choose(const ChoicePoint& cp) = 0;

  // Asked right after a schedule choice that kept the running lwp: the last
  // machine step up to which this strategy would keep choosing it, as long
  // as the set of ready lwps stays the same (0: no promise, ask every time).
  // The machine then records those choices itself, exactly as if choose()
  // had made them, so a promise changes speed, never a schedule or a hash.
  virtual std::uint64_t keeps_running_until() const { return 0; }

  // Told after each run how many steps it took (pct adapts its estimate).
  virtual void end_run(std::uint64_t steps) { (void)steps; }

  // True when the last run left the recorded schedule (replay only).
  virtual bool diverged() const { return false; }

  // Whether different runs may use different schedules in parallel workers.
  virtual bool parallel_safe() const { return true; }
};

// Creates "random", "pct", "dfs" or "replay"; nullptr for an unknown name.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyParams& params);

// The names make_strategy knows, for usage messages.
std::vector<std::string> strategy_names();

}  // namespace vfsim::sim
