// Helpers for the scenario tests: a catalog with the built-in modules plus a
// small test module whose ops exercise every argument type and result field,
// and shortcuts to load and explore scenarios.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/registry.h"
#include "scenarios/runner.h"
#include "sim/explore.h"

namespace vfsim::scenarios::testing {

// all_modules() + the "probe" module (ops probe.open, probe.stat, probe.echo).
const Catalog& test_catalog();

// The path of a shipped scenario file: scenario_path("lost_update").
std::string scenario_path(const std::string& name);

std::shared_ptr<const Scenario> load_file(const std::string& name,
                                          const std::vector<std::string>& sets = {});
std::shared_ptr<const Scenario> load_text(const std::string& text,
                                          const std::vector<std::string>& sets = {});

// The ScenarioError message of loading `text`, or "" if it loaded.
std::string load_error(const std::string& text, const std::vector<std::string>& sets = {});

sim::ExploreOptions explore_options(const Scenario& s);

// One run under `strategy` with `seed`, keeping the trace.
sim::RunResult run_one(const Scenario& s, const std::string& strategy, std::uint64_t seed);

}  // namespace vfsim::scenarios::testing
