// Prints the golden trace hashes (the contents of golden_hashes.inc) for
// the runs golden_test.cc checks. Run it only when a change alters traces
// on purpose: print_golden_hashes > sim/tests/golden_hashes.inc
#include <cinttypes>
#include <cstdio>

#include "golden_workloads.h"

int main() {
  using namespace vfsim::sim::testing;
  std::printf("// Recorded by print_golden_hashes; see golden_test.cc.\n");
  for (const char* w : kGoldenWorkloads) {
    for (const char* s : kGoldenStrategies) {
      for (std::uint64_t seed : kGoldenSeeds) {
        std::printf("{\"%s\", \"%s\", %" PRIu64 ", 0x%016" PRIx64 "ULL},\n", w, s, seed,
                    run_named(w, s, seed).trace_hash);
      }
    }
  }
  return 0;
}
