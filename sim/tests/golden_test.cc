// The same seed gives the same trace hash in every build type (dev, release,
// asan): the hashes below were recorded once and every build must reproduce
// them bit for bit. If a change to the machine alters traces on purpose,
// re-record them with the print_golden_hashes program (built beside
// sim_tests: `print_golden_hashes > sim/tests/golden_hashes.inc`) and say so
// in the commit.
#include <gtest/gtest.h>

#include "golden_workloads.h"

namespace vfsim::sim {
namespace {

using namespace vfsim::sim::testing;

struct Golden {
  const char* workload;
  const char* strategy;
  std::uint64_t seed;
  std::uint64_t hash;
};

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

}  // namespace
}  // namespace vfsim::sim
