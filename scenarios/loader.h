// Loading a scenario file: parse, check every field against the catalog's
// ops and knobs, apply --set overrides, evaluate `when`. Any problem is a
// ScenarioError whose message is one line naming the file, the place
// (LINE:COL and the JSON pointer) and the reason; nothing runs after one.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/registry.h"
#include "scenarios/scenario.h"

namespace vfsim::scenarios {

// Bad input: the message is the complete one-line diagnostic.
class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A KEY=VALUE override of a config knob or an explore setting
// ("explore.schedules"). `origin` names where it came from in messages
// ("--set x=1", or the report file it was read from).
struct Override {
  std::string key;
  std::string value;
  std::string origin;
};

// Parses "KEY=VALUE"; throws ScenarioError naming `text` when malformed.
[[nodiscard]] Override parse_set(std::string_view text);

// Reads and loads `path`.
[[nodiscard]] Scenario load_scenario(const std::string& path, const Catalog& catalog,
                                     const std::vector<Override>& overrides = {});

// Loads from text; `path` is only used in messages and kept in the result.
[[nodiscard]] Scenario load_scenario_text(std::string_view text, const std::string& path,
                                          const Catalog& catalog,
                                          const std::vector<Override>& overrides = {});

}  // namespace vfsim::scenarios
