// Shows that the fuzz harness's puffs mode (ext2_machine_harness.h) tests
// what it says: on an image that trips an ext2 driver assertion (the
// TEST-ONLY hook test_panic and the entry vfsim-test-panic, the image made
// by scenarios/ext2/make-untrusted-image.sh, given as argv[1]), the
// in-kernel mode reports a panic finding, while the puffs mode reports no
// finding, the server's death and the driver's assertion as a contained
// panic (the kernel survived, the root memfs still wrote and read a file,
// the dead mount answered ENXIO/EIO and unmounted). Without the hook the
// same image mounts through puffs with no death. And the harness finds
// what the kernel does not survive: a run whose root cannot be mounted is
// reported (checked with an input type that is not ext2 at all: garbage
// bytes fail the server's mount, which is no finding).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/ext2_machine_harness.h"

namespace {

std::vector<std::uint8_t> g_image;

TEST(PuffsMode, InKernelTheAssertionIsAFinding) {
  const auto r = vfsim::fuzz::fuzz_ext2_machine(g_image.data(), g_image.size(), true);
  EXPECT_TRUE(r.mounted);
  EXPECT_TRUE(r.finding);
  EXPECT_NE(r.message.find("panic: "), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("vfsim-test-panic"), std::string::npos) << r.message;
}

TEST(PuffsMode, ThroughPuffsTheServerDiesAndTheKernelSurvives) {
  const auto r = vfsim::fuzz::fuzz_ext2_puffs(g_image.data(), g_image.size(), true);
  EXPECT_TRUE(r.mounted);
  EXPECT_FALSE(r.finding) << r.message;
  EXPECT_TRUE(r.server_died);
  EXPECT_NE(r.contained.find("vfsim-test-panic"), std::string::npos) << r.contained;
}

TEST(PuffsMode, WithoutTheHookNothingDies) {
  const auto r = vfsim::fuzz::fuzz_ext2_puffs(g_image.data(), g_image.size(), false);
  EXPECT_TRUE(r.mounted);
  EXPECT_FALSE(r.finding) << r.message;
  EXPECT_FALSE(r.server_died) << r.contained;
}

TEST(PuffsMode, GarbageIsRefusedByTheServerNotAFinding) {
  const std::vector<std::uint8_t> garbage(4096, 0x5a);
  const auto r = vfsim::fuzz::fuzz_ext2_puffs(garbage.data(), garbage.size());
  EXPECT_FALSE(r.mounted);
  EXPECT_FALSE(r.finding) << r.message;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: ext2_fuzz_puffs_mode_test IMAGE\n");
    return 2;
  }
  std::ifstream f(argv[1], std::ios::binary);
  g_image.assign(std::istreambuf_iterator<char>(f), {});
  if (g_image.empty()) {
    std::fprintf(stderr, "ext2_fuzz_puffs_mode_test: %s: no image\n", argv[1]);
    return 2;
  }
  return RUN_ALL_TESTS();
}
