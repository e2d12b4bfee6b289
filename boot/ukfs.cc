// ukfs: the standalone API (ukfs.h), on a World.
#include "boot/ukfs.h"

#include <fcntl.h>

#include "sim/strategy.h"

namespace vfsim::ukfs {

vfs::Proc& Ukfs::new_process(std::string name, vn::Cred cred, std::uint32_t umask) {
  return k_.proc_create(std::move(name), std::move(cred), umask);
}

Status Ukfs::mkdir(std::string_view path, std::uint32_t mode) { return k_.mkdir(p_, path, mode); }
Status Ukfs::rmdir(std::string_view path) { return k_.rmdir(p_, path); }
Status Ukfs::remove(std::string_view path) { return k_.unlink(p_, path); }
Status Ukfs::link(std::string_view from, std::string_view to) { return k_.link(p_, from, to); }
Status Ukfs::rename(std::string_view from, std::string_view to) { return k_.rename(p_, from, to); }
Status Ukfs::symlink(std::string_view target, std::string_view path) {
  return k_.symlink(p_, target, path);
}
Result<std::string> Ukfs::readlink(std::string_view path) { return k_.readlink(p_, path); }
Status Ukfs::chmod(std::string_view path, std::uint32_t mode) { return k_.chmod(p_, path, mode); }
Status Ukfs::chown(std::string_view path, vn::Uid uid, vn::Gid gid) {
  return k_.chown(p_, path, uid, gid);
}
Result<vfs::Stat> Ukfs::stat(std::string_view path) { return k_.stat(p_, path); }
Result<vfs::Stat> Ukfs::lstat(std::string_view path) { return k_.lstat(p_, path); }

Status Ukfs::create(std::string_view path, std::uint32_t mode) {
  auto fd = k_.open(p_, path, O_CREAT | O_EXCL | O_WRONLY, mode);
  if (!fd.ok()) return fd.status();
  return k_.close(p_, *fd);
}

Result<std::string> Ukfs::read(std::string_view path, std::uint64_t offset, std::size_t len) {
  auto fd = k_.open(p_, path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  auto r = k_.pread(p_, *fd, len, static_cast<std::int64_t>(offset));
  (void)k_.close(p_, *fd);  // a descriptor we just opened closes without error
  return r;
}

Result<std::size_t> Ukfs::write(std::string_view path, std::uint64_t offset,
                                std::string_view data) {
  auto fd = k_.open(p_, path, O_WRONLY | O_CREAT, 0644);
  if (!fd.ok()) return fd.status();
  auto r = k_.pwrite(p_, *fd, data, static_cast<std::int64_t>(offset));
  (void)k_.close(p_, *fd);
  return r;
}

Status Ukfs::write_file(std::string_view path, std::string_view data) {
  auto fd = k_.open(p_, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd.ok()) return fd.status();
  Status s = vn::kOk;
  while (s.ok() && !data.empty()) {  // a short write goes on from where it stopped
    auto r = k_.write(p_, *fd, data);
    if (r.ok()) data.remove_prefix(*r);
    else s = r.status();
  }
  Status c = k_.close(p_, *fd);
  return s.ok() ? c : s;
}

Result<std::string> Ukfs::read_file(std::string_view path) {
  auto fd = k_.open(p_, path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  std::string all;
  for (;;) {
    auto chunk = k_.read(p_, *fd, 65536);
    if (!chunk.ok() || chunk->empty()) {
      (void)k_.close(p_, *fd);
      if (!chunk.ok()) return chunk.status();
      return all;
    }
    all += *chunk;
  }
}

Result<std::vector<std::string>> Ukfs::list(std::string_view path) {
  auto fd = k_.open(p_, path, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  std::vector<std::string> names;
  for (;;) {
    auto ents = k_.getdents(p_, *fd);
    if (!ents.ok() || ents->empty()) {
      (void)k_.close(p_, *fd);
      if (!ents.ok()) return ents.status();
      return names;
    }
    for (auto& e : *ents) {
      if (e.name != "." && e.name != "..") names.push_back(std::move(e.name));
    }
  }
}

sim::RunResult run(const Options& options, const std::function<void(Ukfs&)>& body) {
  sim::StrategyParams params;
  params.seed = options.seed;
  auto strategy = sim::make_strategy(options.strategy, params);
  strategy->begin_run(0, options.seed);
  sim::MachineOptions mo;
  mo.seed = options.seed;
  mo.start_time = options.start_time;
  if (options.step_budget) mo.step_budget = *options.step_budget;
  return run(options, mo, *strategy, body);
}

boot::BootConfig boot_config(const Options& options) {
  boot::BootConfig c;
  c.personality = options.personality;
  c.desiredvnodes = options.desiredvnodes;
  c.pager = options.pager;
  c.root_type = options.fstype;
  c.root_args = options.args;
  for (const vn::FsType& t : options.extra_fs_types) c.fs_types.push_back(t);
  return c;
}

sim::RunResult run(const Options& options, const sim::MachineOptions& machine,
                   sim::Strategy& strategy, const std::function<void(Ukfs&)>& body) {
  sim::Machine m(machine, strategy);
  boot::World w(m, boot_config(options));
  m.spawn("ukfs", [&] {
    Status s = w.mount_root();
    if (!s.ok()) m.fail(sim::Outcome::panic, "ukfs: mounting " + options.fstype + " failed");
    vfs::Proc& p = w.kernel().proc_create("ukfs", options.cred, options.umask);
    w.kernel().attach_current_lwp(p);
    Ukfs fs(w, p);
    body(fs);
    w.shutdown();
  });
  return m.run();
}

}  // namespace vfsim::ukfs
