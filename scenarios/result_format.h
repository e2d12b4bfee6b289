// Matching op results against expectations, and the deterministic text of
// op calls and results that goes into traces and failure messages.
#pragma once

#include <string>

#include "scenarios/registry.h"
#include "scenarios/scenario.h"

namespace vfsim::scenarios {

[[nodiscard]] bool expectation_holds(const Expectation& e, const OpResult& r);

// The result as the failure message shows it: "4", "ENOENT", plus data or
// the record when the expectation looked at them.
[[nodiscard]] std::string describe_result(const OpResult& r, const Expectation& e,
                                          const OpRegistry& registry);

// "lwp t1 op 3 (var.add) var=counter value=1 -> 2": the trace event of a call.
[[nodiscard]] std::string format_call(const std::string& place, const Args& args, const OpResult& r,
                                      const OpRegistry& registry);

}  // namespace vfsim::scenarios
