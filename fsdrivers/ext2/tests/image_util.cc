#include "fsdrivers/ext2/tests/image_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace vfsim::ext2::test {

void require_failed(const char* cond, const char* file, int line) {
  throw std::logic_error(std::string("test requirement failed: ") + cond + " at " + file + ":" +
                         std::to_string(line));
}

fs::path scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name)
    if (c == '/') c = '_';
  fs::path dir = fs::path(EXT2_TEST_TMPDIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

int run(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  std::string text;
  while (size_t n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  int st = pclose(p);
  if (out) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string tool(const std::string& name) {
  for (const char* dir : {"/sbin/", "/usr/sbin/", "/usr/local/sbin/"}) {
    if (fs::exists(std::string(dir) + name)) return std::string(dir) + name;
  }
  return name;  // rely on PATH
}

void make_image(const fs::path& img, uint32_t bs, uint32_t size_kib, const std::string& extra,
                const fs::path& src) {
  std::string cmd = tool("mke2fs") + " -q -F -t ext2 -b " + std::to_string(bs) + " " + extra;
  // A fixed creation time and UUID keep generated images reproducible.
  cmd =
      "E2FSPROGS_FAKE_TIME=1600000000 " + cmd +
      " -U 01234567-89ab-cdef-0123-456789abcdef -E hash_seed=01234567-89ab-cdef-0123-456789abcdef";
  if (!src.empty()) cmd += " -d " + src.string();
  cmd += " " + img.string() + " " + std::to_string(size_kib) + "k";
  std::string out;
  ASSERT_EQ(run(cmd, &out), 0) << cmd << "\n" << out;
}

std::vector<std::byte> load(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<std::byte> out(fs::exists(p) ? fs::file_size(p) : 0);
  f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

void save(const fs::path& p, const std::vector<std::byte>& data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

int fsck(const fs::path& img, std::string* report) {
  return run(tool("e2fsck") + " -fn " + img.string(), report);
}

std::vector<std::byte> pattern(size_t len, uint64_t seed) {
  SplitMix64 r(seed);
  std::vector<std::byte> out(len);
  for (size_t i = 0; i < len; i += 8) {
    uint64_t v = r.next();
    for (size_t k = 0; k < 8 && i + k < len; ++k) out[i + k] = static_cast<std::byte>(v >> (8 * k));
  }
  return out;
}

void write_host_file(const fs::path& p, const std::vector<std::byte>& data) { save(p, data); }

Superblock ImageView::sb() const {
  return Superblock::decode(std::span(img).subspan(kSuperblockOffset, kSuperblockSize));
}

uint64_t ImageView::inode_offset(uint32_t ino) const {
  const Superblock s = sb();
  const uint32_t bs = block_size();
  const uint32_t g = (ino - 1) / s.inodes_per_group;
  const uint64_t gd_off = uint64_t{s.first_data_block + 1} * bs + g * kGroupDescSize;
  const GroupDesc gd = GroupDesc::decode(std::span(img).subspan(gd_off, kGroupDescSize));
  return uint64_t{gd.inode_table} * bs + uint64_t{(ino - 1) % s.inodes_per_group} * s.inode_size;
}

Inode ImageView::inode(uint32_t ino) const {
  return Inode::decode(std::span(img).subspan(inode_offset(ino), sb().inode_size));
}

void ImageView::put_inode(uint32_t ino, const Inode& n) {
  n.encode(std::span(img).subspan(inode_offset(ino), sb().inode_size));
}

std::span<std::byte> ImageView::block(uint32_t bno) {
  return std::span(img).subspan(uint64_t{bno} * block_size(), block_size());
}

}  // namespace vfsim::ext2::test
