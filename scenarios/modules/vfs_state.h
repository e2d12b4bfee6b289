// The per-run state of the `vfs` scenario module and the helpers its op
// handlers share (vfs_module.cc, vfs_ops.cc).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "boot/world.h"
#include "scenarios/registry.h"
#include "vfs/kernel.h"

namespace vfsim::vfs {

// The scenario's simulated processes on the World's kernel: one per
// declared process, and a root "controller" process for setup and checks.
class VfsState final : public scenarios::ModuleState {
 public:
  VfsState(boot::World& world, const scenarios::Config& config);
  void lwp_start(sim::Machine& m, const scenarios::LwpInfo& lwp) override;

  Kernel& kernel() { return world_.kernel(); }
  // The process of the calling lwp.
  Proc& proc();

 private:
  boot::World& world_;
  std::map<std::string, Proc*, std::less<>> procs_;  // by scenario process name
  Proc* controller_ = nullptr;
};

// Registers every op of the module (vfs_ops.cc).
void register_vfs_ops(scenarios::OpRegistry& r);

// The knob names.
inline constexpr const char* kKnobPersonality = "personality";
inline constexpr const char* kKnobDesiredVnodes = "vfs.desiredvnodes";
inline constexpr const char* kKnobRenameLostSourceUnlock = "vfs.rename_lost_source_unlock";
inline constexpr const char* kKnobMemfsSize = "memfs.size_max";
inline constexpr const char* kKnobMemfsInodes = "memfs.inodes_max";
inline constexpr const char* kKnobMemfsBacking = "memfs.backing_blocks";

}  // namespace vfsim::vfs
