// End-to-end tests of the image tools: `vfsim makefs` builds an image that
// e2fsck finds clean and whose tree `debugfs -R 'ls -p'` lists exactly as
// the host has it; `vfsim fs` tools change an image and read it back; `vfsim
// fs syscall` prints what the pjdfstest helper prints; and each malformed
// image of the issue (truncated, zero superblock, huge inode count, rec_len
// 0, a directory that contains itself, an indirect block pointing at itself)
// makes `vfsim fs ls` print one clear line and exit with status 2.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

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
  std::ofstream(src / "a" / "b" / "big") << std::string(std::size_t{100} * 1024, 'z');
  std::ofstream(src / "hello") << "hello\n";
  { std::ofstream empty(src / "empty"); }
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
  EXPECT_EQ(vfsim("fs cat " + img.string() + " /a/b/big").out,
            std::string(std::size_t{100} * 1024, 'z'));
  // A fifo has no data in the image, and no one would ever write it: cat
  // refuses it in one line instead of waiting forever.
  const Ran fifo = vfsim("fs cat " + img.string() + " /fifo");
  EXPECT_EQ(fifo.status, 1);
  EXPECT_EQ(fifo.out, "vfsim fs cat: " + img.string() + ": /fifo: Operation not supported\n");
}

// The fs tools change an image and read it back; every change leaves the
// image e2fsck-clean; a missing path is one line and status 1, naming the
// path that is missing (before, `fs ln` named the new name for a missing
// target).
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
  // ln names what is missing: the target, or the new name's directory.
  const Ran ln_missing = vfsim("fs ln " + img + " /nope /d/new");
  EXPECT_EQ(ln_missing.status, 1);
  EXPECT_EQ(ln_missing.out, "vfsim fs ln: " + img + ": /nope: No such file or directory\n");
  EXPECT_EQ(vfsim("fs ln " + img + " /d/f /nodir/new").out,
            "vfsim fs ln: " + img + ": /nodir/new: No such file or directory\n");
  const Ran missing = vfsim("fs cat " + img + " /nope");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out, "vfsim fs cat: " + img + ": /nope: No such file or directory\n");
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
}

// A file larger than the image: `fs put` and `fs write` say ENOSPC in one
// line with status 1 and leave no partial file (the image stays e2fsck-clean
// and keeps its free blocks); `makefs -s` with a size too small for the tree
// says so in one line with status 1 and leaves no image behind, whether
// mke2fs itself refuses the size or the tree does not fit. (Before, put
// answered EFBIG and left a partial file, and makefs left the image.)
TEST(FsTools, TooLargeForTheImageIsENOSPC) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "small.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 1024));
  const fs::path tree = dir / "tree";
  fs::create_directories(tree);
  std::string big(3 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  std::ofstream(tree / "big", std::ios::binary) << big;
  const auto free_blocks = [&] {
    std::string out;
    run(tool("dumpe2fs") + " -h " + img + " 2>/dev/null | grep '^Free blocks'", &out);
    return out;
  };
  const std::string free_before = free_blocks();
  ASSERT_FALSE(free_before.empty());

  const Ran put = vfsim("fs put " + img + " " + (tree / "big").string() + " /big");
  EXPECT_EQ(put.status, 1);
  EXPECT_EQ(put.out, "vfsim fs put: " + img + ": /big: No space left on device\n");
  EXPECT_EQ(vfsim("fs stat " + img + " /big").status, 1) << "a partial file was left";
  const Ran write = vfsim("fs write " + img + " /w < " + (tree / "big").string());
  EXPECT_EQ(write.status, 1);
  EXPECT_EQ(write.out, "vfsim fs write: " + img + ": /w: No space left on device\n");
  EXPECT_EQ(vfsim("fs stat " + img + " /w").status, 1) << "a partial file was left";
  EXPECT_EQ(free_blocks(), free_before);
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;

  for (const char* size : {"1m", "64k"}) {
    const fs::path made = dir / (std::string("made-") + size + ".img");
    const Ran mk =
        vfsim("makefs -t ext2 -s " + std::string(size) + " " + made.string() + " " + tree.string());
    EXPECT_EQ(mk.status, 1) << size;
    EXPECT_EQ(std::count(mk.out.begin(), mk.out.end(), '\n'), 1) << mk.out;
    EXPECT_NE(mk.out.find("too small"), std::string::npos) << mk.out;
    EXPECT_FALSE(fs::exists(made)) << size << ": an image was left behind";
  }
}

// Large directories through the tools: a 5,000-entry directory made by
// `mke2fs -d` and a 2,100-entry directory indexed by `e2fsck -fD` (a
// two-level htree) both come out whole with `fs get` (every file's content
// compared), names in the index are found by `fs cat`, and `fs ls` lists
// all of them. How fast is not asserted here (no clock in the default
// suite): ext2core_tests BigDir.* count the blocks a lookup reads, and
// bench/fs_tools_bench.sh (ctest -L long) times the tools.
TEST(FsTools, LargeDirectoriesComeOutWhole) {
  const fs::path dir = scratch_dir();
  for (const auto& [name, count, indexed] :
       {std::tuple{"linear", 5000, false}, std::tuple{"htree", 2100, true}}) {
    const fs::path src = dir / name / "src";
    fs::create_directories(src / "big");
    const std::string pad(indexed ? 200 : 0, 'p');
    for (int i = 0; i < count; ++i)
      std::ofstream(src / "big" / ("e" + std::to_string(i) + pad)) << i << "\n";
    const std::string img = (dir / name / "img").string();
    ASSERT_NO_FATAL_FAILURE(
        make_image(img, 1024, 16384, "-O dir_index -N " + std::to_string(count + 64), src));
    if (indexed) {
      run(tool("e2fsck") + " -fyD " + img);
      std::string stat;
      run(tool("debugfs") + " -R 'stat /big' " + img + " 2>/dev/null", &stat);
      ASSERT_NE(stat.find("Flags: 0x1000"), std::string::npos) << stat;
    }
    const fs::path out = dir / name / "out";
    const Ran get = vfsim("fs get " + img + " /big " + out.string());
    ASSERT_EQ(get.status, 0) << get.out;
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(out)) {
      ++n;
      EXPECT_EQ(slurp(e.path()), slurp(src / "big" / e.path().filename())) << e.path();
    }
    EXPECT_EQ(n, static_cast<std::size_t>(count)) << name;
    EXPECT_EQ(vfsim("fs cat " + img + " /big/e1234" + pad).out, "1234\n") << name;
    const Ran ls = vfsim("fs ls " + img + " /big");
    EXPECT_EQ(std::count(ls.out.begin(), ls.out.end(), '\n'), count) << name;
  }
}

// `fs get` of a tree keeps symlinks as symlinks (diff -r --no-dereference
// finds the trees identical), and `fs ls -R` lists every directory under
// its path, as ls -R does.
TEST(FsTools, GetKeepsSymlinksAndLsRecurses) {
  const fs::path dir = scratch_dir();
  const fs::path src = dir / "src";
  fs::create_directories(src / "a" / "b");
  std::ofstream(src / "a" / "b" / "f") << "f\n";
  fs::create_symlink("b/f", src / "a" / "rel");
  fs::create_symlink("/nowhere/at/all", src / "dangling");
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096, "", src));
  fs::create_directories(dir / "out");
  ASSERT_EQ(vfsim("fs get " + img + " /a " + (dir / "out" / "a").string()).status, 0);
  ASSERT_EQ(vfsim("fs get " + img + " /dangling " + (dir / "out" / "dangling").string()).status, 0);
  std::string diff;
  EXPECT_EQ(run("diff -r --no-dereference " + src.string() + " " + (dir / "out").string(), &diff),
            0)
      << diff;
  EXPECT_TRUE(fs::is_symlink(dir / "out" / "a" / "rel"));
  const Ran ls = vfsim("fs ls " + img + " -R /a");
  EXPECT_EQ(ls.status, 0);
  const std::string want_head = "/a:\n";
  EXPECT_EQ(ls.out.substr(0, want_head.size()), want_head) << ls.out;
  EXPECT_NE(ls.out.find(" rel -> b/f\n\n/a/b:\n"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("         2 f\n"), std::string::npos) << ls.out;
}

// `ls` and `stat` show the set-id and sticky bits as ls(1) does: s/t over
// an execute bit, S/T without one.
TEST(FsTools, ModeStringsShowSetIdAndSticky) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096));
  ASSERT_EQ(vfsim("fs syscall " + img +
                  " create /suid 04755 : create /sgid 02644 : mkdir /tmp 01777 : mkdir /T 01770 : "
                  "create /all 07644")
                .status,
            0);
  const Ran ls = vfsim("fs ls " + img);
  for (const char* want : {"-rwsr-xr-x   1     0     0         0 suid\n",
                           "-rw-r-Sr--   1     0     0         0 sgid\n", "drwxrwxrwt",
                           "drwxrwx--T", "-rwSr-Sr-T   1     0     0         0 all\n"}) {
    EXPECT_NE(ls.out.find(want), std::string::npos) << want << "\n" << ls.out;
  }
  EXPECT_NE(vfsim("fs stat " + img + " /tmp").out.find("/tmp: drwxrwxrwt ino"), std::string::npos);
}

// makefs keeps a sparse file sparse: a 64 MiB file with 8 KiB of data
// takes a few blocks in the image (debugfs stat), reads back the same, and
// the image stays small.
TEST(Makefs, SparseFilesStaySparse) {
  const fs::path dir = scratch_dir();
  const fs::path src = dir / "src";
  fs::create_directories(src);
  {
    std::ofstream f(src / "sparse", std::ios::binary);
    f << std::string(4096, 'a');
    f.seekp(32 << 20);
    f << std::string(4096, 'b');
    f.seekp((64 << 20) - 1);
    f << 'z';
  }
  const fs::path img = dir / "img";
  Ran r = vfsim("makefs -t ext2 -s 16m " + img.string() + " " + src.string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
  std::string stat;
  run(tool("debugfs") + " -R 'stat /sparse' " + img.string() + " 2>/dev/null", &stat);
  const std::size_t at = stat.find("Blockcount: ");
  ASSERT_NE(at, std::string::npos) << stat;
  EXPECT_LT(std::stoul(stat.substr(at + 12)), 200u) << stat;  // 512-byte sectors
  ASSERT_EQ(vfsim("fs get " + img.string() + " /sparse " + (dir / "back").string()).status, 0);
  EXPECT_EQ(run("cmp " + (src / "sparse").string() + " " + (dir / "back").string()), 0);
}

// `fs xattr` sets, reads, lists and removes extended attributes by their
// Linux names; a missing attribute is one line naming the path and the
// name; a wrong argument count is a usage error (status 2) before the image
// is opened; the image stays e2fsck-clean.
TEST(FsTools, Xattr) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096));
  ASSERT_EQ(run("echo x | " + kVfsim + " fs write " + img + " /f"), 0);
  const std::string x = "fs xattr " + img + " ";
  EXPECT_EQ(vfsim(x + "set /f user.color blue").status, 0);
  EXPECT_EQ(vfsim(x + "set /f trusted.t 'two words'").status, 0);
  EXPECT_EQ(vfsim(x + "get /f user.color").out, "blue");
  EXPECT_EQ(vfsim(x + "get /f trusted.t").out, "two words");
  EXPECT_EQ(vfsim(x + "list /f").out, "trusted.t\nuser.color\n");
  std::string ea;  // on disk as e2fsprogs reads it
  run(tool("debugfs") + " -R 'ea_list /f' " + img + " 2>/dev/null", &ea);
  EXPECT_NE(ea.find("user.color (4) = \"blue\""), std::string::npos) << ea;
  EXPECT_EQ(vfsim(x + "rm /f user.color").status, 0);
  EXPECT_EQ(vfsim(x + "list /f").out, "trusted.t\n");
  const Ran missing = vfsim(x + "get /f user.color");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out,
            "vfsim fs xattr: " + img + ": /f: user.color: " + std::strerror(ENODATA) + "\n");
  EXPECT_EQ(vfsim(x + "get /f").status, 2);
  EXPECT_EQ(vfsim(x + "frob /f user.a").status, 2);
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
}

// `vfsim help fs` documents every tool with its arguments, and every call
// of the pjdfstest helper.
TEST(FsTools, HelpListsEveryTool) {
  const Ran help = vfsim("help fs");
  EXPECT_EQ(help.status, 0);
  for (const char* line :
       {"vfsim fs ls IMAGE [-R] [PATH...]", "vfsim fs cat IMAGE PATH...",
        "vfsim fs stat IMAGE PATH...", "vfsim fs put IMAGE HOSTPATH IMAGEPATH",
        "vfsim fs get IMAGE IMAGEPATH HOSTPATH", "vfsim fs mkdir IMAGE PATH...",
        "vfsim fs rm IMAGE PATH...", "vfsim fs ln IMAGE [-s] TARGET LINKPATH",
        "vfsim fs mv IMAGE FROM TO", "vfsim fs write IMAGE PATH",
        "vfsim fs xattr IMAGE get PATH NAME | set PATH NAME VALUE | list PATH | rm PATH NAME",
        "vfsim fs syscall IMAGE [-U umask]", " utimensat bind connect\n"}) {
    EXPECT_NE(help.out.find(line), std::string::npos) << line << "\n" << help.out;
  }
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

// `fs syscall` takes the pjdfstest helper's pointer tokens NULL and DEADCODE
// wherever a path (or a buffer) is expected, and the call answers EFAULT
// instead of using them as names; and the ownership and mode rules reach the
// helper: chown(-1, -1) by a non-owner is 0, NetBSD's chmod of the sticky
// bit on a file by its owner is EFTYPE (Linux sets it), a write by a
// non-root owner clears S_ISUID.
TEST(FsSyscall, PointerTokensAndModeRules) {
  const fs::path dir = scratch_dir();
  const std::string img = (dir / "img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(img, 1024, 4096));
  const std::string s = "fs syscall " + img + " ";
  for (const char* call :
       {"open NULL O_RDONLY", "open DEADCODE O_CREAT,O_RDWR 0644", "mkdir NULL 0755",
        "rmdir DEADCODE", "unlink NULL", "link NULL /x", "link /x NULL", "rename /x DEADCODE",
        "symlink NULL /s", "chmod NULL 0644", "chown DEADCODE -1 -1", "truncate NULL 0",
        "stat NULL mode", "lstat DEADCODE mode", "mkfifo NULL 0644"}) {
    const Ran r = vfsim(s + call);
    EXPECT_EQ(r.out, "EFAULT\n") << call;
    EXPECT_EQ(r.status, 1) << call;
  }
  EXPECT_EQ(vfsim(s + "open /f O_CREAT,O_RDWR 0644 : write 0 NULL").out, "0\nEFAULT\n");
  EXPECT_EQ(vfsim(s + "stat /NULL mode").out, "ENOENT\n");  // only the bare token
  EXPECT_EQ(vfsim(s + "chown /f 1000 100 : chmod /f 04755").out, "0\n0\n");
  EXPECT_EQ(vfsim(s + "-u 1001 -g 101 chown /f -1 -1 : lchown /f -1 -1").out, "0\n0\n");
  EXPECT_EQ(vfsim(s + "-u 1000 -g 100 chmod /f 01644").out, "EFTYPE\n");
  EXPECT_EQ(vfsim(s + "--personality linux -u 1000 -g 100 chmod /f 05755 : stat /f mode").out,
            "0\n05755\n");
  EXPECT_EQ(vfsim(s + "-u 1000 -g 100 open /f O_WRONLY : write 0 x : fstat 0 mode").out,
            "0\n0\n01755\n");  // S_ISUID cleared, the sticky bit stays
  // The helper's nanosecond fields (256-byte inodes keep them: see
  // NanosecondTimesByInodeSize).
  EXPECT_EQ(vfsim(s + "utimensat AT_FDCWD /f 1000000000 5 1100000000 7 0 : stat /f "
                      "atime,atime_ns,mtime,mtime_ns,ctime_ns")
                .out,
            "0\n1000000000,5,1100000000,7,0\n");
  // bind makes a socket node; connect finds no listener.
  EXPECT_EQ(vfsim(s + "bind /sock : stat /sock type,mode : connect /sock").out,
            "0\nsocket,0777\nECONNREFUSED\n");  // the helper's umask is 0
  EXPECT_EQ(vfsim(s + "bind /sock").out, "EADDRINUSE\n");
  EXPECT_EQ(vfsim(s + "open /sock O_RDONLY").out, "EOPNOTSUPP\n");
  EXPECT_EQ(vfsim(s + "--personality linux open /sock O_RDONLY").out, "ENXIO\n");
  EXPECT_EQ(vfsim(s + "connect NULL").out, "EFAULT\n");
  std::string report;
  EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
}

// Times by inode size, as Linux's ext4 stores and reads them, checked
// against `debugfs stat` (its "0xSECONDS:EXTRA" form): with 256-byte
// inodes, nanoseconds and the two epoch bits go to i_*_extra, so a time of
// 2^32 s (2106) reads back as 2^32 with its nanoseconds; with 128-byte
// inodes the nanoseconds are dropped and a time past 2038 is clamped to
// 2^31-1, as Linux clamps it to the super block's limits. (Before, ext2
// kept whole seconds in every inode size and 2^32 came back as 2^32-1.)
TEST(FsSyscall, NanosecondTimesByInodeSize) {
  const fs::path dir = scratch_dir();
  const std::string set =
      " create /f 0644 : utimensat AT_FDCWD /f 1000000000 123456789 4294967296 987654321 0 : "
      "stat /f atime,atime_ns,mtime,mtime_ns";
  const auto debugfs_times = [](const std::string& img) {
    std::string out;
    run("TZ=UTC " + tool("debugfs") + " -R 'stat /f' " + img + " 2>/dev/null", &out);
    return out;
  };
  const std::string big = (dir / "i256.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(big, 1024, 4096, "-I 256"));
  EXPECT_EQ(vfsim("fs syscall " + big + set).out,
            "0\n0\n1000000000,123456789,4294967296,987654321\n");
  const std::string d256 = debugfs_times(big);
  // extra = epoch bits | nanoseconds << 2
  EXPECT_NE(d256.find(" atime: 0x3b9aca00:1d6f3454 -- Sun Sep  9 01:46:40 2001"), std::string::npos)
      << d256;
  EXPECT_NE(d256.find(" mtime: 0x00000000:eb79a2c5 -- Sun Feb  7 06:28:16 2106"), std::string::npos)
      << d256;
  EXPECT_EQ(vfsim("fs syscall " + big + " stat /f mtime,mtime_ns").out,
            "4294967296,987654321\n");  // from the image, in a new machine

  const std::string small = (dir / "i128.img").string();
  ASSERT_NO_FATAL_FAILURE(make_image(small, 1024, 4096, "-I 128"));
  EXPECT_EQ(vfsim("fs syscall " + small + set).out, "0\n0\n1000000000,0,2147483647,0\n");
  const std::string d128 = debugfs_times(small);
  EXPECT_NE(d128.find("atime: 0x3b9aca00 -- Sun Sep  9 01:46:40 2001"), std::string::npos) << d128;
  EXPECT_NE(d128.find("mtime: 0x7fffffff -- Tue Jan 19 03:14:07 2038"), std::string::npos) << d128;
  for (const std::string& img : {big, small}) {
    std::string report;
    EXPECT_EQ(ext2::test::fsck(img, &report), 0) << report;
  }
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
