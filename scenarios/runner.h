// Running a loaded scenario on a fresh Machine: the workload the explorer,
// replay and shrink call. A non-daemon "controller" lwp starts the modules,
// runs the setup ops, spawns one lwp per scenario lwp, joins them, runs the
// checks and stops the modules. Every op is bracketed by op_begin/op_end (the
// hang oracle) and traced with its result; a missed expectation ends the run
// as Outcome::expectation.
#pragma once

#include <memory>

#include "scenarios/scenario.h"
#include "sim/explore.h"

namespace vfsim::scenarios {

// Machine options from the scenario's explore settings (step and op budgets).
[[nodiscard]] sim::MachineOptions machine_options(const Scenario& scenario, bool keep_trace);

// One run. Safe to call from several threads at once on the same scenario.
[[nodiscard]] sim::RunResult run_scenario(const Scenario& scenario,
                                          const sim::MachineOptions& options,
                                          sim::Strategy& strategy);

// The RunFn for sim::explore / replay / shrink; keeps the scenario alive.
[[nodiscard]] sim::RunFn make_run_fn(std::shared_ptr<const Scenario> scenario);

}  // namespace vfsim::scenarios
