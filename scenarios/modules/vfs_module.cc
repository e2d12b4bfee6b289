// The `vfs` scenario module: the kernel's knobs and the root memfs's (into
// the BootConfig), and per run one simulated process per scenario process
// plus a root "controller" process for setup and checks, on the World's
// kernel. The World mounts the root, shuts the kernel down at the end and
// checks for leaked vnodes.
#include "scenarios/modules/vfs_module.h"

#include "scenarios/modules/vfs_state.h"

namespace vfsim::vfs {

namespace sc = scenarios;

VfsState::VfsState(boot::World& world, const sc::Config& config) : world_(world) {
  Kernel& k = world_.kernel();
  controller_ = &k.proc_create("controller", vn::Cred{});
  for (const sc::ProcessSpec& ps : config.processes()) {
    vn::Cred cred{ps.uid, ps.gid, ps.groups};
    procs_[ps.name] = &k.proc_create(ps.name, cred, ps.umask);
  }
}

void VfsState::lwp_start(sim::Machine&, const sc::LwpInfo& lwp) {
  Proc* p = controller_;
  if (lwp.process != nullptr) {
    auto it = procs_.find(lwp.process->name);
    if (it != procs_.end()) p = it->second;
  }
  kernel().attach_current_lwp(*p);
}

Proc& VfsState::proc() {
  Proc* p = kernel().current_proc();
  return p != nullptr ? *p : *controller_;
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
  // The kernel's options and the root memfs.
  std::optional<sc::ConfigIssue> configure(const sc::Config& config,
                                           boot::BootConfig* boot) const override {
    boot->personality = *personality_from_name(config.get_string(kKnobPersonality));
    const std::int64_t vnodes = config.get_int(kKnobDesiredVnodes);
    if (vnodes < 1) return sc::ConfigIssue{kKnobDesiredVnodes, "must be at least 1"};
    boot->desiredvnodes = static_cast<std::size_t>(vnodes);
    boot->rename_lost_source_unlock = config.get_bool(kKnobRenameLostSourceUnlock);
    for (const char* key : {kKnobMemfsSize, kKnobMemfsInodes, kKnobMemfsBacking}) {
      if (config.get_int(key) < 0) return sc::ConfigIssue{key, "must not be negative"};
    }
    boot->root_type = "memfs";
    boot->root_args = {{"size_max", std::to_string(config.get_int(kKnobMemfsSize))},
                       {"inodes_max", std::to_string(config.get_int(kKnobMemfsInodes))}};
    if (config.get_int(kKnobMemfsBacking) != 0) {
      boot->root_args.emplace("backing_blocks", std::to_string(config.get_int(kKnobMemfsBacking)));
    }
    return std::nullopt;
  }
  void register_ops(sc::OpRegistry& r) const override { register_vfs_ops(r); }
  std::unique_ptr<sc::ModuleState> start(sim::Machine&, const sc::Config& config,
                                         boot::World& world) const override {
    return std::make_unique<VfsState>(world, config);
  }
};

}  // namespace

std::shared_ptr<const scenarios::Module> make_vfs_module() { return std::make_shared<VfsModule>(); }

}  // namespace vfsim::vfs
