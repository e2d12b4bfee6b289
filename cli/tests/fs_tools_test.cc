// End-to-end tests of the image tools: `vfsim makefs` builds an image that
// e2fsck finds clean and whose tree `debugfs -R 'ls -p'` lists exactly as
// the host has it; `vfsim fs` tools change an image and read it back; `vfsim
// fs syscall` prints what the pjdfstest helper prints; and each malformed
// image of the issue (truncated, zero superblock, huge inode count, rec_len
// 0, a directory that contains itself, an indirect block pointing at itself)
// makes `vfsim fs ls` print one clear line and exit with status 2.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include "fsdrivers/ext2/tests/image_util.h"
#include "fsdrivers/ext2/volume.h"

namespace vfsim::cli::test {
namespace {

namespace fs = std::filesystem;
using ext2::test::ImageView;
using ext2::test::load;
using ext2::test::make_image;
using ext2::test::run;
using ext2::test::save;
using ext2::test::scratch_dir;
using ext2::test::tool;

const std::string kVfsim = VFSIM_BINARY;

struct Ran {
  int status;
  std::string out;
};

Ran vfsim(const std::string& args) {
  Ran r;
  r.status = run(kVfsim + " " + args, &r.out);
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// name -> "mode size" of a directory's entries, from debugfs's parseable
// listing ("/ino/mode/uid/gid/name/size/").
std::map<std::string, std::string> debugfs_dir(const fs::path& img, const std::string& dir) {
  std::string out;
  run(tool("debugfs") + " -R 'ls -p " + dir + "' " + img.string(), &out);
  std::map<std::string, std::string> entries;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f;
    std::istringstream parts(line);
    for (std::string part; std::getline(parts, part, '/');) f.push_back(part);
    if (f.size() < 7 || f[5] == "." || f[5] == ".." || f[5] == "lost+found") continue;
    const unsigned long mode = std::stoul(f[2], nullptr, 8);
    char text[16];
    std::snprintf(text, sizeof text, "%lo", mode);
    entries[f[5]] = std::string(text) + " " + ((mode & S_IFMT) == S_IFDIR ? "-" : f[6]);
  }
  return entries;
}

std::map<std::string, std::string> host_dir(const fs::path& dir) {
  std::map<std::string, std::string> entries;
  for (const auto& e : fs::directory_iterator(dir)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    char mode[16];
    std::snprintf(mode, sizeof mode, "%o", st.st_mode);
    entries[e.path().filename().string()] =
        std::string(mode) + " " + (S_ISDIR(st.st_mode) ? "-" : std::to_string(st.st_size));
  }
  return entries;
}

// makefs puts a host tree (nested directories, a 100 KiB file, a symlink, a
// hard link, a fifo, an empty file) into a fresh image through the driver;
// e2fsck finds it clean and debugfs lists every directory as the host does.
TEST(Makefs, ImageMatchesTheHostTree) {
  const fs::path dir = scratch_dir();
  const fs::path src = dir / "src";
  fs::create_directories(src / "a" / "b");
  std::ofstream(src / "a" / "b" / "big") << std::string(100 * 1024, 'z');
  std::ofstream(src / "hello") << "hello\n";
  std::ofstream(src / "empty");
  fs::create_symlink("hello", src / "link");
  fs::create_hard_link(src / "hello", src / "a" / "hard");
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0600), 0);
  fs::permissions(src / "a", fs::perms(0750));
  const fs::path img = dir / "img";
  Ran r = vfsim("makefs -t ext2 " + img.string() + " " + src.string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
  for (const std::string d : {"", "a", "a/b"}) {
    EXPECT_EQ(debugfs_dir(img, "/" + d), host_dir(src / d)) << d;
  }
  EXPECT_EQ(vfsim("fs cat " + img.string() + " /a/b/big").out, std::string(100 * 1024, 'z'));
  // A fifo has no data in the image, and no one would ever write it: cat
  // refuses it in one line instead of waiting forever.
  const Ran fifo = vfsim("fs cat " + img.string() + " /fifo");
  EXPECT_EQ(fifo.status, 1);
  EXPECT_EQ(fifo.out, "vfsim fs cat: " + img.string() + ": /fifo: Operation not supported\n");
}

// The fs tools change an image and read it back; every change leaves the
// image e2fsck-clean; a missing path is one line and status 1.
TEST(FsTools, ChangeAndReadBack) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096));
  std::ofstream(dir / "host.txt") << "from the host\n";
  EXPECT_EQ(vfsim("fs mkdir " + img + " /d").status, 0);
  EXPECT_EQ(vfsim("fs put " + img + " " + (dir / "host.txt").string() + " /d/f").status, 0);
  EXPECT_EQ(run("echo piped | " + kVfsim + " fs write " + img + " /w"), 0);
  EXPECT_EQ(vfsim("fs ln " + img + " /d/f /d/g").status, 0);
  EXPECT_EQ(vfsim("fs ln " + img + " -s /d/f /s").status, 0);
  EXPECT_EQ(vfsim("fs mv " + img + " /w /d/w").status, 0);
  EXPECT_EQ(vfsim("fs cat " + img + " /d/w /s").out, "piped\nfrom the host\n");
  EXPECT_EQ(vfsim("fs get " + img + " /d/g " + (dir / "back.txt").string()).status, 0);
  EXPECT_EQ(slurp(dir / "back.txt"), "from the host\n");
  EXPECT_EQ(vfsim("fs rm " + img + " /d/g /d/w").status, 0);
  const Ran ls = vfsim("fs ls " + img + " /d");
  EXPECT_EQ(ls.status, 0);
  EXPECT_NE(ls.out.find("-rw-r--r--   1     0     0        14 f"), std::string::npos) << ls.out;
  const Ran missing = vfsim("fs cat " + img + " /nope");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out, "vfsim fs cat: " + img + ": /nope: No such file or directory\n");
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
}

// `fs syscall` answers as the pjdfstest helper: 0, stat fields, errno names
// with status 1 ending the chain, descriptors by index; credentials from -u
// and -g; timestamps move forward from one invocation to the next.
TEST(FsSyscall, PrintsWhatPjdfstestExpects) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096));
  const std::string s = "fs syscall " + img + " ";
  EXPECT_EQ(vfsim(s + "mkdir /d 0755 : create /d/f 0644").out, "0\n0\n");
  EXPECT_EQ(vfsim(s + "stat /d/f mode,type,nlink,size").out, "0644,regular,1,0\n");
  EXPECT_EQ(vfsim(s + "open /d/f O_WRONLY : write 0 abc : fstat 0 size").out, "0\n0\n3\n");
  const Ran denied = vfsim(s + "-u 65534 -g 65534 open /d/f O_WRONLY : unlink /d/f");
  EXPECT_EQ(denied.status, 1);
  EXPECT_EQ(denied.out, "EACCES\n");
  EXPECT_EQ(vfsim(s + "mknod /d/c c 0600 4 64 : stat /d/c type,major,minor").out, "0\nchar,4,64\n");
  const std::string before = vfsim(s + "stat /d/f ctime").out;
  EXPECT_EQ(vfsim(s + "chmod /d/f 0600").out, "0\n");
  EXPECT_GT(std::stol(vfsim(s + "stat /d/f ctime").out), std::stol(before));
  EXPECT_EQ(vfsim(s + "-U 077 open /d/u O_CREAT,O_RDWR 0666 : fstat 0 mode").out, "0\n0600\n");
  EXPECT_EQ(vfsim(s + "link /d/nope /d/x").out, "ENOENT\n");
  EXPECT_EQ(vfsim(s + "frobnicate /d").status, 2);
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
}

// Malformed images: `vfsim fs ls` prints one line naming the image and the
// problem, and exits with status 2.
class BadImage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_dir();
    const fs::path src = dir_ / "src";
    fs::create_directories(src / "d");
    std::ofstream(src / "d" / "x") << "x";
    fs::create_directories(src / "many");
    for (int i = 0; i < 300; ++i) {
      std::ofstream(src / "many" / ("entry-with-a-rather-long-name-" + std::to_string(i)));
    }
    ASSERT_NO_FATAL_FAILURE(make_image(dir_ / "good.img", 1024, 4096, "-O ^dir_index", src));
    img_ = load(dir_ / "good.img");
  }

  std::uint32_t ino_of(const std::string& name) {
    ext2::MemBlockIo io(img_);
    auto m = ext2::Volume::mount(io, {});
    EXT2_TEST_REQUIRE(m.volume != nullptr);
    return *m.volume->lookup(ext2::Volume::root(), name);
  }

  void expect_ls_fails(const std::string& path = "") {
    const fs::path bad = dir_ / "bad.img";
    save(bad, img_);
    const Ran r = vfsim("fs ls " + bad.string() + " " + path);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find(bad.string()), std::string::npos) << r.out;
  }

  fs::path dir_;
  std::vector<std::byte> img_;
};

TEST_F(BadImage, Truncated) {
  img_.resize(1500);
  expect_ls_fails();
}

TEST_F(BadImage, ZeroSuperblock) {
  std::fill(img_.begin() + 1024, img_.begin() + 2048, std::byte{0});
  expect_ls_fails();
}

TEST_F(BadImage, HugeInodeCount) {
  ext2::put32(std::span(img_), ext2::kSuperblockOffset + 0, 0xFFFFFF00u);
  expect_ls_fails();
}

TEST_F(BadImage, RecLenZero) {
  ImageView v{img_};
  ext2::put16(v.block(v.inode(ext2::kRootIno).block[0]), 4, 0);  // "."'s rec_len
  expect_ls_fails("/");
}

TEST_F(BadImage, DirectoryContainsItself) {
  const std::uint32_t d = ino_of("d");
  ImageView v{img_};
  ext2::put32(v.block(v.inode(d).block[0]), 24, d);  // the entry after "." and ".."
  expect_ls_fails("/d");
}

TEST_F(BadImage, IndirectBlockPointsAtItself) {
  const std::uint32_t many = ino_of("many");
  ImageView v{img_};
  const std::uint32_t ind = v.inode(many).block[ext2::kIndBlock];
  ASSERT_NE(ind, 0u) << "the directory must be larger than 12 blocks";
  ext2::put32(v.block(ind), 0, ind);
  expect_ls_fails("/many");
}

}  // namespace
}  // namespace vfsim::cli::test
