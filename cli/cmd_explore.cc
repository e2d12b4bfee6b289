// `vfsim explore FILE` and `vfsim check FILE`: many schedules through
// sim::explore, a summary, and the report of the first failure. `check`
// compares the outcome with the scenario's expect_outcome for the effective
// configuration, so ctest can assert a knob's both sides with one file
// (several files, or every side of one: cmd_check.cc). `explore --shard
// K/N` explores one shard of the schedule indices; `vfsim merge`
// (cmd_merge.cc) combines the shards' --json summaries.
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/explore_run.h"
#include "scenarios/runner.h"

namespace vfsim::cli {

namespace {

#define VFSIM_EXPLORE_OPTIONS                                                                  \
  {"strategy", "NAME", "random, pct or dfs"}, {"schedules", "N", "how many schedules to run"}, \
      {"depth", "D", "pct: the bug depth"},                                                    \
      {"preemption-bound", "B", "dfs: most preemptions per schedule"},                         \
      {"seed", "N", "exploration seed"},                                                       \
      {"jobs", "N", "workers: threads, or processes for FUSE; same results as 1"},             \
      {"keep-going", "", "do not stop at the first failure; count them all"},                  \
      {"check-determinism", "", "re-run failing and sampled schedules, compare trace hashes"}, \
      {"long", "", "a long (soak) run: explore.long_schedules, default 10 x schedules"},       \
      kSetOption, kReportOption, kTraceOption, kTraceOutOption, kJsonOption

constexpr OptionSpec kExploreOptions[] = {
    VFSIM_EXPLORE_OPTIONS,
    {"shard", "K/N",
     "explore shard K of N (0 <= K < N): the schedule indices i with i % N == K; merge the "
     "shards' --json summaries with vfsim merge"},
    {"workers", "N", "a vfsim mount recording: lwps serving its requests (default 4)"},
};

constexpr OptionSpec kCheckOptions[] = {
    VFSIM_EXPLORE_OPTIONS,
    {"junit", "FILE", "write JUnit XML: a testsuite per file, a testcase per side"},
    {"sides", "",
     "check every side a file states (each `when` of expect_outcome, and the file as it is); "
     "implied by several files or --junit"},
    {"report-dir", "DIR",
     "with several sides: where reports of unexpected failures go (default vfsim-reports)"},
};
#undef VFSIM_EXPLORE_OPTIONS

enum class Mode { explore, check };

}  // namespace

std::vector<scenarios::Override> explore_overrides(const ParsedArgs& args) {
  auto out = set_overrides(args);
  static constexpr std::pair<std::string_view, std::string_view> kFlagKeys[] = {
      {"strategy", "explore.strategy"}, {"schedules", "explore.schedules"},
      {"depth", "explore.depth"},       {"preemption-bound", "explore.preemption_bound"},
      {"seed", "explore.seed"},
  };
  for (const auto& [flag, key] : kFlagKeys) {
    if (auto v = args.value(flag)) {
      out.push_back({std::string(key), *v, "--" + std::string(flag) + " " + *v});
    }
  }
  return out;
}

std::function<void(const sim::ExploreProgress&)> Progress::callback() {
  if (!enabled_) return {};
  return [this](const sim::ExploreProgress& p) {
    drawn_ = true;
    std::cout << "\r\033[K" << p.done << "/" << p.total << " schedules  "
              << static_cast<std::uint64_t>(p.per_second) << "/s  " << p.failures
              << " failures  ETA " << static_cast<std::uint64_t>(std::llround(p.eta_seconds)) << "s"
              << std::flush;
  };
}

Progress::~Progress() {
  if (drawn_) std::cout << "\r\033[K" << std::flush;
}

sim::ExploreOptions explore_options_for(const scenarios::Scenario& s, const ParsedArgs& args) {
  const auto& ex = s.explore;
  sim::ExploreOptions o = exploration_options(s);
  if (args.flag("long"))
    o.schedules = ex.long_schedules != 0 ? ex.long_schedules : 10 * ex.schedules;
  const auto jobs = args.number("jobs").value_or(1);
  if (jobs < 1 || jobs > 256) throw UsageError("--jobs: expected 1 to 256");
  o.jobs = static_cast<int>(jobs);
  o.keep_going = args.flag("keep-going");
  o.check_determinism = args.flag("check-determinism");
  if (const auto shard = args.value("shard")) {
    const auto [k, n] = parse_shard(*shard);
    if (!sim::make_strategy(o.strategy, sim::StrategyParams{})->parallel_safe()) {
      throw UsageError("--shard: a " + o.strategy +
                       " exploration's schedules depend on the ones before it; shard a random "
                       "or pct exploration");
    }
    o.shard_index = k;
    o.shard_count = n;
  }
  return o;
}

std::pair<std::uint64_t, std::uint64_t> parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  std::uint64_t k = 0;
  std::uint64_t n = 0;
  const char* end = text.data() + text.size();
  const bool ok = slash != std::string_view::npos &&
                  std::from_chars(text.data(), text.data() + slash, k).ptr == text.data() + slash &&
                  slash + 1 < text.size() &&
                  std::from_chars(text.data() + slash + 1, end, n).ptr == end && n >= 1 && k < n;
  if (!ok) {
    throw UsageError("--shard: expected K/N with 0 <= K < N (e.g. 0/4), got '" + std::string(text) +
                     "'");
  }
  return {k, n};
}

namespace {

nlohmann::json summary_json(const scenarios::Scenario& s, const sim::ExploreOptions& o,
                            const sim::ExploreSummary& sum,
                            const std::optional<std::string>& report,
                            const std::vector<scenarios::Override>& given,
                            const std::optional<std::string>& rerun) {
  std::vector<std::string> overrides;
  for (const auto& ov : given) overrides.push_back(ov.key + "=" + ov.value);
  using nlohmann::json;
  json out = {
      {"outcome", std::string(sim::outcome_name(sum.outcome))},
      {"scenario", s.path},
      {"schedules_explored", sum.schedules_explored},
      {"failures", sum.failures},
      {"first_failure_schedule",
       sum.first_failure_index ? json(*sum.first_failure_index) : json(nullptr)},
      {"schedules_per_second", sum.schedules_per_second},
      {"seed", o.seed},
      {"strategy", o.strategy},
      {"exhausted", sum.exhausted},
      {"report", report ? json(*report) : json(nullptr)},
      {"message", sum.first_failure ? json(sum.first_failure->message) : json(nullptr)},
      {"determinism_errors", sum.determinism_errors},
      // What `vfsim merge` needs to combine shards and to check that they
      // are shards of one exploration.
      {"shard", {{"index", o.shard_index}, {"count", o.shard_count}}},
      {"failing_schedules", sum.failing_schedules},
      {"keep_going", o.keep_going},
      {"schedules", o.schedules},
      {"depth", o.depth},
      {"preemption_bound", o.preemption_bound},
      {"scenario_name", s.name},
      {"scenario_sha256", s.sha256},
      {"overrides", overrides},
      {"rerun", rerun ? json(*rerun) : json(nullptr)},
  };
  if (s.expected_outcome)
    out["expected_outcome"] = std::string(sim::outcome_name(*s.expected_outcome));
  if (!s.caveats.empty()) out["caveats"] = s.caveats;
  return out;
}

}  // namespace

void print_pass(std::ostream& out, const scenarios::Scenario& s, const sim::ExploreOptions& o,
                const sim::ExploreSummary& sum) {
  out << "pass: " << s.name << ": " << sum.schedules_explored << " schedules explored ("
      << o.strategy << ", seed " << o.seed << ", " << o.jobs
      << (o.processes && o.jobs > 1 ? " worker processes), " : " jobs), ")
      << static_cast<std::uint64_t>(sum.schedules_per_second) << " schedules/s";
  if (sum.exhausted) out << ", search space exhausted";
  out << "\n";
}

namespace {

int explore_or_check(const ParsedArgs& args, Mode mode) {
  const std::string file = one_positional(args, "scenario FILE");
  if (mode == Mode::explore && replay_is_recording(file)) return explore_recording(file, args);
  const auto overrides = explore_overrides(args);
  const auto scenario = load(file, overrides);
  sim::ExploreOptions options = explore_options_for(*scenario, args);
  const bool json = args.flag("json");
  std::ostream& human = json ? std::cerr : std::cout;
  sim::ExploreSummary sum;
  {
    Progress progress(!json && isatty(STDOUT_FILENO) != 0);
    options.progress = progress.callback();
    sum = sim::explore(scenarios::make_run_fn(scenario), options);
  }
  verify_images(*scenario);
  print_caveats(human, *scenario);
  const sim::Outcome expected = scenario->expected_outcome.value_or(sim::Outcome::pass);
  // A setup failure means the scenario never ran as written: never as expected.
  const bool as_expected =
      mode == Mode::check && sum.outcome == expected && sum.outcome != sim::Outcome::setup;
  int status = sum.first_failure ? kExitFailure : kExitPass;
  std::optional<std::string> written;
  std::optional<std::string> rerun;
  if (sum.first_failure) rerun = rerun_command(file, overrides, sum.first_failure_index);
  if (sum.first_failure && !(as_expected && !args.value("report"))) {
    written = report_path(args);
    human << "found after " << sum.schedules_explored << " schedules"
          << (options.shard_count > 1 ? " of shard " + std::to_string(options.shard_index) + "/" +
                                            std::to_string(options.shard_count)
                                      : "")
          << ", " << sum.failures
          << (args.flag("keep-going") ? " failures in all\n" : " failure\n");
    if (args.flag("trace")) print_trace(human, sum.first_failure->events);
    (void)report_failure(human,
                         scenarios::make_report(*scenario, *sum.first_failure, options.strategy,
                                                sum.first_failure_index),
                         *written, *rerun);
    write_trace_out(args, human, *sum.first_failure, scenario->path, scenario->name);
  } else if (!sum.first_failure) {
    print_pass(human, *scenario, options, sum);
  }
  for (const auto& e : sum.determinism_errors) human << e << "\n";
  if (!sum.determinism_errors.empty()) status = kExitFailure;
  if (mode == Mode::check) {
    human << (as_expected ? "as expected: " : "NOT as expected: ") << scenario->name << " expects "
          << sim::outcome_name(expected) << ", exploring gave " << sim::outcome_name(sum.outcome)
          << "\n";
    status = as_expected && sum.determinism_errors.empty() ? kExitPass : kExitFailure;
  }
  if (json) {
    std::cout << summary_json(*scenario, options, sum, written, overrides, rerun).dump() << "\n";
  }
  return status;
}

}  // namespace

std::span<const OptionSpec> explore_options() { return kExploreOptions; }
std::span<const OptionSpec> check_options() { return kCheckOptions; }

int explore_command(const ParsedArgs& args) { return explore_or_check(args, Mode::explore); }

int check_command(const ParsedArgs& args) {
  if (args.positional.size() > 1 || args.value("junit") || args.flag("sides")) {
    return check_sides(args);
  }
  if (args.value("report-dir")) {
    throw UsageError("--report-dir: only with several files, --sides or --junit (else --report)");
  }
  return explore_or_check(args, Mode::check);
}

}  // namespace vfsim::cli
