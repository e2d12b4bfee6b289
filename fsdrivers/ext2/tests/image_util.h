// Helpers for the ext2 core tests: scratch directories, mke2fs / e2fsck
// invocation, image load/save and a deterministic PRNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fsdrivers/ext2/block_io.h"
#include "fsdrivers/ext2/ondisk.h"

namespace vfsim::ext2::test {

namespace fs = std::filesystem;

// A check in a test helper that returns a value, where GoogleTest's ASSERT_*
// cannot stand: a failure throws std::logic_error, which GoogleTest reports as
// a failure of the running test, with the condition and the place.
#define EXT2_TEST_REQUIRE(cond) \
  ((cond) ? (void)0 : ::vfsim::ext2::test::require_failed(#cond, __FILE__, __LINE__))
[[noreturn]] void require_failed(const char* cond, const char* file, int line);

// splitmix64: small, seeded, identical on every platform.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }  // bias irrelevant for tests

 private:
  uint64_t s_;
};

// A fresh, empty directory for the current test (under the build tree).
fs::path scratch_dir();
// Runs a shell command, returns its exit status; output goes to *out if given.
int run(const std::string& cmd, std::string* out = nullptr);
// Absolute path of an e2fsprogs tool (/sbin, /usr/sbin or PATH).
std::string tool(const std::string& name);
// mke2fs -q -F -t ext2 -b bs [extra] [-d src] img size_kib
void make_image(const fs::path& img, uint32_t bs, uint32_t size_kib, const std::string& extra = "",
                const fs::path& src = {});
std::vector<std::byte> load(const fs::path& p);
void save(const fs::path& p, const std::vector<std::byte>& data);
// e2fsck -fn; returns the exit status and fills *report with its output.
int fsck(const fs::path& img, std::string* report);
// Deterministic file contents: byte i of a file seeded with s.
std::vector<std::byte> pattern(size_t len, uint64_t seed);
void write_host_file(const fs::path& p, const std::vector<std::byte>& data);

// Direct image inspection, for building malformed images.
struct ImageView {
  std::vector<std::byte>& img;
  Superblock sb() const;
  uint32_t block_size() const { return 1024u << sb().log_block_size; }
  uint64_t inode_offset(uint32_t ino) const;
  Inode inode(uint32_t ino) const;
  void put_inode(uint32_t ino, const Inode& n);
  std::span<std::byte> block(uint32_t bno);
};

}  // namespace vfsim::ext2::test
