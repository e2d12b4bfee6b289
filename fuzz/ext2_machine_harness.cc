// The whole-machine ext2 fuzz path (ext2_machine_harness.h).
#include "fuzz/ext2_machine_harness.h"

#include <fcntl.h>

#include <cstring>
#include <deque>
#include <vector>

#include "boot/world.h"
#include "fsdrivers/ext2/ext2.h"
#include "sim/strategy.h"
#include "vfs/kernel.h"

namespace vfsim::fuzz {
namespace {

constexpr std::size_t kMaxVisits = 400;           // directory entries looked at
constexpr std::size_t kMaxFileRead = 256 * 1024;  // bytes read per file
constexpr std::uint64_t kStepBudget = 400'000;    // a livelock guard, not a limit in practice

// Breadth-first over the tree through system calls.
class Walker {
 public:
  Walker(vfs::Kernel& k, vfs::Proc& p) : k_(k), p_(p) {}

  void walk() {
    std::deque<std::string> dirs{"/"};
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
  std::size_t visits_ = 0;
};

void write_workload(vfs::Kernel& k, vfs::Proc& p) {
  const std::string data(5000, '\xa5');
  auto fd = k.open(p, "/fz", O_RDWR | O_CREAT, 0644);
  if (fd.ok()) {
    (void)k.write(p, *fd, data);
    (void)k.pwrite(p, *fd, data, 70000);
    (void)k.ftruncate(p, *fd, 3000);
    (void)k.fsync(p, *fd);
    (void)k.close(p, *fd);
  }
  (void)k.setxattr(p, "/fz", "user.fuzz", "value", 0);
  if (k.mkdir(p, "/fzd", 0755).ok()) {
    (void)k.rename(p, "/fz", "/fzd/fz2");
    (void)k.symlink(p, std::string(80, 's'), "/fzd/ln");
    (void)k.link(p, "/fzd/fz2", "/fzd/fz3");
    (void)k.unlink(p, "/fzd/fz2");
    (void)k.unlink(p, "/fzd/fz3");
    (void)k.unlink(p, "/fzd/ln");
    (void)k.rmdir(p, "/fzd");
  }
  // Change something that was on the image already.
  auto root = k.open(p, "/", O_RDONLY | O_DIRECTORY);
  if (!root.ok()) return;
  auto ents = k.getdents(p, *root, 8);
  (void)k.close(p, *root);
  if (!ents.ok()) return;
  for (const vn::Dirent& e : *ents) {
    if (e.name == "." || e.name == ".." || e.name == "lost+found") continue;
    const std::string path = "/" + e.name;
    if (e.type == vn::VType::VDIR) {
      (void)k.rename(p, path, path + ".r");
    } else {
      (void)k.link(p, path, path + ".l");
      (void)k.unlink(p, path);
    }
    break;
  }
  (void)k.statvfs(p, "/");
}

}  // namespace

MachineFuzzResult fuzz_ext2_machine(const std::uint8_t* data, std::size_t size) {
  MachineFuzzResult out;
  sim::StrategyParams params;
  params.seed = 1;
  auto strategy = sim::make_strategy("random", params);
  strategy->begin_run(0, 1);
  sim::MachineOptions mo;
  mo.step_budget = kStepBudget;
  sim::Machine m(mo, *strategy);
  // The input as a file-system type of its own: ext2 over the bytes in memory.
  boot::BootConfig bc;
  bc.fs_types.push_back({"ext2-input", "ext2 over the fuzz input",
                         [data, size](vn::MountEnv& env, const vn::MountArgs&) {
                           ext2drv::Ext2Options o;
                           o.image_bytes.emplace(size);
                           if (size != 0) std::memcpy(o.image_bytes->data(), data, size);
                           o.cache_blocks = 16;  // small, so eviction paths run too
                           std::string reason;
                           return ext2drv::make_ext2(env.machine(), o, &reason);
                         }});
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

}  // namespace vfsim::fuzz
