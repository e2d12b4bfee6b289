// The vnode cache and life cycle; the state diagram is in vcache.h.
#include "vnode/vcache.h"

#include <string>

namespace vfsim::vn {

namespace {

// The edges of the diagram in vcache.h, as a bit mask of target states per
// source state (state_change checks one on every transition).
constexpr std::uint8_t bit(VState s) {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(s));
}
constexpr std::uint8_t kEdges[] = {
    /* loading    */ static_cast<std::uint8_t>(bit(VState::active) | bit(VState::reclaimed)),
    /* active     */ static_cast<std::uint8_t>(bit(VState::inactive) | bit(VState::reclaiming)),
    /* inactive   */ static_cast<std::uint8_t>(bit(VState::cached) | bit(VState::reclaiming)),
    /* cached     */ static_cast<std::uint8_t>(bit(VState::active) | bit(VState::reclaiming)),
    /* reclaiming */ bit(VState::reclaimed),
    /* reclaimed  */ 0,
};
static_assert(static_cast<int>(VState::reclaimed) == 5, "kEdges follows the order of VState");

bool valid_transition(VState from, VState to) {
  return (kEdges[static_cast<unsigned>(from)] & bit(to)) != 0;
}

// Yields to other lwps where a real kernel could be preempted or sleep.
void maybe_sched(sim::Machine& m, const sim::SchedTag& tag) {
  if (m.in_lwp()) m.sched_point(tag);
}

}  // namespace

Vcache::Vcache(sim::Machine& m, std::size_t desiredvnodes)
    : machine_(m), desired_(desiredvnodes), statechange_(m, "vcache.statechange") {
  machine_.add_invariant("vcache", [this] { return check_invariants(); });
}

Vcache::~Vcache() {
  for (Vnode* vp = all_.head; vp != nullptr;) {
    Vnode* next = vp->all_links.next;
    delete vp;
    vp = next;
  }
}

void Vcache::list_append(VnodeList& l, Vnode::Links Vnode::*links, Vnode& vp) {
  (vp.*links).prev = l.tail;
  (vp.*links).next = nullptr;
  if (l.tail != nullptr) (l.tail->*links).next = &vp;
  else l.head = &vp;
  l.tail = &vp;
  ++l.size;
}

void Vcache::list_unlink(VnodeList& l, Vnode::Links Vnode::*links, Vnode& vp) {
  Vnode::Links& me = vp.*links;
  if (me.prev != nullptr) (me.prev->*links).next = me.next;
  else l.head = me.next;
  if (me.next != nullptr) (me.next->*links).prev = me.prev;
  else l.tail = me.prev;
  me.prev = me.next = nullptr;
  --l.size;
}

std::size_t Vcache::bucket_of(std::uint32_t mount_id, std::uint64_t key) const {
  const std::uint64_t h =
      (key ^ (static_cast<std::uint64_t>(mount_id) << 48)) * 0x9e3779b97f4a7c15ULL;
  return static_cast<std::size_t>(h >> (64 - bucket_bits_));
}

Vnode* Vcache::hash_find(std::uint32_t mount_id, std::uint64_t key) const {
  if (buckets_.empty()) return nullptr;
  for (Vnode* vp = buckets_[bucket_of(mount_id, key)]; vp != nullptr; vp = vp->hash_next) {
    if (vp->key() == key && vp->mount().id() == mount_id) return vp;
  }
  return nullptr;
}

void Vcache::hash_insert(Vnode& vp) {
  if (hashed_ + 1 > buckets_.size()) {  // keep chains short: grow at load 1
    std::vector<Vnode*> old;
    old.swap(buckets_);
    bucket_bits_ = bucket_bits_ == 0 ? 6 : bucket_bits_ + 1;
    buckets_.assign(std::size_t{1} << bucket_bits_, nullptr);
    for (Vnode* head : old) {
      while (head != nullptr) {
        Vnode* next = head->hash_next;
        Vnode*& slot = buckets_[bucket_of(head->mount().id(), head->key())];
        head->hash_next = slot;
        slot = head;
        head = next;
      }
    }
  }
  Vnode*& slot = buckets_[bucket_of(vp.mount().id(), vp.key())];
  vp.hash_next = slot;
  slot = &vp;
  ++hashed_;
}

bool Vcache::hash_remove(Vnode& vp) {
  if (buckets_.empty()) return false;
  for (Vnode** link = &buckets_[bucket_of(vp.mount().id(), vp.key())]; *link != nullptr;
       link = &(*link)->hash_next) {
    if (*link == &vp) {
      *link = vp.hash_next;
      vp.hash_next = nullptr;
      --hashed_;
      return true;
    }
  }
  return false;
}

void Vcache::state_change(Vnode& vp, VState from, VState to) {
  if (vp.state != from || !valid_transition(from, to)) [[unlikely]] {
    bad_state_change(vp, from, to);
  }
  vp.state = to;
  if (machine_.trace().keeping()) [[unlikely]] {
    machine_.note("vnode", "m" + std::to_string(vp.mount().id()) + ":" + std::to_string(vp.key()) +
                               " " + vstate_name(from) + "->" + vstate_name(to));
  }
}

void Vcache::bad_state_change(const Vnode& vp, VState from, VState to) {
  VFSIM_KASSERT(machine_, vp.state == from,
                vp.describe() + " expected " + vstate_name(from) + " -> " + vstate_name(to));
  VFSIM_KASSERT(machine_, valid_transition(from, to),
                std::string("no edge ") + vstate_name(from) + " -> " + vstate_name(to));
}

void Vcache::list_insert(Vnode& vp, VList l) {
  VFSIM_KASSERT(machine_, vp.list == VList::none, vp.describe() + " already on a list");
  if (l == VList::active) {
    ++active_count_;
  } else if (l == VList::free) {
    vp.lru_seq = next_lru_++;
    list_append(free_, &Vnode::free_links, vp);
  }
  vp.list = l;
}

void Vcache::list_remove(Vnode& vp) {
  if (vp.list == VList::active) {
    VFSIM_KASSERT(machine_, active_count_ > 0, vp.describe());
    --active_count_;
  } else if (vp.list == VList::free) {
    VFSIM_KASSERT(machine_, free_.size > 0, vp.describe());
    list_unlink(free_, &Vnode::free_links, vp);
  }
  vp.list = VList::none;
}

Result<Vnode*> Vcache::get(Mount& mp, std::uint64_t key) { return get_or_find(mp, key, true); }

Result<Vnode*> Vcache::find(Mount& mp, std::uint64_t key) { return get_or_find(mp, key, false); }

Result<Vnode*> Vcache::get_or_find(Mount& mp, std::uint64_t key, bool load_on_miss) {
  for (;;) {
    Vnode* found = hash_find(mp.id(), key);
    if (found == nullptr) {
      if (!load_on_miss) return Status(ENOENT);
      // Over the limit: recycle first. That may sleep, so look again after.
      if (all_.size >= desired_ && recycle_one()) continue;
      Result<Vnode*> loaded = load(mp, key);
      if (loaded.ok() && *loaded == nullptr) continue;  // revoked as it loaded
      return loaded;
    }
    Vnode& vp = *found;
    switch (vp.state) {
      case VState::active:
        ++vp.usecount;
        ++stats_.hits;
        return &vp;
      case VState::cached:
        list_remove(vp);
        state_change(vp, VState::cached, VState::active);
        vp.usecount = 1;
        list_insert(vp, VList::active);
        ++stats_.hits;
        return &vp;
      case VState::loading:
      case VState::inactive:
      case VState::reclaiming:
        wait_for_change(vp);
        continue;  // look it up again: it may be gone now
      case VState::reclaimed: break;
    }
    machine_.panic("vcache: reclaimed vnode in the hash: " + vp.describe());
  }
}

void Vcache::wait_for_change(Vnode& vp) {
  ++stats_.waits;
  const VState seen = vp.state;
  ++vp.holdcount;  // keeps the memory while we sleep
  while (vp.state == seen) statechange_.sleep("vnode");
  --vp.holdcount;
  maybe_free(vp);
}

Result<Vnode*> Vcache::load(Mount& mp, std::uint64_t key) {
  const std::uint64_t serial = next_serial_++;
  Vnode& vp = *new Vnode(machine_, *this, mp, key, serial);
  list_append(all_, &Vnode::all_links, vp);  // serials grow: the list stays in order
  hash_insert(vp);
  ++mp.nvnodes;
  vp.usecount = 1;
  list_insert(vp, VList::active);
  ++stats_.loads;

  // The vnode is LOADING: anyone else asking for it waits until we are done.
  maybe_sched(machine_, "vcache.load");
  Status s = mp.fs().loadvnode(vp, key);
  if (!s.ok()) {
    list_remove(vp);
    hash_remove(vp);
    vp.usecount = 0;
    vp.op = &dead_vnode_ops();
    state_change(vp, VState::loading, VState::reclaimed);
    // Free (unless a waiter holds it) before the wakeup: the wakeup is a
    // scheduling point, after which a waiter may already have freed it.
    maybe_free(vp);
    statechange_.wakeup();
    return s;
  }
  VFSIM_KASSERT(machine_, vp.type != VType::VNON && vp.op != nullptr,
                "loadvnode left " + vp.describe() + " without type or ops");
  state_change(vp, VState::loading, VState::active);
  statechange_.wakeup();
  // A forced flush that waited for this load may have taken the vnode at the
  // wakeup's scheduling point. Never return it: let go and look again.
  if (vp.state != VState::active) [[unlikely]] {
    vrele(vp);
    return static_cast<Vnode*>(nullptr);
  }
  return &vp;
}

void Vcache::vref(Vnode& vp) {
  VFSIM_KASSERT(machine_, vp.usecount > 0, "vref of unreferenced " + vp.describe());
  ++vp.usecount;
}

void Vcache::vrele(Vnode& vp) {
  VFSIM_KASSERT(machine_, vp.usecount > 0, "vrele of unreferenced " + vp.describe());
  if (vp.usecount > 1) {
    --vp.usecount;
    return;
  }
  // A forced flush reclaimed this vnode, or is reclaiming it right now on
  // another lwp, while it was still referenced. No VOP_INACTIVE: the file
  // system is done with it. The last reference just goes; the memory goes
  // here once RECLAIMED, else at the end of reclaim().
  if (vp.state == VState::reclaimed || vp.state == VState::reclaiming) {
    vp.usecount = 0;
    maybe_free(vp);
    return;
  }
  VFSIM_KASSERT(machine_, vp.state == VState::active, "vrele of " + vp.describe());
  VFSIM_KASSERT(machine_, !machine_.in_lwp() || !vp.lock.held_by_me(),
                "vrele of the last reference to a vnode the caller holds locked");
  inactivate(vp);
  trim();
}

void Vcache::vput(Vnode& vp) {
  vn_unlock(vp);
  vrele(vp);
}

// The last reference went away: run VOP_INACTIVE, then cache or reclaim.
void Vcache::inactivate(Vnode& vp) {
  vp.usecount = 0;
  list_remove(vp);
  state_change(vp, VState::active, VState::inactive);

  vn_lock(vp, true);
  bool recycle = false;
  Status s = vp.op->inactive(vp, &recycle);
  VFSIM_KASSERT(machine_, s.ok(), "VOP_INACTIVE failed on " + vp.describe());
  vn_unlock(vp);

  if (recycle || vp.mount().state() != MountState::mounted) {
    state_change(vp, VState::inactive, VState::reclaiming);
    reclaim(vp);
  } else {
    state_change(vp, VState::inactive, VState::cached);
    list_insert(vp, VList::free);
    statechange_.wakeup();
  }
}

void Vcache::reclaim(Vnode& vp) {
  VFSIM_KASSERT(machine_, vp.state == VState::reclaiming && vp.list == VList::none, vp.describe());
  vn_lock(vp, true);
  maybe_sched(machine_, "vcache.reclaim");
  Status s = vp.op->reclaim(vp);
  VFSIM_KASSERT(machine_, s.ok(), "VOP_RECLAIM failed on " + vp.describe());
  VFSIM_KASSERT(machine_, vp.data == nullptr, "VOP_RECLAIM kept data of " + vp.describe());
  vp.op = &dead_vnode_ops();
  vn_unlock(vp);

  VFSIM_KASSERT(machine_, hash_remove(vp), vp.describe());
  ++stats_.reclaims;
  state_change(vp, VState::reclaiming, VState::reclaimed);
  maybe_free(vp);  // before the wakeup, as in load(): a waiter may free it after
  statechange_.wakeup();
}

// Reclaims the least recently used cached vnode that nobody holds.
bool Vcache::recycle_one() {
  for (Vnode* vp = free_.head; vp != nullptr; vp = vp->free_links.next) {
    if (vp->holdcount != 0) continue;
    Vnode& victim = *vp;
    list_remove(victim);
    state_change(victim, VState::cached, VState::reclaiming);
    ++stats_.recycles;
    reclaim(victim);
    return true;
  }
  return false;
}

void Vcache::trim() {
  while (all_.size > desired_ && recycle_one()) {}
}

void Vcache::maybe_free(Vnode& vp) {
  if (vp.state != VState::reclaimed || vp.usecount != 0 || vp.holdcount != 0) return;
  VFSIM_KASSERT(machine_, vp.list == VList::none && !vp.lock.held(), vp.describe());
  Mount& mp = vp.mount();
  VFSIM_KASSERT(machine_, mp.nvnodes > 0, vp.describe());
  --mp.nvnodes;
  list_unlink(all_, &Vnode::all_links, vp);
  delete &vp;
  if (mp.nvnodes == 0 && mp.state() == MountState::dead) {
    mount_state_change(mp, MountState::dead, MountState::gone);
  }
}

void Vcache::vhold(Vnode& vp) { ++vp.holdcount; }

void Vcache::holdrele(Vnode& vp) {
  VFSIM_KASSERT(machine_, vp.holdcount > 0, "holdrele of unheld " + vp.describe());
  --vp.holdcount;
  maybe_free(vp);
}

}  // namespace vfsim::vn
