// A scenario as loaded: every op resolved to its OpSpec, every argument typed,
// every expectation parsed, `when` conditions already applied against the
// effective configuration. A Scenario is immutable after loading and is
// shared (read-only) by every worker thread of an exploration.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/config.h"
#include "scenarios/registry.h"
#include "sim/host_images.h"
#include "sim/types.h"

namespace vfsim::boot {
struct BootConfig;
}

namespace vfsim::scenarios {

// One argument of an op call as the file gives it. Integer-like arguments may
// name a register instead ("$fd1"), read when the op runs.
struct LoadedArg {
  const ArgSpec* spec = nullptr;
  Args::Value value;               // the literal; monostate when absent
  std::optional<std::string> reg;  // register name without the '$'
};

// One acceptable result; an expectation holds when any alternative matches.
struct ExpectAlt {
  bool any = false;  // anything at all
  bool ok = false;   // success with any value
  std::optional<std::int64_t> value = {};
  std::optional<int> err = {};
  std::optional<std::string> data = {};
  std::optional<nlohmann::json> record = {};  // subset of the result's record
};

struct Expectation {
  std::vector<ExpectAlt> alternatives;
  std::string text;  // as written (compact JSON), for messages
};

struct OpCall {
  const OpSpec* spec = nullptr;
  std::size_t module_index = 0;  // into Catalog::modules(): whose state it uses
  std::vector<LoadedArg> args;   // in spec order
  std::optional<std::string> save;
  std::optional<Expectation> expect;
  std::uint32_t repeat = 1;
  sim::VTime budget = 0;  // hang budget of this op; 0: the run's default
  std::size_t index = 0;  // position in its list in the file
  std::string pointer;    // JSON pointer of the op, for diagnostics
};

struct LwpPlan {
  std::string name;
  std::optional<std::size_t> process;  // index into Config::processes()
  std::vector<OpCall> ops;
};

struct ExploreSettings {
  std::string strategy = "random";
  std::uint64_t schedules = 1000;
  int depth = 2;
  int preemption_bound = 2;
  std::uint64_t seed = 1;
  std::uint64_t step_budget = 2'000'000;
  std::uint64_t op_budget_ms = 60'000;
  std::uint64_t long_schedules = 0;  // --long; 0 means 10 x schedules

  [[nodiscard]] nlohmann::json to_json() const;
};

struct Scenario {
  std::string path;    // as given on the command line
  std::string sha256;  // of the file's bytes: a report names the exact text it came from
  std::string name;
  std::string description;
  const Catalog* catalog = nullptr;  // outlives the scenario
  Config config;
  // The machine every run of this scenario boots: built from `config` by
  // the modules (Module::configure) and checked once, at load time.
  std::shared_ptr<const boot::BootConfig> boot;
  std::vector<OpCall> setup;
  std::vector<LwpPlan> lwps;
  std::vector<OpCall> checks;
  ExploreSettings explore;
  // What exploring this configuration should end in (expect_outcome), when
  // the file says; ctest asserts it with `vfsim check`.
  std::optional<sim::Outcome> expected_outcome;
  // The host image files the runs mount, each run seeing its own
  // copy-on-write view of them (sim/host_images.h); relative image paths
  // are relative to the scenario file. Shared by every run; thread-safe.
  std::shared_ptr<sim::HostImages> images;
  // Some op needs one machine per process (OpSpec::process_isolation):
  // `explore --jobs N` runs N worker processes instead of threads.
  bool process_isolation = false;
  // What every run and report must say about this scenario (OpSpec::caveat),
  // each once, in the order the ops name them.
  std::vector<std::string> caveats;
};

}  // namespace vfsim::scenarios
