// The Kernel object: construction, and the checks the machine runs.
#include "vfs/kernel.h"

#include <map>

#include "vfs/fifo.h"

namespace vfsim::vfs {

Kernel::Kernel(sim::Machine& m, KernelOptions options)
    : machine_(m),
      proc_slot_(m.alloc_lwp_slot()),
      options_(options),
      rules_(&vfs::rules(options.personality)),
      vcache_(m, options.desiredvnodes),
      mount_change_(m, "vfs.mount_change"),
      fifos_(std::make_unique<FifoTable>(m)) {
  machine_.add_invariant("vfs", [this] { return check_invariants(); });
  machine_.add_leak_check("vfs.fifos", [this] { return fifos_->leaked(); });
}

Kernel::~Kernel() = default;

std::string Kernel::check_invariants() const {
  std::map<std::uint64_t, std::uint32_t> fd_refs;  // file id -> fd entries
  for (const auto& [pid, p] : procs_) {
    if (p->exited) {
      if (p->cwd != nullptr || p->root != nullptr) return "exited process keeps vnodes";
      continue;
    }
    for (const OpenFile* f : p->fds) {
      if (f == nullptr) continue;
      if (find_file(f->id) != f) return "fd refers to a freed file in " + p->name;
      ++fd_refs[f->id];
    }
  }
  for (const auto& slot : files_) {
    const OpenFile* f = slot.file.get();
    if (f == nullptr) continue;  // released
    if (f->refs < fd_refs[f->id]) return "open file with fewer refs than descriptors";
    if (f->refs == 0) return "unreferenced open file not freed";
    if (f->vp->type == vn::VType::VFIFO && !fifos_->contains(*f->vp)) {
      return "open fifo " + f->vp->describe() + " has no buffer";
    }
  }
  return fifos_->check_invariants();
}

std::vector<std::string> Kernel::unexplained_references() {
  if (machine_.in_lwp()) machine_.quiesce();
  std::map<std::uint64_t, std::uint32_t> expected;  // vnode serial -> refs
  for (const auto& slot : files_) {
    if (slot.file != nullptr) ++expected[slot.file->vp->serial()];
  }
  for (const auto& [pid, p] : procs_) {
    if (p->cwd != nullptr) ++expected[p->cwd->serial()];
    if (p->root != nullptr) ++expected[p->root->serial()];
  }
  for (const auto& [id, mp] : mounts_) {
    if (mp->covered != nullptr) ++expected[mp->covered->serial()];
  }
  if (rootvnode_ != nullptr) ++expected[rootvnode_->serial()];
  std::vector<std::string> out;
  vcache_.for_each([&](const vn::Vnode& vp) {
    auto it = expected.find(vp.serial());
    const std::uint32_t want = it == expected.end() ? 0 : it->second;
    if (vp.usecount != want || vp.holdcount != 0) {
      out.push_back("vnode " + vp.describe() + " has " + std::to_string(vp.usecount) +
                    " references, the kernel accounts for " + std::to_string(want));
    }
  });
  return out;
}

}  // namespace vfsim::vfs
