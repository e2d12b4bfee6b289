// Processes: credentials, umask, cwd and root, and which lwp runs in which
// process (the Kernel's lwp slot).
#include <fcntl.h>

#include "vfs/kernel.h"
#include "vfs/namei.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

Proc& Kernel::proc_create(std::string name, vn::Cred cred, std::uint32_t umask) {
  VFSIM_KASSERT(machine_, root_mount_ != nullptr, "proc_create before mount_root");
  auto p = std::make_unique<Proc>();
  p->pid = next_pid_++;
  p->name = std::move(name);
  p->cred = std::move(cred);
  p->umask = umask & 0777;
  VFSIM_KASSERT(machine_, rootvnode_ != nullptr, "no root vnode after mount_root");
  p->root = rootvnode_;
  vref(*p->root);
  p->cwd = rootvnode_;
  vref(*p->cwd);
  Proc& ref = *p;
  procs_.emplace(ref.pid, std::move(p));
  return ref;
}

void Kernel::proc_exit(Proc& p) {
  if (p.exited) return;
  for (std::size_t fd = 0; fd < p.fds.size(); ++fd) {
    if (p.fds[fd] != nullptr) (void)close(p, static_cast<int>(fd));
  }
  p.exited = true;
  vn::Vnode* cwd = p.cwd;
  vn::Vnode* root = p.root;
  p.cwd = p.root = nullptr;
  vrele(*cwd);
  vrele(*root);
}

Proc* Kernel::current_proc() const {
  if (!machine_.in_lwp()) return nullptr;
  return static_cast<Proc*>(machine_.current().slots[proc_slot_.index]);
}

void Kernel::attach_current_lwp(Proc& p) { machine_.current().slots[proc_slot_.index] = &p; }

Proc* Kernel::proc_by_name(std::string_view name) {
  for (auto& [pid, p] : procs_) {
    if (p->name == name) return p.get();
  }
  return nullptr;
}

Status Kernel::chdir(Proc& p, std::string_view path) {
  Nameidata nd;
  VN_TRY(namei(p, AT_FDCWD, path, kFollow, &nd));
  if (nd.vp->type != vn::VType::VDIR) {
    nd.release();
    return Status(ENOTDIR);
  }
  vn::vn_lock(*nd.vp, false);
  Status s = vn::vop_access(*nd.vp, vn::kAccExec, p.cred);
  vn::vn_unlock(*nd.vp);
  if (!s.ok()) {
    nd.release();
    return s;
  }
  vn::Vnode* old = p.cwd;
  p.cwd = nd.vp.release();  // the reference moves to the process
  vrele(*old);
  return vn::kOk;
}

}  // namespace vfsim::vfs
