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

// A host image a failing run read, and the digest of its content then.
struct ReportImage {
  std::string path;  // as the scenario wrote it (relative to the scenario file)
  std::string sha256;
};

// In the file (version 2), `scenario` is the scenario's path relative to the
// report's directory, so a report moved along with its scenario (a CI
// artifact) still finds it; `scenario_abs` is the absolute path, for a
// report moved alone; `scenario_sha256` names the exact text, so a replay
// never runs another file of the same name. Version 1 reports (a path
// relative to where explore ran, no digest) are still read.
struct Report {
  // In memory: the scenario file as the command found it (relative to the
  // current directory, or absolute); write_report makes it report-relative.
  // After read_report: as stored (see above).
  std::string scenario;
  std::string scenario_abs;                     // read_report: "" in a version 1 report
  std::string scenario_sha256;                  // "" when unknown (version 1)
  int version = 2;                              // of the report format
  std::string scenario_name;                    // its "name", checked on replay
  nlohmann::json config;                        // effective config (after --set), key -> value
  nlohmann::json explore;                       // effective explore settings
  std::string strategy;                         // that found it ("run", "replay" or a strategy)
  std::optional<std::uint64_t> schedule_index;  // its number in the exploration
  sim::RunResult result;                        // seed, schedule, outcome, message, hash, trace...
  std::vector<ReportImage> images;              // host images the runs read
  std::vector<std::string> caveats;             // Scenario::caveats: what the verdict rests on
};

[[nodiscard]] Report make_report(const Scenario& s, const sim::RunResult& r, std::string strategy,
                                 std::optional<std::uint64_t> schedule_index);

[[nodiscard]] nlohmann::json report_to_json(const Report& r);

// Reads a report file; a malformed one is a ScenarioError naming the file
// and the field.
[[nodiscard]] Report read_report(const std::string& path);

// Writes `r` to `path` (pretty-printed), the scenario's path made relative to
// the report's directory; false with `why` on an I/O error.
[[nodiscard]] bool write_report(const Report& r, const std::string& path, std::string* why);

// The --set overrides that reproduce the report's configuration.
[[nodiscard]] std::vector<Override> report_overrides(const Report& r, const std::string& path);

// Hex text of a trace hash: JSON numbers lose 64-bit precision in many tools.
[[nodiscard]] std::string hash_hex(std::uint64_t h);

}  // namespace vfsim::scenarios
