// Vnodes, mounts, vnode locks and the names of the vnode vocabulary.
#include "vnode/vnode.h"

#include <algorithm>
#include <charconv>

namespace vfsim::vn {

const char* vtype_name(VType t) {
  switch (t) {
    case VType::VNON: return "VNON";
    case VType::VREG: return "VREG";
    case VType::VDIR: return "VDIR";
    case VType::VLNK: return "VLNK";
    case VType::VFIFO: return "VFIFO";
    case VType::VCHR: return "VCHR";
    case VType::VBLK: return "VBLK";
    case VType::VSOCK: return "VSOCK";
  }
  return "?";
}

const char* vstate_name(VState s) {
  switch (s) {
    case VState::loading: return "loading";
    case VState::active: return "active";
    case VState::inactive: return "inactive";
    case VState::cached: return "cached";
    case VState::reclaiming: return "reclaiming";
    case VState::reclaimed: return "reclaimed";
  }
  return "?";
}

const char* mount_state_name(MountState s) {
  switch (s) {
    case MountState::mounted: return "mounted";
    case MountState::unmounting: return "unmounting";
    case MountState::dead: return "dead";
    case MountState::gone: return "gone";
  }
  return "?";
}

void mount_state_change(Mount& mp, MountState from, MountState to) {
  using S = MountState;
  const auto what = [&] {
    return "mount " + mp.path + " (" + std::to_string(mp.id()) + "): " + mount_state_name(from) +
           " -> " + mount_state_name(to) + ", state " + mount_state_name(mp.state_);
  };
  VFSIM_KASSERT(mp.machine(), mp.state_ == from, what());
  const bool edge =
      (from == S::mounted && to == S::unmounting) ||
      (from == S::unmounting && (to == S::mounted || to == S::dead || to == S::gone)) ||
      (from == S::dead && to == S::gone);
  VFSIM_KASSERT(mp.machine(), edge, "not an edge: " + what());
  VFSIM_KASSERT(mp.machine(),
                from == S::dead || mp.covered == nullptr || vn_locked_exclusive(*mp.covered),
                "covered vnode not locked: " + what());
  VFSIM_KASSERT(mp.machine(), to != S::gone || mp.nvnodes == 0, "vnodes left: " + what());
  mp.state_ = to;
}

bool Cred::groupmember(Gid g) const {
  return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
}

Mount::Mount(sim::Machine& m, std::uint32_t id, std::unique_ptr<FileSystem> fs)
    : rename_lock(m, "mount" + std::to_string(id) + ".rename"),
      machine_(m),
      id_(id),
      fs_(std::move(fs)) {}

Mount::~Mount() = default;

namespace {

// "vnode m<mount>:<key>", the lock's name in wait-for reports; made with
// to_chars because a vnode is made on every create.
std::string lock_name(std::uint32_t mount_id, std::uint64_t key) {
  char buf[48] = "vnode m";
  char* p = buf + 7;
  p = std::to_chars(p, buf + sizeof buf, mount_id).ptr;
  *p++ = ':';
  p = std::to_chars(p, buf + sizeof buf, key).ptr;
  return std::string(buf, p);
}

}  // namespace

Vnode::Vnode(sim::Machine& m, Vcache& vc, Mount& mp, std::uint64_t key, std::uint64_t serial)
    : lock(m, lock_name(mp.id(), key)), vcache_(&vc), mount_(&mp), key_(key), serial_(serial) {}

bool Vnode::is_root() const { return mount_->fs().root_key() == key_; }

std::string Vnode::describe() const {
  return "m" + std::to_string(mount_->id()) + ":" + std::to_string(key_) + " (" + vtype_name(type) +
         ", " + vstate_name(state) + ", use " + std::to_string(usecount) + ", hold " +
         std::to_string(holdcount) + ")";
}

void vn_lock(Vnode& vp, bool exclusive) {
  VFSIM_KASSERT(vp.machine(),
                vp.usecount > 0 || vp.state == VState::inactive || vp.state == VState::reclaiming,
                "locking unreferenced " + vp.describe());
  if (exclusive) {
    vp.lock.lock_exclusive();
  } else {
    vp.lock.lock_shared();
  }
}

void vn_unlock(Vnode& vp) {
  VFSIM_KASSERT(vp.machine(), vp.lock.held_by_me(), "unlocking unheld " + vp.describe());
  vp.lock.unlock();
}

Status vaccess(VType type, std::uint32_t mode, Uid uid, Gid gid, int acc, const Cred& cred) {
  if (cred.is_root()) {
    if ((acc & kAccExec) == 0 || type == VType::VDIR || (mode & 0111) != 0) return kOk;
    return Status(EACCES);
  }
  std::uint32_t granted;
  if (cred.uid == uid) {
    granted = (mode >> 6) & 7;
  } else if (cred.groupmember(gid)) {
    granted = (mode >> 3) & 7;
  } else {
    granted = mode & 7;
  }
  return (static_cast<std::uint32_t>(acc) & ~granted) == 0 ? kOk : Status(EACCES);
}

}  // namespace vfsim::vn
