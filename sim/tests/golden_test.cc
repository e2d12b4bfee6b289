// The same seed gives the same trace hash in every build type (dev, release,
// asan): the hashes below were recorded once and every build must reproduce
// them bit for bit. If a change to the machine alters traces on purpose,
// re-record them (print with --gtest_also_run_disabled_tests
// --gtest_filter=*PrintGolden*) and say so in the commit.
#include <gtest/gtest.h>

#include <cinttypes>

#include "workloads.h"

namespace vfsim::sim {
namespace {

using namespace vfsim::sim::testing;

struct Golden {
  const char* workload;
  const char* strategy;
  std::uint64_t seed;
  std::uint64_t hash;
};

RunResult run_named(const std::string& w, const std::string& strategy, std::uint64_t seed) {
  Setup setup = w == "lost_update" ? Setup(lost_update)
              : w == "locked_counter" ? Setup(locked_counter)
                                      : Setup(lock_order);
  return run_once(setup, strategy, seed);
}

const Golden kGolden[] = {
#include "golden_hashes.inc"
};

TEST(Golden, TraceHashesMatchEveryBuild) {
  ASSERT_GT(sizeof(kGolden) / sizeof(kGolden[0]), 5u);
  for (const Golden& g : kGolden) {
    const auto r = run_named(g.workload, g.strategy, g.seed);
    EXPECT_EQ(r.trace_hash, g.hash) << g.workload << " " << g.strategy << " seed " << g.seed;
  }
}

TEST(Golden, DISABLED_PrintGolden) {
  for (const char* w : {"lost_update", "locked_counter", "lock_order"}) {
    for (const char* s : {"random", "pct"}) {
      for (std::uint64_t seed : {1, 2, 3}) {
        std::printf("{\"%s\", \"%s\", %" PRIu64 ", 0x%016" PRIx64 "ULL},\n", w, s, seed,
                    run_named(w, s, seed).trace_hash);
      }
    }
  }
}

}  // namespace
}  // namespace vfsim::sim
