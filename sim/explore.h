// Exploration over many runs of one workload: the explorer (many schedules,
// optionally on several worker threads), replay of one recorded schedule, the
// determinism self-check and the shrinker. The workload is a RunFn that builds
// a fresh Machine with the given options and strategy, runs it and returns the
// result; it must be safe to call from several threads at once (one machine
// per thread, shared inputs read-only).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/machine.h"
#include "sim/strategy.h"

namespace vfsim::sim {

using RunFn = std::function<RunResult(const MachineOptions&, Strategy&)>;

struct ExploreProgress {
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::uint64_t failures = 0;
  double per_second = 0;
  double eta_seconds = 0;
};

struct ExploreOptions {
  std::string strategy = "random";
  std::uint64_t schedules = 1000;
  std::uint64_t seed = 1;
  int depth = 2;             // pct
  int preemption_bound = 2;  // dfs
  int jobs = 1;
  // Run the jobs as forked worker processes instead of threads: for
  // workloads whose foreign code keeps process-wide state (a libfuse file
  // system's globals), which one process can hold for one machine at a
  // time. Results are the same as with threads and as with jobs == 1.
  bool processes = false;
  bool keep_going = false;  // otherwise stop at the first failure
  // Shard shard_index of shard_count: only the schedule indices i with
  // i % shard_count == shard_index, each run exactly as the whole
  // exploration runs it, so the shards' results partition the whole's
  // (merge them with the rules of ExploreSummary). Needs a strategy whose
  // schedules do not depend on the ones before (Strategy::parallel_safe).
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;
  bool check_determinism = false;
  std::uint64_t determinism_sample = 16;  // re-run every Nth passing schedule
  MachineOptions machine;                 // seed is replaced per schedule
  // Called from the calling thread at most a few times per second.
  std::function<void(const ExploreProgress&)> progress;
};

struct ExploreSummary {
  Outcome outcome = Outcome::pass;  // of the first failure, or pass
  // Without keep_going, as one sequential worker would report: the schedules
  // up to and including the first failure (of this shard's), and 1 failure.
  std::uint64_t schedules_explored = 0;
  std::uint64_t failures = 0;
  // Every failing schedule index that was run, in order. Without
  // keep_going, workers may have run (and found failing) schedules past the
  // first failure; they are listed but not counted in `failures`.
  std::vector<std::uint64_t> failing_schedules;
  std::optional<std::uint64_t> first_failure_index;  // schedule number
  std::optional<RunResult> first_failure;            // with its full trace
  double seconds = 0;
  double schedules_per_second = 0;
  bool exhausted = false;  // dfs: every schedule within the bound was run
  std::uint64_t max_steps = 0;
  // Non-empty when --check-determinism found two runs of one schedule that
  // differ: each names the schedule and the first divergent step.
  std::vector<std::string> determinism_errors;
};

// How many schedule indices the shard of `options` has (all of them when
// shard_count is 1).
std::uint64_t shard_size(const ExploreOptions& options);

// The seed of schedule `index` of an exploration started with `seed`.
std::uint64_t schedule_seed(std::uint64_t seed, std::uint64_t index);

// Runs up to options.schedules schedules. With jobs > 1, results (first
// failure, counts) are the same as with jobs == 1: schedule i always gets the
// same seed, and the failure reported is the one with the lowest index.
// With `processes`, the jobs are worker processes (fork) sharing only
// counters; the first failure is then run again in the calling process, and
// its trace hash must be the one the worker saw.
ExploreSummary explore(const RunFn& run, const ExploreOptions& options);

// Runs schedule `index` of the exploration `options` on its own, exactly as
// explore() runs it: the same run seed (schedule_seed), the same pct
// calibration, and for a strategy whose schedules depend on the ones before
// (dfs) those runs first. Keeps the full trace. nullopt when the strategy
// has no schedule `index` (dfs: the space ends earlier).
std::optional<RunResult> run_schedule(const RunFn& run, const ExploreOptions& options,
                                      std::uint64_t index);

// Replays one recorded schedule with the given run seed.
RunResult replay(const RunFn& run, MachineOptions machine, const Schedule& schedule,
                 bool* diverged = nullptr);

// Runs `schedule` twice with full traces and compares them; returns "" when
// identical, else a description naming the first divergent step.
std::string check_determinism(const RunFn& run, const MachineOptions& machine,
                              const Schedule& schedule);

// A failure's message with every number replaced by '#' (a number is a run
// of letters and digits that starts with a digit: 42, 0x7f, 250ms), so two
// failures of one bug compare equal when only counts, sizes, times or
// addresses differ: "lwp t1 op 3 (read): expected 5, got 4" has the shape
// "lwp t1 op # (read): expected #, got #".
[[nodiscard]] std::string message_shape(std::string_view message);

// True when two failing runs fail at the same site: the same outcome, the
// same failing lwp and operation (the op's place, which holds its list and
// index, without the repetition number " #k"), and the same message shape.
[[nodiscard]] bool same_failure_site(const RunResult& a, const RunResult& b);

struct ShrinkResult {
  RunResult result;  // the shortest failing run found, at the same site
  std::size_t original_decisions = 0;
  std::uint32_t original_preemptions = 0;
  std::size_t decisions = 0;
  std::uint32_t preemptions = 0;
  std::uint64_t attempts = 0;
};

// Delta debugging over the decisions of a failing run: looks for a shorter
// schedule with fewer preemptions that fails at the same site
// (same_failure_site), so it never trades one bug for another.
ShrinkResult shrink(const RunFn& run, const MachineOptions& machine, const RunResult& failing,
                    std::uint64_t max_attempts = 2000);

}  // namespace vfsim::sim
