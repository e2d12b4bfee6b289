// Flushing a mount and the vcache's invariant checker: the parts of the
// vcache that walk every vnode.
#include <map>
#include <string>

#include "vnode/vcache.h"

namespace vfsim::vn {

namespace {

bool transient(VState s) {
  return s == VState::loading || s == VState::inactive || s == VState::reclaiming;
}

}  // namespace

// One vnode at a time, rescanning after every sleep: a vnode another lwp is
// moving (LOADING, INACTIVE, RECLAIMING) is waited for, never taken over, so
// each vnode is reclaimed exactly once and by the lwp that moved it to
// RECLAIMING. The pick and its move to RECLAIMING happen with no scheduling
// point between them. A forced reclaim of an ACTIVE vnode leaves its use
// references to their holders (see vcache.h).
Status Vcache::flush(Mount& mp, bool force) {
  for (;;) {
    Vnode* waiting = nullptr;
    Vnode* next = nullptr;
    bool busy = false;
    for (Vnode* vp = all_.head; vp != nullptr; vp = vp->all_links.next) {
      if (&vp->mount() != &mp || vp->state == VState::reclaimed) continue;
      if (transient(vp->state)) {
        waiting = vp;
        break;
      }
      if (vp->state == VState::active) busy = true;
      if (next == nullptr) next = vp;
    }
    if (waiting != nullptr) {
      wait_for_change(*waiting);  // let the transition finish, then rescan
      continue;
    }
    if (busy && !force) return Status(EBUSY);
    if (next == nullptr) break;
    const VState from = next->state;
    list_remove(*next);
    state_change(*next, from, VState::reclaiming);
    reclaim(*next);
  }
  for (const Vnode* vp = all_.head; vp != nullptr; vp = vp->all_links.next) {
    VFSIM_KASSERT(machine_, &vp->mount() != &mp || vp->state == VState::reclaimed,
                  "flush left " + vp->describe());
  }
  return kOk;
}

bool Vcache::in_hash(const Vnode& vp) const { return hash_find(vp.mount().id(), vp.key()) == &vp; }

std::string Vcache::check_vnode(const Vnode& vp) const {
  const bool hashed = in_hash(vp);
  auto bad = [&](const char* why) { return "vnode " + vp.describe() + ": " + why; };
  switch (vp.state) {
    case VState::loading:
      if (vp.usecount == 0 || vp.list != VList::active || !hashed) return bad("bad loading");
      break;
    case VState::active:
      if (vp.usecount == 0) return bad("active with usecount 0");
      if (vp.list != VList::active || !hashed) return bad("active but not listed/hashed");
      if (vp.type == VType::VNON || vp.op == nullptr) return bad("active without type/ops");
      break;
    case VState::inactive:
    case VState::reclaiming:
      if (vp.usecount != 0 && vp.state == VState::inactive) return bad("inactive but used");
      if (vp.list != VList::none || !hashed) return bad("transient vnode on a list");
      break;
    case VState::cached:
      if (vp.usecount != 0) return bad("cached with usecount");
      if (vp.list != VList::free || !hashed) return bad("cached but not on the free list");
      if (vp.lock.held()) return bad("cached vnode is locked");
      break;
    case VState::reclaimed:
      if (vp.list != VList::none || hashed) return bad("reclaimed but listed/hashed");
      if (vp.data != nullptr) return bad("reclaimed with fs data");
      break;
  }
  return "";
}

std::string Vcache::check_invariants() const {
  std::size_t on_active = 0, on_free = 0, unreclaimed = 0;
  std::map<std::uint32_t, std::pair<const Mount*, std::uint64_t>> per_mount;  // by id
  std::uint64_t last_serial = 0;
  std::size_t listed = 0;
  for (const Vnode* vp = all_.head; vp != nullptr; vp = vp->all_links.next) {
    if (vp->serial() <= last_serial) return "vnode list out of serial order";
    last_serial = vp->serial();
    ++listed;
    std::string err = check_vnode(*vp);
    if (!err.empty()) return err;
    on_active += vp->list == VList::active;
    on_free += vp->list == VList::free;
    unreclaimed += vp->state != VState::reclaimed;
    auto& slot = per_mount[vp->mount().id()];
    slot.first = &vp->mount();
    ++slot.second;
  }
  if (on_active != active_count_) return "active list size differs from vnodes on it";
  if (listed != all_.size) return "vnode list size differs from its count";
  if (on_free != free_.size) return "free list size differs from vnodes on it";
  if (unreclaimed != hashed_) return "hash size differs from unreclaimed vnodes";
  std::uint64_t last_lru = 0;
  std::size_t free_listed = 0;
  for (const Vnode* vp = free_.head; vp != nullptr; vp = vp->free_links.next) {
    if (vp->list != VList::free || vp->lru_seq <= last_lru) return "free list entry mismatch";
    last_lru = vp->lru_seq;
    ++free_listed;
  }
  if (free_listed != free_.size) return "free list length differs from its count";
  for (const auto& [id, entry] : per_mount) {
    const auto& [mp, n] = entry;
    if (mp->nvnodes != n) return "mount vnode count mismatch on " + mp->path;
  }
  return "";
}

std::vector<std::string> Vcache::referenced() const {
  std::vector<std::string> out;
  for (const Vnode* vp = all_.head; vp != nullptr; vp = vp->all_links.next) {
    if (vp->usecount != 0 || vp->holdcount != 0) out.push_back(vp->describe());
  }
  return out;
}

void Vcache::for_each(const std::function<void(const Vnode&)>& fn) const {
  for (const Vnode* vp = all_.head; vp != nullptr; vp = vp->all_links.next) fn(*vp);
}

}  // namespace vfsim::vn
