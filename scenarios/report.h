// The JSON failure report: everything needed to replay one failing run
// (scenario path and name, effective config, explore settings, seed,
// strategy, schedule) plus what it found (outcome, message, trace hash,
// steps, preemptions, the trace).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/scenario.h"
#include "sim/machine.h"

namespace vfsim::scenarios {

struct Report {
  std::string scenario;                         // path of the scenario file
  std::string scenario_name;                    // its "name", checked on replay
  nlohmann::json config;                        // effective config (after --set), key -> value
  nlohmann::json explore;                       // effective explore settings
  std::string strategy;                         // that found it ("run", "replay" or a strategy)
  std::optional<std::uint64_t> schedule_index;  // its number in the exploration
  sim::RunResult result;                        // seed, schedule, outcome, message, hash, trace...
};

[[nodiscard]] Report make_report(const Scenario& s, const sim::RunResult& r, std::string strategy,
                                 std::optional<std::uint64_t> schedule_index);

[[nodiscard]] nlohmann::json report_to_json(const Report& r);

// Reads a report file; a malformed one is a ScenarioError naming the file
// and the field.
[[nodiscard]] Report read_report(const std::string& path);

// Writes `r` to `path` (pretty-printed); false with `why` on an I/O error.
[[nodiscard]] bool write_report(const Report& r, const std::string& path, std::string* why);

// The --set overrides that reproduce the report's configuration.
[[nodiscard]] std::vector<Override> report_overrides(const Report& r, const std::string& path);

// Hex text of a trace hash: JSON numbers lose 64-bit precision in many tools.
[[nodiscard]] std::string hash_hex(std::uint64_t h);

}  // namespace vfsim::scenarios
