// Tests of the private views of host images (sim/host_images.h) and the
// digest they are identified by: a machine's writes stay in its own view and
// never reach the host file, a second machine sees the image as it was, a
// host file that changes under the runs is named (at the next open and by
// verify()), write_back mode edits the file, relative paths are relative to
// the base directory, and SHA-256 gives the FIPS 180-4 test vectors.
#include "sim/host_images.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "sim/sha256.h"
#include "test_util.h"

namespace vfsim::sim {
namespace {

using testing::run_once;

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A temporary directory with an image of 3 blocks and a bit (not a whole
// number of overlay blocks) filled with a pattern.
class HostImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vfsim-images-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    image_ = dir_ + "/disk.img";
    for (std::size_t i = 0; i < kSize; ++i) content_ += static_cast<char>('a' + i % 26);
    std::ofstream(image_, std::ios::binary) << content_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static constexpr std::size_t kSize = 3 * OverlayDisk::kBlockBytes + 100;
  std::string dir_, image_, content_;
};

std::string as_text(const std::vector<std::byte>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

// Shows: a machine's writes (across a block boundary, and in the short last
// block) read back in that machine, a second machine reads the original
// bytes, and the host file is byte-identical afterwards.
TEST_F(HostImagesTest, WritesStayPrivateToTheMachine) {
  HostImages images(dir_);
  const std::string edit(200, 'Z');
  const std::uint64_t at = OverlayDisk::kBlockBytes - 100;  // spans blocks 0 and 1
  const std::uint64_t tail = kSize - 50;                    // in the short last block
  auto r = run_once([&](Machine& m) {
    m.spawn("io", [&] {
      std::string why;
      auto d = images.open(m, "disk.img", {}, &why);
      ASSERT_TRUE(d) << why;
      EXPECT_EQ(d->size_bytes(), kSize);
      EXPECT_EQ(d->options().name, "disk.img");  // as written: traces do not name the host path
      EXPECT_EQ(d->write(at, std::as_bytes(std::span(edit))).err(), 0);
      EXPECT_EQ(d->write(tail, std::as_bytes(std::span(edit.data(), 50))).err(), 0);
      EXPECT_EQ(d->write(tail, std::as_bytes(std::span(edit.data(), 51))).err(),
                EIO);  // past the end
      EXPECT_EQ(d->flush().err(), 0);
      std::vector<std::byte> all(kSize);
      EXPECT_EQ(d->read(0, all).err(), 0);
      std::string want = content_;
      want.replace(at, edit.size(), edit);
      want.replace(tail, 50, edit.substr(0, 50));
      EXPECT_EQ(as_text(all), want);
      EXPECT_EQ(static_cast<const OverlayDisk&>(*d).private_blocks(), 3u);
    });
  });
  EXPECT_FALSE(r.failed()) << r.message;
  auto again = run_once([&](Machine& m) {
    m.spawn("io", [&] {
      std::string why;
      auto d = images.open(m, "disk.img", {}, &why);
      ASSERT_TRUE(d) << why;
      std::vector<std::byte> all(kSize);
      EXPECT_EQ(d->read(0, all).err(), 0);
      EXPECT_EQ(as_text(all), content_);
    });
  });
  EXPECT_FALSE(again.failed()) << again.message;
  EXPECT_EQ(read_file(image_), content_);
  EXPECT_EQ(images.verify(), "");
  const auto list = images.images();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].path, "disk.img");
  EXPECT_EQ(list[0].resolved, image_);
  EXPECT_EQ(list[0].sha256, sha256_hex(content_));
}

// Shows: a host image that changes after the first open is refused at the
// next open with a reason naming it, and verify() reports it; a missing
// image names the path.
TEST_F(HostImagesTest, AChangedHostImageIsNamed) {
  HostImages images(dir_);
  std::string sha, why;
  ASSERT_TRUE(images.snapshot("disk.img", &sha, &why)) << why;
  EXPECT_EQ(images.verify(), "");
  std::ofstream(image_, std::ios::binary | std::ios::app) << "more";
  EXPECT_NE(images.verify().find("disk.img: the image changed on the host"), std::string::npos)
      << images.verify();
  auto r = run_once([&](Machine& m) {
    m.spawn("io", [&] {
      std::string reason;
      EXPECT_EQ(images.open(m, "disk.img", {}, &reason), nullptr);
      EXPECT_NE(reason.find("the image changed on the host"), std::string::npos) << reason;
      EXPECT_EQ(images.open(m, "nope.img", {}, &reason), nullptr);
      EXPECT_NE(reason.find(dir_ + "/nope.img"), std::string::npos) << reason;
    });
  });
  EXPECT_FALSE(r.failed()) << r.message;
}

// Shows: write_back mode writes the host file (vfsim run --write-image), and
// verify() does not call that a change.
TEST_F(HostImagesTest, WriteBackEditsTheHostFile) {
  HostImages images(dir_, HostImages::Mode::write_back);
  auto r = run_once([&](Machine& m) {
    m.spawn("io", [&] {
      std::string why;
      auto d = images.open(m, image_, {}, &why);  // an absolute path works as well
      ASSERT_TRUE(d) << why;
      EXPECT_EQ(d->write(0, std::as_bytes(std::span("HELLO", 5))).err(), 0);
      EXPECT_EQ(d->flush().err(), 0);
    });
  });
  EXPECT_FALSE(r.failed()) << r.message;
  EXPECT_EQ(read_file(image_).substr(0, 5), "HELLO");
  EXPECT_EQ(images.verify(), "");
}

// Shows: the digest of the FIPS 180-4 examples, of a text fed in pieces, and
// of a file.
TEST(Sha256, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(two_blocks),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 pieces;
  const std::string million(1'000'000, 'a');
  for (std::size_t i = 0; i < million.size(); i += 997) {
    pieces.update(std::string_view(million).substr(i, 997));
  }
  EXPECT_EQ(pieces.hex_digest(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  char path[] = "/tmp/vfsim-sha-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  ::close(fd);
  std::string hex, why;
  ASSERT_TRUE(sha256_file(path, &hex, &why)) << why;
  ::unlink(path);
  EXPECT_EQ(hex, sha256_hex("abc"));
  EXPECT_FALSE(sha256_file("/nonexistent/f", &hex, &why));
  EXPECT_NE(why.find("/nonexistent/f"), std::string::npos);
}

}  // namespace
}  // namespace vfsim::sim
