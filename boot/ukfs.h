// ukfs: the standalone mode of the rump paper. A fresh machine, one file
// system mounted at "/", and path-based calls — no scenario file needed.
// Tests and the fs tools use it like this:
//
//   auto r = vfsim::ukfs::run({}, [](vfsim::ukfs::Ukfs& fs) {
//     EXPECT_TRUE(fs.mkdir("/d", 0755).ok());
//     EXPECT_TRUE(fs.write_file("/d/f", "hello").ok());
//     EXPECT_EQ(*fs.read_file("/d/f"), "hello");
//   });
//   EXPECT_FALSE(r.failed()) << r.message;
//
// run() boots a World (boot/world.h) on a machine of its own, executes the
// body inside one lwp of it (so every kernel lock and sleep works), then
// closes everything, unmounts, and checks that no vnode was leaked
// (Outcome::leak) and every invariant held.
// The body may spawn more lwps with fs.machine().spawn() and join them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "boot/world.h"
#include "sim/machine.h"
#include "vfs/kernel.h"

namespace vfsim::ukfs {

using vn::Result;
using vn::Status;

struct Options {
  std::string fstype = "memfs";
  vfs::MountArgs args;  // the file system's mount options
  vfs::Personality personality = vfs::Personality::NetBSD;
  std::size_t desiredvnodes = 1024;
  vn::Cred cred{};  // of the ukfs process: root by default
  std::uint32_t umask = 022;
  std::uint64_t seed = 1;
  sim::VTime start_time = 0;        // the virtual clock's first reading
  std::string strategy = "random";  // for bodies that spawn lwps
  // The machine's step budget (sim::MachineOptions::step_budget); unset:
  // the machine's default, sized for scenarios. The image tools lift it:
  // their work grows with the image, and a livelock guard meant for a
  // scenario would stop a large copy half-way.
  std::optional<std::uint64_t> step_budget = std::nullopt;
  // The machine's memory (BootConfig::pager); unset: none.
  std::optional<pager::PagerConfig> pager = std::nullopt;
  // Types the machine knows besides the built-in ones (a test's own file
  // system, registered the way a driver registers its type).
  std::vector<vn::FsType> extra_fs_types = {};
};

// The BootConfig `options` describe: `fstype` with `args` as the root.
[[nodiscard]] boot::BootConfig boot_config(const Options& options);

class Ukfs {
 public:
  Ukfs(boot::World& w, vfs::Proc& p) : w_(w), k_(w.kernel()), p_(p) {}
  boot::World& world() { return w_; }
  vfs::Kernel& kernel() { return k_; }
  vfs::Proc& proc() { return p_; }
  sim::Machine& machine() { return k_.machine(); }
  // Another process (for permission tests); exited at the end of run().
  vfs::Proc& new_process(std::string name, vn::Cred cred, std::uint32_t umask = 022);

  // The ukfs_* calls, as the ukfs process.
  [[nodiscard]] Status mkdir(std::string_view path, std::uint32_t mode);
  [[nodiscard]] Status rmdir(std::string_view path);
  [[nodiscard]] Status remove(std::string_view path);
  [[nodiscard]] Status create(std::string_view path, std::uint32_t mode);
  [[nodiscard]] Status link(std::string_view from, std::string_view to);
  [[nodiscard]] Status symlink(std::string_view target, std::string_view path);
  [[nodiscard]] Result<std::string> readlink(std::string_view path);
  [[nodiscard]] Status rename(std::string_view from, std::string_view to);
  [[nodiscard]] Status chmod(std::string_view path, std::uint32_t mode);
  [[nodiscard]] Status chown(std::string_view path, vn::Uid uid, vn::Gid gid);
  [[nodiscard]] Result<vfs::Stat> stat(std::string_view path);
  [[nodiscard]] Result<vfs::Stat> lstat(std::string_view path);
  // Reads up to len bytes at offset; writes at offset (creating the file).
  [[nodiscard]] Result<std::string> read(std::string_view path, std::uint64_t offset,
                                         std::size_t len);
  [[nodiscard]] Result<std::size_t> write(std::string_view path, std::uint64_t offset,
                                          std::string_view data);
  // Replaces the whole content (written on after a short write, so an error
  // is the one that stopped it) / reads the whole file.
  [[nodiscard]] Status write_file(std::string_view path, std::string_view data);
  [[nodiscard]] Result<std::string> read_file(std::string_view path);
  // Every name in a directory except "." and "..", in the file system's order.
  [[nodiscard]] Result<std::vector<std::string>> list(std::string_view path);

 private:
  boot::World& w_;
  vfs::Kernel& k_;
  vfs::Proc& p_;
};

// Runs `body` in a fresh machine with `options.fstype` mounted at "/".
sim::RunResult run(const Options& options, const std::function<void(Ukfs&)>& body);

// The same on a machine the caller's strategy drives: the form sim::explore
// calls (options.seed, start_time and strategy give way to `machine` and
// `strategy`), so a concurrency test explores a ukfs body.
sim::RunResult run(const Options& options, const sim::MachineOptions& machine,
                   sim::Strategy& strategy, const std::function<void(Ukfs&)>& body);

}  // namespace vfsim::ukfs
