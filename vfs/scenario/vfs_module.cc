// The `vfs` scenario module: knobs, per-run state (a Kernel with memfs at
// "/", one simulated process per scenario process, a root "controller"
// process for setup and checks), teardown and the vnode leak check.
#include "vfs/scenario/vfs_module.h"

#include "vfs/fstypes.h"
#include "vfs/scenario/vfs_state.h"

namespace vfsim::vfs {

namespace sc = scenarios;

VfsState::VfsState(sim::Machine& m, const sc::Config& config) {
  KernelOptions ko;
  ko.personality = *personality_from_name(config.get_string(kKnobPersonality));
  ko.desiredvnodes = static_cast<std::size_t>(config.get_int(kKnobDesiredVnodes));
  ko.rename_lost_source_unlock = config.get_bool(kKnobRenameLostSourceUnlock);
  ko.pager = pager::pager_config_from(config);  // the pager module's knobs
  kernel_ = std::make_unique<Kernel>(m, ko);
  register_builtin_fs_types(*kernel_);
  MountArgs args{{"size_max", std::to_string(config.get_int(kKnobMemfsSize))},
                 {"inodes_max", std::to_string(config.get_int(kKnobMemfsInodes))}};
  if (config.get_int(kKnobMemfsBacking) != 0) {
    args.emplace("backing_blocks", std::to_string(config.get_int(kKnobMemfsBacking)));
  }
  if (!kernel_->mount_root("memfs", args).ok()) m.panic("vfs: mounting memfs at / failed");
  controller_ = &kernel_->proc_create("controller", vn::Cred{});
  for (const sc::ProcessSpec& ps : config.processes()) {
    vn::Cred cred{ps.uid, ps.gid, ps.groups};
    procs_[ps.name] = &kernel_->proc_create(ps.name, cred, ps.umask);
  }
  Kernel* k = kernel_.get();
  m.add_leak_check("vnodes", [k] {
    std::vector<std::string> leaks = k->vcache().referenced();
    if (leaks.empty() && k->vcache().numvnodes() != 0) {
      leaks.push_back(std::to_string(k->vcache().numvnodes()) + " vnodes left after unmount");
    }
    return leaks;
  });
}

void VfsState::lwp_start(sim::Machine& m, const sc::LwpInfo& lwp) {
  Proc* p = controller_;
  if (lwp.process != nullptr) {
    auto it = procs_.find(lwp.process->name);
    if (it != procs_.end()) p = it->second;
  }
  kernel_->attach_current_lwp(*p);
}

Proc& VfsState::proc(sim::Machine&) {
  Proc* p = kernel_->current_proc();
  return p != nullptr ? *p : *controller_;
}

// Teardown: every reference the kernel cannot name is a leak; then every
// process exits and every file system is unmounted, after which the vcache
// must be empty (checked by the leak check once every lwp is gone).
void VfsState::stop(sim::Machine& m) {
  auto unexplained = kernel_->unexplained_references();
  if (!unexplained.empty()) m.fail(sim::Outcome::leak, "vfs: " + unexplained.front());
  Status s = kernel_->shutdown();
  if (!s.ok()) {
    m.fail(sim::Outcome::leak,
           "vfs: unmount at teardown failed with errno " + std::to_string(s.err()));
  }
}

namespace {

class VfsModule final : public sc::Module {
 public:
  std::string_view name() const override { return "vfs"; }
  std::string_view doc() const override {
    return "VFS system calls on memfs; personalities netbsd and linux";
  }
  std::vector<sc::KnobSpec> knobs() const override {
    return {
        sc::KnobSpec::enumeration(kKnobPersonality, "netbsd", {"netbsd", "linux"},
                                  "whose semantics to follow (vfs/personality.cc); netbsd's "
                                  "link(2) follows a symlink, linux's links the symlink"),
        sc::KnobSpec::integer(kKnobDesiredVnodes, 1024,
                              "vnodes the vcache keeps before recycling cached ones"),
        sc::KnobSpec::boolean(kKnobRenameLostSourceUnlock, true,
                              "the fix of PR kern/40948: rename's error branch for a source "
                              "removed half way releases exactly what it locked; false puts "
                              "back the historic branch, which releases the source directory "
                              "twice (a panic)"),
        sc::KnobSpec::integer(kKnobMemfsSize, 0, "memfs size limit in bytes (0: none)"),
        sc::KnobSpec::integer(kKnobMemfsInodes, 0, "memfs inode limit (0: none)"),
        sc::KnobSpec::integer(kKnobMemfsBacking, 0,
                              "with pager.pages: 0 = file data in anonymous pages with swap "
                              "(tmpfs); N = a write-back cache over N blocks that runs out of "
                              "space at page-out (the msdosfs model)"),
    };
  }
  std::optional<sc::ConfigIssue> validate(const sc::Config& config) const override {
    if (config.get_int(kKnobDesiredVnodes) < 1) {
      return sc::ConfigIssue{kKnobDesiredVnodes, "must be at least 1"};
    }
    for (const char* key : {kKnobMemfsSize, kKnobMemfsInodes, kKnobMemfsBacking}) {
      if (config.get_int(key) < 0) return sc::ConfigIssue{key, "must not be negative"};
    }
    return std::nullopt;
  }
  void register_ops(sc::OpRegistry& r) const override { register_vfs_ops(r); }
  std::unique_ptr<sc::ModuleState> start(sim::Machine& m, const sc::Config& config) const override {
    return std::make_unique<VfsState>(m, config);
  }
};

}  // namespace

std::shared_ptr<const scenarios::Module> make_vfs_module() { return std::make_shared<VfsModule>(); }

}  // namespace vfsim::vfs
