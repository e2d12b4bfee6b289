// The whole-machine ext2 fuzz path (ext2_machine_harness.h).
#include "fuzz/ext2_machine_harness.h"

#include <fcntl.h>

#include <cstring>
#include <deque>
#include <vector>

#include "boot/fstypes.h"
#include "boot/world.h"
#include "fsdrivers/ext2/ext2.h"
#include "sim/strategy.h"
#include "vfs/kernel.h"

namespace vfsim::fuzz {
namespace {

constexpr std::size_t kMaxVisits = 400;                        // directory entries looked at
constexpr std::size_t kMaxFileRead = std::size_t{256} * 1024;  // bytes read per file
constexpr std::uint64_t kStepBudget = 400'000;         // a livelock guard, not a limit in practice
constexpr std::uint64_t kPuffsStepBudget = 4'000'000;  // the same through puffs (many more steps)

// Breadth-first over the tree through system calls.
class Walker {
 public:
  Walker(vfs::Kernel& k, vfs::Proc& p, std::string root = "/")
      : k_(k), p_(p), root_(std::move(root)) {}

  void walk() {
    std::deque<std::string> dirs{root_};
    while (!dirs.empty() && visits_ < kMaxVisits) {
      const std::string dir = dirs.front();
      dirs.pop_front();
      for (const std::string& name : list(dir)) {
        if (++visits_ > kMaxVisits) return;
        const std::string path = dir == "/" ? "/" + name : dir + "/" + name;
        if (visit(path)) dirs.push_back(path);
      }
    }
  }

 private:
  std::vector<std::string> list(const std::string& dir) {
    std::vector<std::string> names;
    auto fd = k_.open(p_, dir, O_RDONLY | O_DIRECTORY);
    if (!fd.ok()) return names;
    for (int batch = 0; batch < 64; ++batch) {
      auto ents = k_.getdents(p_, *fd, 32);
      if (!ents.ok() || ents->empty()) break;
      for (auto& e : *ents) {
        if (e.name != "." && e.name != "..") names.push_back(std::move(e.name));
      }
    }
    (void)k_.close(p_, *fd);
    return names;
  }

  // Reads what the node holds; true for a directory to descend into.
  bool visit(const std::string& path) {
    auto st = k_.lstat(p_, path);
    if (!st.ok()) return false;
    auto names = k_.listxattr(p_, path, 0, false);
    if (names.ok()) {
      for (const std::string& n : *names) (void)k_.getxattr(p_, path, n, 0, false);
    }
    switch (st->mode & S_IFMT) {
      case S_IFDIR: return true;
      case S_IFLNK: (void)k_.readlink(p_, path); break;
      case S_IFREG: read_file(path, st->size); break;
      default: break;
    }
    return false;
  }

  void read_file(const std::string& path, std::uint64_t size) {
    auto fd = k_.open(p_, path, O_RDONLY);
    if (!fd.ok()) return;
    for (std::uint64_t off = 0; off < size && off < kMaxFileRead; off += 8192) {
      if (!k_.read(p_, *fd, 8192).ok()) break;
    }
    if (size > kMaxFileRead) (void)k_.pread(p_, *fd, 100, static_cast<std::int64_t>(size - 100));
    (void)k_.close(p_, *fd);
  }

  vfs::Kernel& k_;
  vfs::Proc& p_;
  std::string root_;
  std::size_t visits_ = 0;
};

// On the file system mounted at `at` ("" for the root).
void write_workload(vfs::Kernel& k, vfs::Proc& p, const std::string& at = "") {
  const std::string data(5000, '\xa5');
  const std::string fz = at + "/fz", fzd = at + "/fzd";
  auto fd = k.open(p, fz, O_RDWR | O_CREAT, 0644);
  if (fd.ok()) {
    (void)k.write(p, *fd, data);
    (void)k.pwrite(p, *fd, data, 70000);
    (void)k.ftruncate(p, *fd, 3000);
    (void)k.fsync(p, *fd);
    (void)k.close(p, *fd);
  }
  (void)k.setxattr(p, fz, "user.fuzz", "value", 0);
  if (k.mkdir(p, fzd, 0755).ok()) {
    (void)k.rename(p, fz, fzd + "/fz2");
    (void)k.symlink(p, std::string(80, 's'), fzd + "/ln");
    (void)k.link(p, fzd + "/fz2", fzd + "/fz3");
    (void)k.unlink(p, fzd + "/fz2");
    (void)k.unlink(p, fzd + "/fz3");
    (void)k.unlink(p, fzd + "/ln");
    (void)k.rmdir(p, fzd);
  }
  // Change something that was on the image already.
  auto root = k.open(p, at.empty() ? "/" : at, O_RDONLY | O_DIRECTORY);
  if (!root.ok()) return;
  auto ents = k.getdents(p, *root, 8);
  (void)k.close(p, *root);
  if (!ents.ok()) return;
  for (const vn::Dirent& e : *ents) {
    if (e.name == "." || e.name == ".." || e.name == "lost+found") continue;
    const std::string path = at + "/" + e.name;
    if (e.type == vn::VType::VDIR) {
      (void)k.rename(p, path, path + ".r");
    } else {
      (void)k.link(p, path, path + ".l");
      (void)k.unlink(p, path);
    }
    break;
  }
  (void)k.statvfs(p, at.empty() ? "/" : at);
}

}  // namespace

namespace {

// The input as a file-system type of its own: ext2 over the bytes in memory.
// `test_panic` is the driver's TEST-ONLY assertion hook (ext2.h).
vn::FsType input_type(const std::uint8_t* data, std::size_t size, bool test_panic) {
  return {"ext2-input", "ext2 over the fuzz input",
          [data, size, test_panic](vn::MountEnv& env, const vn::MountArgs&) {
            ext2drv::Ext2Options o;
            o.image_bytes.emplace(size);
            if (size != 0) std::memcpy(o.image_bytes->data(), data, size);
            o.cache_blocks = 16;  // small, so eviction paths run too
            o.test_panic = test_panic;
            std::string reason;
            return ext2drv::make_ext2(env.machine(), o, &reason);
          }};
}

std::unique_ptr<sim::Strategy> fuzz_strategy() {
  sim::StrategyParams params;
  params.seed = 1;
  auto strategy = sim::make_strategy("random", params);
  strategy->begin_run(0, 1);
  return strategy;
}

}  // namespace

MachineFuzzResult fuzz_ext2_machine(const std::uint8_t* data, std::size_t size, bool test_panic) {
  MachineFuzzResult out;
  auto strategy = fuzz_strategy();
  sim::MachineOptions mo;
  mo.step_budget = kStepBudget;
  sim::Machine m(mo, *strategy);
  boot::BootConfig bc;
  bc.fs_types.push_back(input_type(data, size, test_panic));
  bc.root_type = "ext2-input";
  boot::World w(m, std::move(bc));
  vfs::Kernel& k = w.kernel();
  m.spawn("fuzz", [&] {
    m.sleep_for(1'700'000'000 * sim::kSecond);
    if (!w.mount_root().ok()) return;
    out.mounted = true;
    vfs::Proc& p = k.proc_create("fuzz", vn::Cred{});
    k.attach_current_lwp(p);
    Walker(k, p).walk();
    write_workload(k, p);
    auto unexplained = k.unexplained_references();
    if (!unexplained.empty()) m.fail(sim::Outcome::leak, unexplained.front());
    (void)k.shutdown();  // an EIO while writing back is fine
  });
  const sim::RunResult r = m.run();
  if (r.failed()) {
    out.finding = true;
    out.message = std::string(sim::outcome_name(r.outcome)) + ": " + r.message;
  }
  return out;
}

MachineFuzzResult fuzz_ext2_puffs(const std::uint8_t* data, std::size_t size, bool test_panic) {
  MachineFuzzResult out;
  auto strategy = fuzz_strategy();
  sim::MachineOptions mo;
  mo.step_budget = kPuffsStepBudget;
  sim::Machine m(mo, *strategy);
  boot::BootConfig bc;
  bc.fs_types = boot::builtin_fs_types();
  bc.fs_types.push_back(input_type(data, size, test_panic));
  bc.root_type = "memfs";
  boot::World w(m, std::move(bc));
  vfs::Kernel& k = w.kernel();
  // A finding of the kernel's: the run fails with it (the first one wins).
  auto kernel_finding = [&m](const std::string& what) { m.fail(sim::Outcome::expectation, what); };
  m.spawn("fuzz", [&] {
    m.sleep_for(1'700'000'000 * sim::kSecond);
    if (!w.mount_root().ok()) kernel_finding("the root memfs did not mount");
    vfs::Proc& p = k.proc_create("fuzz", vn::Cred{});
    k.attach_current_lwp(p);
    if (!k.mkdir(p, "/img", 0755).ok()) kernel_finding("mkdir /img on the root memfs failed");
    // The server mounts the image: a refusal (an errno) or its death while
    // parsing (ENXIO) fails the mount, and the kernel goes on.
    out.mounted = k.mount(p, "puffs", "/img", {{"backend", "ext2-input"}}).ok();
    if (out.mounted) {
      Walker(k, p, "/img").walk();
      write_workload(k, p, "/img");
    }
    // The kernel survived: the root file system still works...
    const std::string data_text = "the kernel is alive";
    auto fd = k.open(p, "/alive", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (!fd.ok())
      kernel_finding("open /alive on the root memfs: errno " + std::to_string(fd.err()));
    if (!k.write(p, *fd, data_text).ok()) kernel_finding("write /alive failed");
    auto back = k.pread(p, *fd, 64, 0);
    if (!back.ok() || *back != data_text) kernel_finding("/alive did not read back");
    (void)k.close(p, *fd);
    // ...a dead server's mount answers ENXIO or EIO and unmounts...
    if (out.mounted && !m.contained_panics().empty()) {
      out.server_died = true;
      auto st = k.stat(p, "/img");
      const int e = st.ok() ? 0 : st.err();
      if (e != ENXIO && e != EIO) {
        kernel_finding("stat of the dead server's mount answered errno " + std::to_string(e));
      }
    }
    if (out.mounted && !k.unmount(p, "/img", /*force=*/true).ok()) {
      kernel_finding("unmount -f /img failed");
    }
    // ...and nothing is left referenced.
    auto unexplained = k.unexplained_references();
    if (!unexplained.empty()) m.fail(sim::Outcome::leak, unexplained.front());
    if (!k.shutdown().ok()) kernel_finding("shutdown of the kernel failed");
  });
  const sim::RunResult r = m.run();
  if (!r.contained.empty()) {
    out.server_died = true;
    out.contained = r.contained.front().message;
  }
  if (r.failed()) {
    out.finding = true;
    out.message = std::string(sim::outcome_name(r.outcome)) + ": " + r.message;
  }
  return out;
}

}  // namespace vfsim::fuzz
