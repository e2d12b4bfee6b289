// The per-run state of the `vfs` scenario module and the helpers its op
// handlers share (vfs_module.cc, vfs_ops.cc).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "pager/scenario/pager_module.h"
#include "scenarios/registry.h"
#include "vfs/kernel.h"

namespace vfsim::vfs {

class VfsState final : public scenarios::ModuleState, public pager::PagerHost {
 public:
  VfsState(sim::Machine& m, const scenarios::Config& config);
  void lwp_start(sim::Machine& m, const scenarios::LwpInfo& lwp) override;
  void stop(sim::Machine& m) override;

  Kernel& kernel() { return *kernel_; }
  pager::Pager* machine_pager() override { return kernel_->pager(); }
  // The process of the calling lwp.
  Proc& proc(sim::Machine& m);

 private:
  std::unique_ptr<Kernel> kernel_;
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
