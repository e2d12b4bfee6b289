// `vfsim run FILE [--seed N]`: one schedule, with its full trace kept.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "scenarios/runner.h"

namespace vfsim::cli {

std::span<const OptionSpec> run_options() {
  static constexpr OptionSpec kOptions[] = {
      {"seed", "N",
       "explore.seed: the run's seed; with --schedule-index, the exploration's (default: the "
       "scenario's)"},
      {"schedule-index", "I",
       "run schedule #I of the exploration `vfsim explore` makes with these settings, as it "
       "ran it there"},
      {"strategy", "NAME", "random, pct or dfs (default: the scenario's explore.strategy)"},
      {"write-image", "",
       "write the scenario's ext2 images on the host (default: the run sees a private copy)"},
      kSetOption,
      kReportOption,
      kTraceOption,
      kTraceOutOption,
      kJsonOption,
  };
  return kOptions;
}

namespace {

// --seed and --strategy are explore settings; passing them as overrides
// validates them like any --set and records them in the report.
std::vector<scenarios::Override> run_overrides(const ParsedArgs& args) {
  auto out = set_overrides(args);
  if (auto v = args.value("strategy")) out.push_back({"explore.strategy", *v, "--strategy " + *v});
  if (auto v = args.value("seed")) out.push_back({"explore.seed", *v, "--seed " + *v});
  return out;
}

nlohmann::json run_json(const sim::RunResult& r, const scenarios::Scenario& s,
                        std::optional<std::uint64_t> index,
                        const std::optional<std::string>& report) {
  // Panics a userland server's fault domain contained: the server died, the
  // kernel went on (sim/machine.h).
  nlohmann::json contained = nlohmann::json::array();
  for (const auto& c : r.contained) {
    contained.push_back({{"domain", c.domain}, {"lwp", c.lwp}, {"message", c.message}});
  }
  return {{"outcome", std::string(sim::outcome_name(r.outcome))},
          {"message", r.message},
          {"scenario", s.path},
          {"seed", r.seed},
          {"strategy", s.explore.strategy},
          {"schedule_index", index ? nlohmann::json(*index) : nlohmann::json(nullptr)},
          {"steps", r.steps},
          {"decisions", r.schedule.size()},
          {"preemptions", r.preemptions},
          {"trace_hash", scenarios::hash_hex(r.trace_hash)},
          {"contained", contained},
          {"report", report ? nlohmann::json(*report) : nlohmann::json(nullptr)}};
}

// The run's own first schedule, seeded with explore.seed itself.
sim::RunResult run_seed(const scenarios::Scenario& s) {
  const auto& ex = s.explore;
  sim::StrategyParams params;
  params.seed = ex.seed;
  params.depth = ex.depth;
  params.preemption_bound = ex.preemption_bound;
  auto strategy = sim::make_strategy(ex.strategy, params);
  (void)strategy->begin_run(0, ex.seed);  // the first schedule always exists
  return scenarios::run_scenario(s, scenarios::machine_options(s, true), *strategy);
}

// Schedule `index` of the exploration, as `vfsim explore` ran it.
sim::RunResult run_index(const std::shared_ptr<const scenarios::Scenario>& s, std::uint64_t index) {
  sim::ExploreOptions o = exploration_options(*s);
  o.machine.keep_trace = true;
  auto r = sim::run_schedule(scenarios::make_run_fn(s), o, index);
  if (!r) {
    throw UsageError("--schedule-index " + std::to_string(index) + ": the " + o.strategy +
                     " exploration of " + s->path + " ends before that schedule");
  }
  return std::move(*r);
}

}  // namespace

int run_command(const ParsedArgs& args) {
  const std::string file = one_positional(args, "scenario FILE");
  const auto overrides = run_overrides(args);
  const auto scenario = load(file, overrides);
  const auto index = args.number("schedule-index");
  // Only here may a run change a host image, and only when asked.
  if (args.flag("write-image")) scenario->images->set_mode(sim::HostImages::Mode::write_back);
  const auto& ex = scenario->explore;
  const sim::RunResult r = index ? run_index(scenario, *index) : run_seed(*scenario);
  verify_images(*scenario);

  const bool json = args.flag("json");
  std::ostream& human = json ? std::cerr : std::cout;
  if (args.flag("trace")) print_trace(human, r.events);
  print_caveats(human, *scenario);
  int status = kExitPass;
  std::optional<std::string> written;
  if (r.failed()) {
    written = report_path(args);
    status = report_failure(human, scenarios::make_report(*scenario, r, ex.strategy, index),
                            *written, rerun_command(file, overrides, index));
  } else {
    human << "pass: " << scenario->name << " (seed " << r.seed << ", " << ex.strategy
          << (index ? ", schedule #" + std::to_string(*index) : "") << "): " << r.steps
          << " steps, " << r.schedule.size() << " decisions, " << r.preemptions
          << " preemptions, virtual time " << format_vtime(r.end_time) << ", trace "
          << scenarios::hash_hex(r.trace_hash) << "\n";
  }
  // Whatever the outcome, a server that died of a panic is said, never hidden
  // behind a pass.
  for (const auto& c : r.contained) {
    human << "  server died: " << c.domain << " (lwp '" << c.lwp << "'): " << c.message
          << "; the kernel went on\n";
  }
  write_trace_out(args, human, r, scenario->path, scenario->name);
  if (json) std::cout << run_json(r, *scenario, index, written).dump() << "\n";
  return status;
}

}  // namespace vfsim::cli
