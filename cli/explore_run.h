// What `vfsim explore`, `vfsim check` (one file or many) and `vfsim merge`
// share: the exploration a scenario and the command's options describe, and
// the progress line.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/args.h"
#include "scenarios/loader.h"
#include "scenarios/scenario.h"
#include "sim/explore.h"

namespace vfsim::cli {

// --set and the explore flags (--strategy, --schedules...) as overrides.
[[nodiscard]] std::vector<scenarios::Override> explore_overrides(const ParsedArgs& args);

// The exploration of `s` with --jobs, --keep-going, --long, --shard...
[[nodiscard]] sim::ExploreOptions explore_options_for(const scenarios::Scenario& s,
                                                      const ParsedArgs& args);

// "K/N" of --shard; UsageError unless 0 <= K < N.
[[nodiscard]] std::pair<std::uint64_t, std::uint64_t> parse_shard(std::string_view text);

// "pass: NAME: N schedules explored (...)".
void print_pass(std::ostream& out, const scenarios::Scenario& s, const sim::ExploreOptions& o,
                const sim::ExploreSummary& sum);

// The progress line, redrawn in place; only on a terminal.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  std::function<void(const sim::ExploreProgress&)> callback();

 private:
  bool enabled_;
  bool drawn_ = false;
};

// `vfsim check` of several files, or of every side of one (cmd_check.cc).
int check_sides(const ParsedArgs& args);

}  // namespace vfsim::cli
