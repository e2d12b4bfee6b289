// The model-based conformance test (CONVENTIONS.md §9): RapidCheck generates
// sequences of system calls from three processes with different credentials
// on paths built from a three-name pool (so names collide, links and
// renames meet, symlinks loop), runs each sequence on a file system under
// test and on the independent reference model (posix_model.h), and compares
// every errno and every stat. After each sequence: every name's nlink
// equals the model's count of names, every vnode is released once the files
// are closed and the file system unmounted, and the invariant checkers pass
// (ukfs::run turns any of those into a failed run). Failures shrink to the
// shortest sequence.
//
// The file system is a parameter: a MountCase says how to mount it: memfs,
// and ext2 on a fresh `mke2fs -t ext2` image that e2fsck -fn must find clean
// after every sequence; memfs served through puffs (p2k) is two more cases,
// and memfs_ll, vfsim's low-level libfuse file system, mounted as type
// "fuse" (libfuse 3.14 in daemon lwps behind the perfused bridge) is one
// more when libfuse3-dev is installed: there the World's leak check also
// holds the bridge's ledger at unmount (every nodeid forgotten exactly as
// often as it was looked up, every fh released as often as it was opened);
// ext2 served through puffs (p2k over the ext2 driver in the server's
// process, the rump paper's isolation) is one more, with e2fsck after each.
// 1,000 sequences per personality per case run in the normal test run
// (RC_PARAMS overrides, e.g. RC_PARAMS="max_success=10000").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "boot/ukfs.h"
#include "vfs/tests/posix_model.h"

namespace vfsim::vfs {
namespace {

// How to mount the file system under test.
struct MountCase {
  std::string name;
  std::string fstype;
  MountArgs args;
  // Makes a fresh file system for one sequence and returns its mount
  // options (ext2: a new image file); unset: `args` as they are.
  std::function<MountArgs()> prepare;
  // Checks the file system after the sequence unmounted it; "" when sound
  // (ext2: e2fsck -fn on the image).
  std::function<std::string()> check_after;
  // The machine's memory; set: memfs, puffs and ext2 keep file data in the
  // page cache.
  std::optional<pager::PagerConfig> pager = std::nullopt;
  // Options added under the NetBSD personality (a FUSE daemon, not the
  // kernel, decides a new node's group: memfs_ll --bsd-groups).
  MountArgs netbsd_args = {};
  // Sut::symlink_mode_is_the_fs (FUSE).
  bool symlink_mode_is_the_fs = false;
};

// memfs through the page cache with a memory so small that files are paged
// out to swap and back during the sequences.
pager::PagerConfig small_memory() {
  pager::PagerConfig c;
  c.pages = 24;
  c.swap_slots = 256;
  return c;
}

// ext2: every sequence starts from a copy of one image made by
// `mke2fs -t ext2`, and e2fsck -fn must find it clean afterwards.
std::string shell(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  const int st = pclose(f);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

const std::string kExt2Dir = VFS_TEST_TMPDIR;
// Both per process: ctest runs the personalities in parallel, and a shared
// template could be rewritten by one process's mke2fs while the other
// copies it (which made the ext2 case fail now and then).
const std::string kExt2Template = kExt2Dir + "/ext2-template-" + std::to_string(getpid()) + ".img";
const std::string kExt2Image = kExt2Dir + "/ext2-" + std::to_string(getpid()) + ".img";

MountArgs ext2_prepare() {
  int st = 0;
  static const std::string made =
      shell("mkdir -p '" + kExt2Dir +
                "' && PATH=$PATH:/sbin:/usr/sbin E2FSPROGS_FAKE_TIME=1 mke2fs -q -F "
                "-t ext2 -b 1024 -N 64 '" +
                kExt2Template + "' 1024k",
            &st);
  std::string out = shell("cp '" + kExt2Template + "' '" + kExt2Image + "'", &st);
  if (st != 0) throw std::runtime_error("ext2 image: " + made + out);
  return {{"image", kExt2Image}};
}

// ext2 through puffs: the same image, mounted by the puffs server.
MountArgs ext2_puffs_prepare() {
  MountArgs a = ext2_prepare();
  a["backend"] = "ext2";
  return a;
}

std::string ext2_check() {
  int st = 0;
  std::string out = shell("PATH=$PATH:/sbin:/usr/sbin e2fsck -fn '" + kExt2Image + "'", &st);
  if (st != 0) return "e2fsck -fn: " + out;
  std::remove(kExt2Image.c_str());
  return "";
}

void PrintTo(const MountCase& mc, std::ostream* os) { *os << mc.name; }

struct Sut {
  Kernel& k;
  std::vector<Proc*> procs;  // index = Cmd::proc
  // A symbolic link's permission bits are the file system's to choose (FUSE:
  // SYMLINK carries no mode and no umask), so they are not compared.
  bool symlink_mode_is_the_fs = false;
};

using ModelState = model::Model;
using Cmd = rc::state::Command<ModelState, Sut>;

const model::Cred kCreds[] = {{0, 0}, {1000, 100}, {1001, 101}};

rc::Gen<std::string> gen_path() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(
                          *rc::gen::inRange(1, 4), rc::gen::element<std::string>("a", "b", "c")),
                      [](const std::vector<std::string>& comps) {
                        std::string p;
                        for (const auto& c : comps) p += "/" + c;
                        return p;
                      });
}
rc::Gen<std::uint32_t> gen_mode() {
  return rc::gen::element<std::uint32_t>(0755, 0700, 0777, 0644, 0600, 0711, 0555);
}
// chmod also sets the set-user-ID, set-group-ID (with and without
// group-execute) and sticky bits, whose rules differ by personality.
rc::Gen<std::uint32_t> gen_chmod_mode() {
  return rc::gen::element<std::uint32_t>(0755, 0700, 0644, 0600, 0555, 04755, 02755, 02745, 06711,
                                         01777, 01644);
}
rc::Gen<int> gen_proc() { return rc::gen::inRange(0, 3); }

// One generated call: run() compares the real result with the model's.
struct Op : Cmd {
  int proc = *gen_proc();

  void apply(ModelState& m) const override { (void)expected(m); }
  void run(const ModelState& m, Sut& sut) const override {
    ModelState copy = m;
    const int want = expected(copy);
    const int got = actual(sut, *sut.procs[static_cast<std::size_t>(proc)]);
    RC_ASSERT(got == want);
  }
  virtual int expected(ModelState& m) const = 0;
  virtual int actual(Sut& s, Proc& p) const = 0;
  const model::Cred& cred() const { return kCreds[proc]; }
};

struct Create : Op {
  std::string path = *gen_path();
  std::uint32_t mode = *gen_mode();
  int expected(ModelState& m) const override { return m.create(cred(), path, mode); }
  int actual(Sut& s, Proc& p) const override {
    auto fd = s.k.open(p, path, O_CREAT | O_EXCL | O_WRONLY, mode);
    if (!fd.ok()) return fd.err();
    return s.k.close(p, *fd).err();
  }
  void show(std::ostream& os) const override {
    os << "create(p" << proc << ", " << path << ", 0" << std::oct << mode << std::dec << ")";
  }
};

struct Mkdir : Op {
  std::string path = *gen_path();
  std::uint32_t mode = *gen_mode();
  int expected(ModelState& m) const override { return m.mkdir(cred(), path, mode); }
  int actual(Sut& s, Proc& p) const override { return s.k.mkdir(p, path, mode).err(); }
  void show(std::ostream& os) const override {
    os << "mkdir(p" << proc << ", " << path << ", 0" << std::oct << mode << std::dec << ")";
  }
};

struct Unlink : Op {
  std::string path = *gen_path();
  int expected(ModelState& m) const override { return m.unlink(cred(), path); }
  int actual(Sut& s, Proc& p) const override { return s.k.unlink(p, path).err(); }
  void show(std::ostream& os) const override { os << "unlink(p" << proc << ", " << path << ")"; }
};

struct Rmdir : Op {
  std::string path = *gen_path();
  int expected(ModelState& m) const override { return m.rmdir(cred(), path); }
  int actual(Sut& s, Proc& p) const override { return s.k.rmdir(p, path).err(); }
  void show(std::ostream& os) const override { os << "rmdir(p" << proc << ", " << path << ")"; }
};

struct Link : Op {
  std::string from = *gen_path();
  std::string to = *gen_path();
  int expected(ModelState& m) const override { return m.link(cred(), from, to); }
  int actual(Sut& s, Proc& p) const override { return s.k.link(p, from, to).err(); }
  void show(std::ostream& os) const override {
    os << "link(p" << proc << ", " << from << ", " << to << ")";
  }
};

struct Symlink : Op {
  std::string target = *gen_path();
  std::string path = *gen_path();
  int expected(ModelState& m) const override { return m.symlink(cred(), target, path); }
  int actual(Sut& s, Proc& p) const override { return s.k.symlink(p, target, path).err(); }
  void show(std::ostream& os) const override {
    os << "symlink(p" << proc << ", " << target << ", " << path << ")";
  }
};

struct Rename : Op {
  std::string from = *gen_path();
  std::string to = *gen_path();
  int expected(ModelState& m) const override { return m.rename(cred(), from, to); }
  int actual(Sut& s, Proc& p) const override { return s.k.rename(p, from, to).err(); }
  void show(std::ostream& os) const override {
    os << "rename(p" << proc << ", " << from << ", " << to << ")";
  }
};

struct Chmod : Op {
  std::string path = *gen_path();
  std::uint32_t mode = *gen_chmod_mode();
  int expected(ModelState& m) const override { return m.chmod(cred(), path, mode); }
  int actual(Sut& s, Proc& p) const override { return s.k.chmod(p, path, mode).err(); }
  void show(std::ostream& os) const override {
    os << "chmod(p" << proc << ", " << path << ", 0" << std::oct << mode << std::dec << ")";
  }
};

struct Bind : Op {
  std::string path = *gen_path();
  int expected(ModelState& m) const override { return m.bind(cred(), path); }
  int actual(Sut& s, Proc& p) const override { return s.k.bind_unix(p, path).err(); }
  void show(std::ostream& os) const override { os << "bind(p" << proc << ", " << path << ")"; }
};

struct Connect : Op {
  std::string path = *gen_path();
  int expected(ModelState& m) const override { return m.connect(cred(), path); }
  int actual(Sut& s, Proc& p) const override { return s.k.connect_unix(p, path).err(); }
  void show(std::ostream& os) const override { os << "connect(p" << proc << ", " << path << ")"; }
};

struct Chown : Op {
  std::string path = *gen_path();
  std::uint32_t uid = *rc::gen::element<std::uint32_t>(~0u, 0, 1000, 1001);
  std::uint32_t gid = *rc::gen::element<std::uint32_t>(~0u, 0, 100, 101);
  int expected(ModelState& m) const override { return m.chown(cred(), path, uid, gid); }
  int actual(Sut& s, Proc& p) const override { return s.k.chown(p, path, uid, gid).err(); }
  void show(std::ostream& os) const override {
    os << "chown(p" << proc << ", " << path << ", " << static_cast<std::int32_t>(uid) << ", "
       << static_cast<std::int32_t>(gid) << ")";
  }
};

struct WriteFile : Op {
  std::string path = *gen_path();
  std::string data = *rc::gen::element<std::string>("", "x", "hello", std::string(5000, 'z'));
  int expected(ModelState& m) const override { return m.write_file(cred(), path, data); }
  int actual(Sut& s, Proc& p) const override {
    auto fd = s.k.open(p, path, O_WRONLY | O_TRUNC);
    if (!fd.ok()) return fd.err();
    auto w = s.k.write(p, *fd, data);
    Status c = s.k.close(p, *fd);
    return !w.ok() ? w.err() : c.err();
  }
  void show(std::ostream& os) const override {
    os << "write_file(p" << proc << ", " << path << ", " << data.size() << " bytes)";
  }
};

// Compares the whole stat, not only the errno.
struct StatOp : Op {
  std::string path = *gen_path();
  bool follow = *rc::gen::arbitrary<bool>();
  int expected(ModelState& m) const override {
    model::StatResult st{};
    return m.stat(cred(), path, follow, &st);
  }
  int actual(Sut& s, Proc& p) const override { return 0; }
  void run(const ModelState& m, Sut& sut) const override {
    model::StatResult want{};
    const int werr = m.stat(cred(), path, follow, &want);
    Proc& p = *sut.procs[static_cast<std::size_t>(proc)];
    auto got = follow ? sut.k.stat(p, path) : sut.k.lstat(p, path);
    RC_ASSERT(got.err() == werr);
    if (werr != 0) return;
    const std::uint32_t type = want.kind == model::Kind::dir       ? S_IFDIR
                               : want.kind == model::Kind::symlink ? S_IFLNK
                               : want.kind == model::Kind::socket  ? S_IFSOCK
                                                                   : S_IFREG;
    RC_ASSERT((got->mode & S_IFMT) == type);
    if (want.kind != model::Kind::symlink || !sut.symlink_mode_is_the_fs) {
      RC_ASSERT((got->mode & 07777) == want.mode);
    }
    RC_ASSERT(got->nlink == want.nlink);
    RC_ASSERT(got->uid == want.uid);
    RC_ASSERT(got->gid == want.gid);
    if (want.kind != model::Kind::dir) RC_ASSERT(got->size == want.size);
  }
  void show(std::ostream& os) const override {
    os << (follow ? "stat" : "lstat") << "(p" << proc << ", " << path << ")";
  }
};

// After a sequence: every name in the model exists in the file system with
// the same type and an nlink equal to the model's count of names.
void check_final_tree(const ModelState& m, Sut& sut) {
  Proc& root = *sut.procs[0];
  for (const auto& [path, ino] : m.all_paths()) {
    auto st = sut.k.lstat(root, path);
    RC_ASSERT(st.ok());
    RC_ASSERT(st->nlink == m.nlink(ino));
  }
}

class Conformance : public ::testing::TestWithParam<std::tuple<MountCase, Personality>> {};

// Shows: 1,000 generated sequences per personality agree with the model,
// nlink equals names, and no vnode outlives close and unmount.
TEST_P(Conformance, SyscallSequencesMatchTheModel) {
  // No structured binding: the property's lambda captures both.
  const MountCase& mc = std::get<0>(GetParam());
  const Personality personality = std::get<1>(GetParam());
  const bool netbsd = personality == Personality::NetBSD;
  const bool ok = rc::check(mc.name + "/" + std::string(personality_name(personality)), [&] {
    // "/" is 0777, so that every process creates files of its own at the
    // top (and chmod, chown and writes by owners who are not root happen).
    const ModelState initial(netbsd, 0777);
    const auto cmds = *rc::state::gen::commands(
        initial,
        rc::state::gen::execOneOfWithArgs<Create, Mkdir, Unlink, Rmdir, Link, Symlink, Rename,
                                          Chmod, Chown, WriteFile, Bind, Connect, StatOp>());
    ukfs::Options o;
    o.fstype = mc.fstype;
    o.args = mc.prepare ? mc.prepare() : mc.args;
    if (netbsd) o.args.insert(mc.netbsd_args.begin(), mc.netbsd_args.end());
    o.personality = personality;
    o.desiredvnodes = 8;  // small, so recycling happens inside the sequences
    o.pager = mc.pager;
    std::exception_ptr failure;
    auto r = ukfs::run(o, [&](ukfs::Ukfs& fs) {
      Sut sut{fs.kernel(), {&fs.proc()}, mc.symlink_mode_is_the_fs};
      sut.procs.push_back(&fs.new_process("alice", vn::Cred{1000, 100, {}}));
      sut.procs.push_back(&fs.new_process("bob", vn::Cred{1001, 101, {}}));
      try {
        RC_ASSERT(fs.kernel().chmod(fs.proc(), "/", 0777).ok());
        ModelState m = initial;
        for (const auto& cmd : cmds) {
          cmd->run(m, sut);
          cmd->apply(m);
        }
        check_final_tree(m, sut);
      } catch (const sim::LwpKilled&) {
        throw;
      } catch (...) {
        failure = std::current_exception();
      }
    });
    if (failure) std::rethrow_exception(failure);
    RC_ASSERT(r.outcome == sim::Outcome::pass);
    if (mc.check_after) {
      const std::string problem = mc.check_after();
      if (!problem.empty()) RC_FAIL(problem);
    }
  });
  EXPECT_TRUE(ok);
}

// The file systems under test (the FUSE case only where libfuse3-dev is).
std::vector<MountCase> mount_cases() {
  std::vector<MountCase> v{
      MountCase{"memfs", "memfs", {}, {}, {}},
      MountCase{"memfs_paged", "memfs", {}, {}, {}, small_memory()},
      // File data in vnode objects over a block store: VnodePager,
      // VOP_GETPAGES / VOP_PUTPAGES, vnodes recycled (and their pages put)
      // within sequences.
      MountCase{"memfs_blocks", "memfs", {{"backing_blocks", "4096"}}, {}, {}, small_memory()},
      MountCase{"ext2", "ext2", {}, ext2_prepare, ext2_check},
      // ext2 file data in the page cache (24 pages), written back through
      // VnodePager by fsync, the syncer, the pagedaemon and reclaim; e2fsck
      // after each sequence.
      MountCase{"ext2_paged", "ext2", {}, ext2_prepare, ext2_check, small_memory()},
      MountCase{"memfs_through_puffs", "puffs", {}, {}, {}},
      // ext2 served by a puffs server (p2k over the ext2 driver in the
      // server's process); e2fsck after each sequence.
      MountCase{"ext2_through_puffs", "puffs", {}, ext2_puffs_prepare, ext2_check},
      MountCase{"memfs_through_puffs_paged", "puffs", {}, {}, {}, small_memory()}};
#ifdef VFSIM_HAVE_FUSE
  v.push_back(MountCase{"memfs_ll_through_fuse",
                        "fuse",
                        {{"fs", "memfs_ll"}},
                        {},
                        {},
                        std::nullopt,
                        {{"args", "--bsd-groups"}},
                        true});
#endif
  return v;
}

INSTANTIATE_TEST_SUITE_P(Filesystems, Conformance,
                         ::testing::Combine(::testing::ValuesIn(mount_cases()),
                                            ::testing::Values(Personality::NetBSD,
                                                              Personality::Linux)),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  std::string(personality_name(std::get<1>(info.param)));
                         });

}  // namespace
}  // namespace vfsim::vfs

// 1,000 sequences unless RC_PARAMS says otherwise; read when the first
// property runs, so it is set before the tests start.
int main(int argc, char** argv) {
  // A fixed seed keeps CI deterministic; RC_PARAMS="seed=..." explores others.
  setenv("RC_PARAMS", "max_success=1000 seed=40948", 0);  // NOLINT: set before any test runs
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
