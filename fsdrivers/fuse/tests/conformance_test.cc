// memfs_ll (vfsim's own low-level FUSE file system) through the whole
// PERFUSE stack behaves as a POSIX file system: directed checks of files,
// directories, symbolic links, hard links, rename, truncate, chmod, xattrs
// (both APIs, the paper's namespace mapping), large reads and writes split
// by max_write, directories longer than one READDIR reply; the CREATE
// fallback and the ACCESS emulation; and a differential test: random
// syscall sequences give the same results (errnos, types, modes, sizes,
// link counts, contents, directory listings) through FUSE as on memfs
// through puffs. Every run also passes the lookup-ledger leak check and
// memfs_ll's own check at destroy (exit status 3 if the kernel leaked a
// lookup).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>

#include "fsdrivers/fuse/tests/fuse_world.h"
#include "fsdrivers/puffs/tests/puffs_world.h"
#include "sim/rng.h"

namespace vfsim::fuse {
namespace {

using sim::Outcome;
using testing::World;
using testing::WorldOptions;

WorldOptions memfs_ll(std::vector<std::string> args = {}) {
  WorldOptions o;
  o.fs = "memfs_ll";
  o.args = std::move(args);
  return o;
}

#define CHECK_OK(expr)                                                                     \
  do {                                                                                     \
    const auto& check_r_ = (expr);                                                         \
    if (!check_r_.ok()) {                                                                  \
      w.m().fail(Outcome::expectation, #expr ": errno " + std::to_string(check_r_.err())); \
    }                                                                                      \
  } while (0)
#define CHECK_ERR(expr, e)                                                        \
  do {                                                                            \
    const int check_e_ = (expr).err();                                            \
    if (check_e_ != (e)) {                                                        \
      w.m().fail(Outcome::expectation,                                            \
                 #expr ": errno " + std::to_string(check_e_) + ", expected " #e); \
    }                                                                             \
  } while (0)
#define CHECK_TRUE(cond)                                             \
  do {                                                               \
    if (!(cond)) w.m().fail(Outcome::expectation, "failed: " #cond); \
  } while (0)

// The value of a Result, or the run ends naming the expression and errno.
template <class R>
auto val(World& w, R&& r, const char* what) {
  if (!r.ok())
    w.m().fail(Outcome::expectation, std::string(what) + ": errno " + std::to_string(r.err()));
  return std::move(*r);
}
#define VAL(expr) val(w, (expr), #expr)

void posix_subset(World& w) {
  auto& k = w.k;
  auto& p = w.p;
  CHECK_OK(k.mkdir(p, "/d", 0755));
  CHECK_ERR(k.mkdir(p, "/d", 0755), EEXIST);
  auto fd = k.open(p, "/d/f", O_CREAT | O_RDWR | O_EXCL, 0644);
  CHECK_OK(fd);
  CHECK_TRUE(VAL(k.write(p, *fd, "hello, fuse")) == 11u);
  CHECK_TRUE(VAL(k.pread(p, *fd, 4, 7)) == "fuse");
  CHECK_OK(k.close(p, *fd));
  CHECK_TRUE(VAL(k.stat(p, "/d/f")).size == 11u);
  CHECK_TRUE((VAL(k.stat(p, "/d")).mode & S_IFMT) == S_IFDIR);
  // Hard links and rename.
  CHECK_OK(k.link(p, "/d/f", "/g"));
  CHECK_TRUE(VAL(k.stat(p, "/g")).nlink == 2u);
  CHECK_OK(k.rename(p, "/d/f", "/d/h"));
  CHECK_ERR(k.stat(p, "/d/f"), ENOENT);
  CHECK_TRUE(VAL(k.stat(p, "/d/h")).nlink == 2u);
  CHECK_OK(k.unlink(p, "/g"));
  CHECK_TRUE(VAL(k.stat(p, "/d/h")).nlink == 1u);
  // Symbolic links.
  CHECK_OK(k.symlink(p, "d/h", "/s"));
  CHECK_TRUE(VAL(k.readlink(p, "/s")) == "d/h");
  CHECK_TRUE((VAL(k.lstat(p, "/s")).mode & S_IFMT) == S_IFLNK);
  auto sfd = k.open(p, "/s", O_RDONLY);
  CHECK_OK(sfd);
  CHECK_TRUE(VAL(k.read(p, *sfd, 100)) == "hello, fuse");
  CHECK_OK(k.close(p, *sfd));
  // Truncate, chmod, chown.
  CHECK_OK(k.truncate(p, "/d/h", 5));
  CHECK_TRUE(VAL(k.stat(p, "/d/h")).size == 5u);
  CHECK_OK(k.chmod(p, "/d/h", 0600));
  CHECK_TRUE((VAL(k.stat(p, "/d/h")).mode & 07777) == 0600u);
  CHECK_OK(k.chown(p, "/d/h", 1000, 100));
  CHECK_TRUE(VAL(k.stat(p, "/d/h")).uid == 1000u);
  // Directory rename across parents, non-empty rmdir.
  CHECK_OK(k.mkdir(p, "/e", 0755));
  CHECK_OK(k.rename(p, "/d", "/e/d2"));
  CHECK_TRUE(VAL(k.stat(p, "/e")).nlink == 3u);
  CHECK_ERR(k.rmdir(p, "/e"), ENOTEMPTY);
  CHECK_ERR(k.rename(p, "/e", "/e/d2/x"), EINVAL);
  // Extended attributes: Linux and BSD API, the namespace mapping.
  CHECK_OK(k.setxattr(p, "/e/d2/h", "user.color", "blue", 0));
  CHECK_TRUE(VAL(k.getxattr(p, "/e/d2/h", "user.color")) == "blue");
  CHECK_ERR(k.setxattr(p, "/e/d2/h", "user.color", "red", XATTR_CREATE), EEXIST);
  CHECK_OK(k.setxattr(p, "/e/d2/h", "trusted.t", "x", 0));
  auto names = k.listxattr(p, "/e/d2/h");
  CHECK_OK(names);
  std::vector<std::string> sorted = *names;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != std::vector<std::string>{"trusted.t", "user.color"}) {
    std::string got;
    for (const auto& n : sorted) got += n + " ";
    w.m().fail(Outcome::expectation, "listxattr gave: " + got);
  }
  CHECK_TRUE(VAL(k.extattr_get_file(p, "/e/d2/h", 2, "trusted.t")) == "x");
  CHECK_OK(k.extattr_set_file(p, "/e/d2/h", 1, "plain", "v"));
  CHECK_TRUE(VAL(k.getxattr(p, "/e/d2/h", "user.plain")) == "v");
  CHECK_OK(k.removexattr(p, "/e/d2/h", "user.color"));
  CHECK_ERR(k.getxattr(p, "/e/d2/h", "user.color"), ENODATA);
  // A file larger than max_write, read back whole.
  std::string big(300 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  auto bfd = k.open(p, "/big", O_CREAT | O_RDWR, 0644);
  CHECK_OK(bfd);
  CHECK_TRUE(VAL(k.write(p, *bfd, big)) == big.size());
  CHECK_TRUE(VAL(k.pread(p, *bfd, big.size() + 10, 0)) == big);
  CHECK_OK(k.close(p, *bfd));
  // A directory longer than one READDIR reply: every name once.
  CHECK_OK(k.mkdir(p, "/many", 0755));
  for (int i = 0; i < 150; ++i) {
    auto f =
        k.open(p, "/many/file_with_a_long_name_" + std::to_string(i), O_CREAT | O_WRONLY, 0644);
    CHECK_OK(f);
    CHECK_OK(k.close(p, *f));
  }
  auto dfd = k.open(p, "/many", O_RDONLY | O_DIRECTORY);
  CHECK_OK(dfd);
  std::vector<std::string> listed;
  for (;;) {
    auto ents = k.getdents(p, *dfd, 64);
    CHECK_OK(ents);
    if (ents->empty()) break;
    for (const auto& e : *ents) listed.push_back(e.name);
  }
  CHECK_OK(k.close(p, *dfd));
  CHECK_TRUE(listed.size() == 152u);
  std::sort(listed.begin(), listed.end());
  CHECK_TRUE(std::adjacent_find(listed.begin(), listed.end()) == listed.end());
  // statvfs reaches the daemon.
  CHECK_TRUE(VAL(k.statvfs(p, "/")).bsize == 4096u);
  // Permissions for a user: the daemon has no ACCESS, the kernel emulates it.
  vfs::Proc& alice = k.proc_create("alice", vn::Cred{1000, 100, {}});
  CHECK_ERR(k.open(alice, "/big", O_WRONLY), EACCES);
  CHECK_ERR(k.access(alice, "/big", 2), EACCES);
  CHECK_OK(k.access(alice, "/big", 4));
  // Clean up.
  for (int i = 0; i < 150; ++i) {
    CHECK_OK(k.unlink(p, "/many/file_with_a_long_name_" + std::to_string(i)));
  }
  CHECK_OK(k.rmdir(p, "/many"));
}

TEST(FuseConformance, PosixSubsetThroughMemfsLl) {
  auto r = testing::run_once(memfs_ll(), posix_subset, 1);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
}

TEST(FuseConformance, CreateFallbackAndSingleThread) {
  auto r = testing::run_once(memfs_ll({"--no-create", "-s"}), posix_subset, 2, "random", true);
  ASSERT_EQ(r.outcome, Outcome::pass) << r.message;
  bool fallback = false, emulated = false;
  for (const auto& e : r.events) {
    fallback = fallback || e.kind == "fuse_create_fallback";
    emulated = emulated || e.kind == "fuse_access_emulated";
  }
  EXPECT_TRUE(fallback);
  EXPECT_TRUE(emulated);
}

TEST(FuseConformance, PosixSubsetUnderSchedules) {
  for (const char* strategy : {"random", "pct"}) {
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 20;
    eo.depth = 3;
    auto s = sim::explore(testing::world_fn(memfs_ll(), posix_subset), eo);
    EXPECT_EQ(s.outcome, Outcome::pass)
        << strategy << ": " << (s.first_failure ? s.first_failure->message : "");
  }
}

// --- the differential test ---------------------------------------------------

// A symbolic link's permission bits are the daemon's: FUSE's SYMLINK
// carries no mode (Linux links are 0777), so only the type is compared.
std::uint32_t mode_of(const vfs::Stat& st) {
  return (st.mode & S_IFMT) == S_IFLNK ? S_IFLNK : st.mode;
}

// One random syscall sequence, its results written to a log. The same
// generator seed gives the same sequence on every file system.
template <class K, class P>
void random_sequence(K& k, P& p, std::uint64_t seed, std::vector<std::string>* log) {
  sim::Rng rng(seed);
  const char* paths[] = {"/a", "/b", "/a/x", "/b/y", "/a/x/z", "/c"};
  auto path = [&] { return std::string(paths[rng.below(std::size(paths))]); };
  auto note = [&](const std::string& what, int err) {
    log->push_back(what + " -> " + std::to_string(err));
  };
  for (int i = 0; i < 40; ++i) {
    const std::string a = path(), b = path();
    switch (rng.below(11)) {
      case 0: note("mkdir " + a, k.mkdir(p, a, 0755).err()); break;
      case 1: {
        auto fd = k.open(p, a, O_CREAT | O_WRONLY | O_APPEND, 0644);
        note("open " + a, fd.err());
        if (fd.ok()) {
          const std::string data(1 + rng.below(5000), static_cast<char>('a' + rng.below(26)));
          note("write " + a, k.write(p, *fd, data).err());
          (void)k.close(p, *fd);
        }
        break;
      }
      case 2: note("unlink " + a, k.unlink(p, a).err()); break;
      case 3: note("rmdir " + a, k.rmdir(p, a).err()); break;
      case 4: note("rename " + a + " " + b, k.rename(p, a, b).err()); break;
      case 5: note("link " + a + " " + b, k.link(p, a, b).err()); break;
      case 6: note("symlink " + a, k.symlink(p, "target" + a, b).err()); break;
      case 7: note("chmod " + a, k.chmod(p, a, rng.below(2) ? 0600 : 0755).err()); break;
      case 8:
        note("truncate " + a, k.truncate(p, a, static_cast<std::int64_t>(rng.below(100))).err());
        break;
      case 9:
        note("setxattr " + a, k.setxattr(p, a, "user.k", "v" + std::to_string(i), 0).err());
        break;
      default: {
        auto st = k.lstat(p, a);
        note("lstat " + a, st.err());
        if (st.ok()) {
          log->push_back("  mode " + std::to_string(mode_of(*st)) + " nlink " +
                         std::to_string(st->nlink) + " size " +
                         std::to_string((st->mode & S_IFMT) == S_IFDIR ? 0 : st->size));
        }
      }
    }
  }
  // The final tree: every path's type, size, link count, contents, xattr.
  for (const char* q : paths) {
    auto st = k.lstat(p, q);
    std::string line = std::string("final ") + q + " " + std::to_string(st.err());
    if (st.ok()) {
      line += " mode " + std::to_string(mode_of(*st)) + " nlink " + std::to_string(st->nlink);
      if ((st->mode & S_IFMT) == S_IFREG) {
        auto fd = k.open(p, q, O_RDONLY);
        if (fd.ok()) {
          auto data = k.read(p, *fd, 1 << 20);
          line += " data " + std::to_string(data.ok() ? data->size() : 0) + ":" +
                  (data.ok() ? data->substr(0, 8) : std::string("?"));
          (void)k.close(p, *fd);
        }
        auto x = k.getxattr(p, q, "user.k");
        line += " xattr " + (x.ok() ? *x : std::to_string(x.err()));
      }
      if ((st->mode & S_IFMT) == S_IFLNK) line += " -> " + *k.readlink(p, q);
      if ((st->mode & S_IFMT) == S_IFDIR) {
        auto fd = k.open(p, q, O_RDONLY | O_DIRECTORY);
        std::vector<std::string> names;
        if (fd.ok()) {
          for (;;) {
            auto ents = k.getdents(p, *fd, 64);
            if (!ents.ok() || ents->empty()) break;
            for (const auto& e : *ents) names.push_back(e.name);
          }
          (void)k.close(p, *fd);
        }
        std::sort(names.begin(), names.end());
        for (const auto& n : names) line += " " + n;
      }
    }
    log->push_back(line);
  }
}

TEST(FuseConformance, RandomSequencesMatchMemfsThroughPuffs) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    std::vector<std::string> via_fuse, via_puffs;
    auto rf = testing::run_once(
        memfs_ll(), [&](World& w) { random_sequence(w.k, w.p, seed, &via_fuse); }, seed);
    ASSERT_EQ(rf.outcome, Outcome::pass) << "seed " << seed << ": " << rf.message;
    auto rp = puffs::testing::run_once(
        {}, [&](puffs::testing::World& w) { random_sequence(w.k, w.p, seed, &via_puffs); }, seed);
    ASSERT_EQ(rp.outcome, Outcome::pass) << rp.message;
    ASSERT_EQ(via_fuse.size(), via_puffs.size());
    for (std::size_t i = 0; i < via_fuse.size(); ++i) {
      ASSERT_EQ(via_fuse[i], via_puffs[i]) << "seed " << seed << " line " << i;
    }
  }
}

}  // namespace
}  // namespace vfsim::fuse
