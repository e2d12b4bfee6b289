// The mount table and the mount-by-type table: mount(2), unmount(2), the
// root file system and shutdown. mountedhere / covered and a mount's state
// (vnode.h: mounted -> unmounting -> dead / gone) change only with the
// covered vnode locked exclusively; namei reads them between scheduling
// points and waits (mount_change_) while a mount is being unmounted.
#include <fcntl.h>

#include "vfs/kernel.h"
#include "vfs/namei.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

void Kernel::register_fs_type(std::string name, FsFactory factory) {
  fs_types_[std::move(name)] = std::move(factory);
}

Status Kernel::mount_root(std::string_view fstype, const MountArgs& args) {
  VFSIM_KASSERT(machine_, root_mount_ == nullptr, "mount_root twice");
  auto type = fs_types_.find(fstype);
  if (type == fs_types_.end()) return Status(ENODEV);
  auto fs = type->second(args);
  if (!fs.ok()) return fs.status();
  const std::uint32_t id = next_mount_id_++;
  auto mp = std::make_unique<vn::Mount>(machine_, id, std::move(*fs));
  mp->path = "/";
  mp->fs().bind(*mp, vcache_);
  auto root = vcache_.get(*mp, mp->fs().root_key());
  if (!root.ok()) {
    // Nothing else knows this mount yet; a forced flush reclaims whatever
    // the failed load left, and the file system lets go of its resources
    // (a puffs stub's reply reader) before it is freed.
    vn::mount_state_change(*mp, vn::MountState::mounted, vn::MountState::unmounting);
    (void)vcache_.flush(*mp, /*force=*/true);
    (void)mp->fs().unmount(/*force=*/true);
    if (mp->nvnodes == 0) {
      vn::mount_state_change(*mp, vn::MountState::unmounting, vn::MountState::gone);
    }
    return root.status();
  }
  rootvnode_ = *root;  // dropped at shutdown
  root_mount_ = mp.get();
  mounts_.emplace(id, std::move(mp));
  return vn::kOk;
}

Status Kernel::mount(Proc& p, std::string_view fstype, std::string_view path,
                     const MountArgs& args) {
  auto type = fs_types_.find(fstype);
  if (type == fs_types_.end()) {
    return mount_with(p, path,
                      [] { return Result<std::unique_ptr<vn::FileSystem>>(Status(ENODEV)); });
  }
  const FsFactory& factory = type->second;
  return mount_with(p, path, [&factory, &args] { return factory(args); });
}

Status Kernel::mount_with(Proc& p, std::string_view path, const FsMaker& make) {
  if (!p.cred.is_root()) return Status(EPERM);
  Nameidata nd;
  VN_TRY(namei(p, AT_FDCWD, path, kFollow, &nd));
  vn::Vnode* vp = nd.vp.get();
  Status s = vn::kOk;
  if (vp->type != vn::VType::VDIR) {
    s = Status(ENOTDIR);
  } else if (vp->is_root() || vp->mountedhere != nullptr) {
    s = Status(EBUSY);  // the root of a mount, or already covered
  }
  if (!s.ok()) {
    nd.release();
    return s;
  }
  auto fs = make();
  if (!fs.ok()) {
    nd.release();
    return fs.status();
  }
  const std::uint32_t id = next_mount_id_++;
  auto mp = std::make_unique<vn::Mount>(machine_, id, std::move(*fs));
  mp->path = std::string(path);
  mp->fs().bind(*mp, vcache_);
  vn::vn_lock(*vp, true);
  if (vp->mountedhere != nullptr) {  // someone mounted here while we slept
    vn::vn_unlock(*vp);
    nd.release();
    return Status(EBUSY);
  }
  mp->covered = nd.vp.release();  // the namei reference moves to the mount
  vp->mountedhere = mp.get();
  mounts_.emplace(id, std::move(mp));
  vn::vn_unlock(*vp);
  return vn::kOk;
}

Status Kernel::unmount(Proc& p, std::string_view path, bool force) {
  if (!p.cred.is_root()) return Status(EPERM);
  Nameidata nd;
  // The last component is not crossed: the directory a file system is
  // mounted on names that mount even when its root cannot be loaded — the
  // mount of a dead puffs server, whose root was revoked (NetBSD resolves
  // such a path to the covered vnode).
  VN_TRY(namei(p, AT_FDCWD, path, kFollow | kNoCrossMount, &nd));
  vn::Vnode* vp = nd.vp.get();
  if (vp->type == vn::VType::VDIR && vp->mountedhere != nullptr) {
    // Our reference keeps the covered vnode while unmount_mount waits for
    // its lock (no scheduling point between namei and that call).
    Status s = unmount_mount(*vp->mountedhere, force);
    nd.release();
    return s;
  }
  // A path that ends in the mount's root itself ("/mnt/.", "/").
  vn::Mount& mp = vp->mount();
  const bool is_root = vp->is_root();
  nd.release();
  if (!is_root) return Status(EINVAL);
  return unmount_mount(mp, force);
}

Status Kernel::unmount_mount(vn::Mount& mp, bool force) {
  if (&mp == root_mount_ || mp.state() != vn::MountState::mounted) return Status(EBUSY);
  for (const auto& [id, other] : mounts_) {
    if (other->covered != nullptr && &other->covered->mount() == &mp) return Status(EBUSY);
  }
  vn::Vnode* covered = mp.covered;
  vn::vn_lock(*covered, true);
  // Another unmount may have finished while we waited for the lock.
  if (covered->mountedhere != &mp || mp.state() != vn::MountState::mounted) {
    vn::vn_unlock(*covered);
    return Status(EBUSY);
  }
  vn::mount_state_change(mp, vn::MountState::mounted, vn::MountState::unmounting);
  Status s = vcache_.flush(mp, force);
  if (s.ok()) s = mp.fs().unmount(force);
  if (!s.ok()) {
    vn::mount_state_change(mp, vn::MountState::unmounting, vn::MountState::mounted);
    vn::vn_unlock(*covered);
    mount_change_.wakeup();
    return s;
  }
  // Dead vnodes (a forced unmount's, still referenced) keep the mount.
  const bool dead = mp.nvnodes != 0;
  vn::mount_state_change(mp, vn::MountState::unmounting,
                         dead ? vn::MountState::dead : vn::MountState::gone);
  covered->mountedhere = nullptr;
  mp.covered = nullptr;
  auto it = mounts_.find(mp.id());
  if (dead) dead_mounts_.push_back(std::move(it->second));
  mounts_.erase(it);  // frees a gone mount
  vn::vn_unlock(*covered);
  mount_change_.wakeup();
  vrele(*covered);
  return vn::kOk;
}

Status Kernel::shutdown() {
  for (auto& [pid, p] : procs_) proc_exit(*p);
  // Innermost first: a mount covering a directory of another goes before it.
  while (mounts_.size() > 1) {
    vn::Mount* leaf = nullptr;
    for (auto& [id, mp] : mounts_) {
      bool covers_something = false;
      for (auto& [oid, other] : mounts_) {
        covers_something |= other->covered != nullptr && &other->covered->mount() == mp.get();
      }
      if (mp.get() != root_mount_ && !covers_something) leaf = mp.get();
    }
    VFSIM_KASSERT(machine_, leaf != nullptr, "mount table has no leaf");
    if (Status s = unmount_mount(*leaf, false); !s.ok()) {
      // As NetBSD's vfs_unmountall: a file system that cannot write itself
      // back (a disk error) is unmounted by force; its image is not clean.
      machine_.event("vfs_shutdown", "unmount of " + leaf->path + " failed with errno " +
                                         std::to_string(s.err()) + "; forcing it");
      VN_TRY(unmount_mount(*leaf, true));
    }
  }
  if (rootvnode_ != nullptr) {
    vn::Vnode* root = rootvnode_;
    rootvnode_ = nullptr;
    vrele(*root);
  }
  vn::mount_state_change(*root_mount_, vn::MountState::mounted, vn::MountState::unmounting);
  VN_TRY(vcache_.flush(*root_mount_, false));
  if (Status s = root_mount_->fs().unmount(false); !s.ok()) {
    machine_.event("vfs_shutdown",
                   "unmount of / failed with errno " + std::to_string(s.err()) + "; forcing it");
    VN_TRY(root_mount_->fs().unmount(true));
  }
  vn::mount_state_change(*root_mount_, vn::MountState::unmounting, vn::MountState::gone);
  shut_down_ = true;
  return vn::kOk;
}

}  // namespace vfsim::vfs
