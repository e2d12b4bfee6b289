// The runs whose trace hashes are pinned in golden_hashes.inc: shared by
// golden_test.cc (which checks them) and print_golden.cc (which records them).
#pragma once

#include <string>

#include "workloads.h"

namespace vfsim::sim::testing {

inline RunResult run_named(const std::string& w, const std::string& strategy, std::uint64_t seed) {
  Setup setup = w == "lost_update"      ? Setup(lost_update)
                : w == "locked_counter" ? Setup(locked_counter)
                                        : Setup(lock_order);
  return run_once(setup, strategy, seed);
}

inline constexpr const char* kGoldenWorkloads[] = {"lost_update", "locked_counter", "lock_order"};
inline constexpr const char* kGoldenStrategies[] = {"random", "pct"};
inline constexpr std::uint64_t kGoldenSeeds[] = {1, 2, 3};

}  // namespace vfsim::sim::testing
