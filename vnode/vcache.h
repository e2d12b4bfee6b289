// The vnode cache: every vnode of every mount of one machine, keyed by
// (mount id, file-system key), with the life cycle below. Modelled on NetBSD
// sys/kern/vfs_vnode.c.
//
//                    get() miss
//                        │
//                        ▼            loadvnode failed
//                   ┌─────────┐ ─────────────────────────────┐
//                   │ LOADING │                               │
//                   └────┬────┘                               │
//                        │ loadvnode ok                       │
//                        ▼                                    │
//   get() on CACHED ┌─────────┐  last vrele()                 │
//   ───────────────►│ ACTIVE  │──────────────┐                │
//   │               └────┬────┘              ▼                │
//   │                    │ flush(force) ┌──────────┐          │
//   │                    │              │ INACTIVE │ (VOP_INACTIVE)
//   │                    │              └──┬────┬──┘          │
//   │                    │    keep         │    │ recycle /   │
//   │      ┌────────┐◄───────────────────────┘    │ unmounting  │
//   └──────│ CACHED │    │                      │             │
//          └───┬────┘    │                      │             │
//              │ recycle above desiredvnodes,   │             │
//              │ flush (unmount)                │             │
//              ▼         ▼                      ▼             │
//          ┌────────────────────────────────────────┐         │
//          │ RECLAIMING (VOP_RECLAIM)                │         │
//          └───────────────────┬────────────────────┘         │
//                              ▼                              ▼
//                        ┌───────────┐  use == hold == 0  ┌────────┐
//                        │ RECLAIMED │ ─────────────────► │ freed  │
//                        └───────────┘                    └────────┘
//
// Every transition goes through state_change(vp, from, to), which asserts
// `from` and that the pair is an edge of this diagram.
//
// A forced flush (NetBSD's vgone, as revoke(2) and a forced unmount use it)
// takes the ACTIVE → RECLAIMING edge with use references still out: VOP_RECLAIM
// runs at once under the vnode lock (so it waits for the lwps that hold the
// lock), the ops become dead_vnode_ops(), and the vnode stays allocated as
// long as it is referenced. A vrele() of such a vnode, while it is RECLAIMING
// or RECLAIMED, only drops the count: no VOP_INACTIVE, and the last one frees
// it (or reclaim() does, if the last one went while it slept). A forced flush
// never takes over a transition another lwp owns: it waits for LOADING and
// INACTIVE vnodes to leave that state (the inactivating lwp then caches or
// reclaims the vnode itself) and looks again.
//
// Lists: LOADING and ACTIVE vnodes are on the active list, CACHED ones on the
// free list (least recently used first); INACTIVE, RECLAIMING and RECLAIMED
// vnodes are on none. The hash holds every vnode that is not RECLAIMED.
//
// The vcache interlock: all of the above ([c] in vnode.h) changes only in
// stretches of code with no scheduling point, which is what the kernel's
// vcache_lock and v_interlock give it. Code that must sleep (loadvnode,
// VOP_INACTIVE, VOP_RECLAIM, waiting for a state change) first moves the
// vnode into a state that makes everyone else wait (LOADING, INACTIVE,
// RECLAIMING), so the interlock is never held across a sleep. A get() that
// finds such a vnode holds it, sleeps until the state changes, and looks it
// up again: it never returns a vnode that is not ACTIVE.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/sync.h"
#include "vnode/vnode.h"

namespace vfsim::vn {

struct VcacheStats {
  std::uint64_t loads = 0;     // vnodes loaded from a file system
  std::uint64_t hits = 0;      // get() answered from the cache
  std::uint64_t waits = 0;     // get() slept for a transient state
  std::uint64_t reclaims = 0;  // VOP_RECLAIM calls
  std::uint64_t recycles = 0;  // reclaims to stay under desiredvnodes
};

class Vcache {
 public:
  // Registers the invariant checker with the machine; the Vcache must live
  // until Machine::run() returned.
  Vcache(sim::Machine& m, std::size_t desiredvnodes);
  ~Vcache();
  Vcache(const Vcache&) = delete;
  Vcache& operator=(const Vcache&) = delete;

  // The referenced, unlocked, ACTIVE vnode of (mp, key), loaded on a miss.
  [[nodiscard]] Result<Vnode*> get(Mount& mp, std::uint64_t key);
  // The same for a vnode the cache has (ACTIVE or CACHED, or one that
  // becomes so after a transient state), ENOENT on a miss: nothing is
  // loaded. For a file system's server telling the kernel to drop what it
  // caches of a node (Linux's ilookup in the FUSE notifications).
  [[nodiscard]] Result<Vnode*> find(Mount& mp, std::uint64_t key);
  // Another use reference on a vnode the caller holds a use reference on.
  void vref(Vnode& vp);
  // Drops a use reference; the last one runs VOP_INACTIVE and caches or
  // reclaims the vnode. The vnode must not be locked by the caller.
  void vrele(Vnode& vp);
  // vn_unlock + vrele.
  void vput(Vnode& vp);
  // Hold references keep a vnode's memory, not its identity.
  void vhold(Vnode& vp);
  void holdrele(Vnode& vp);

  // Reclaims every vnode of `mp`. Without force, EBUSY (and nothing
  // reclaimed) if one is referenced; with force, referenced vnodes are
  // reclaimed at once too and stay behind as dead vnodes (dead_vnode_ops())
  // until their last vrele. May sleep: waits for every vnode of `mp` that
  // another lwp is loading, inactivating or reclaiming, and for the lock of
  // each vnode it reclaims, so the caller must hold no vnode lock of `mp`.
  // Vnodes loaded while it runs are reclaimed too; it returns when none is
  // left (a file system that keeps loading vnodes must refuse loads first).
  [[nodiscard]] Status flush(Mount& mp, bool force);

  // "" when every invariant holds, else the first violation.
  [[nodiscard]] std::string check_invariants() const;
  // Vnodes with use or hold references, one line each, in serial order.
  [[nodiscard]] std::vector<std::string> referenced() const;
  // Visits every vnode in serial order.
  void for_each(const std::function<void(const Vnode&)>& fn) const;

  std::size_t numvnodes() const { return all_.size; }
  std::size_t desiredvnodes() const { return desired_; }
  void set_desiredvnodes(std::size_t n) { desired_ = n; }
  const VcacheStats& stats() const { return stats_; }
  sim::Machine& machine() const { return machine_; }

 private:
  // An intrusive list through one of Vnode's Links members.
  struct VnodeList {
    Vnode* head = nullptr;
    Vnode* tail = nullptr;
    std::size_t size = 0;
  };
  static void list_append(VnodeList& l, Vnode::Links Vnode::*links, Vnode& vp);
  static void list_unlink(VnodeList& l, Vnode::Links Vnode::*links, Vnode& vp);

  void state_change(Vnode& vp, VState from, VState to);
  [[gnu::cold]] void bad_state_change(const Vnode& vp, VState from, VState to);
  void list_insert(Vnode& vp, VList l);
  void list_remove(Vnode& vp);
  // The new ACTIVE vnode, or nullptr when a forced flush took it before it
  // could be returned (then get() looks again), or the load's error.
  [[nodiscard]] Result<Vnode*> load(Mount& mp, std::uint64_t key);
  Result<Vnode*> get_or_find(Mount& mp, std::uint64_t key, bool load_on_miss);
  void wait_for_change(Vnode& vp);
  void inactivate(Vnode& vp);
  void reclaim(Vnode& vp);
  bool recycle_one();
  void trim();
  void maybe_free(Vnode& vp);
  std::string check_vnode(const Vnode& vp) const;
  bool in_hash(const Vnode& vp) const;

  // The hash of (mount id, key): chains through Vnode::hash_next in a
  // power-of-two array of buckets that doubles as it fills. Nothing walks
  // it in bucket order, so its layout never reaches a decision.
  Vnode* hash_find(std::uint32_t mount_id, std::uint64_t key) const;
  void hash_insert(Vnode& vp);
  bool hash_remove(Vnode& vp);
  std::size_t bucket_of(std::uint32_t mount_id, std::uint64_t key) const;

  sim::Machine& machine_;
  std::size_t desired_;
  std::uint64_t next_serial_ = 1;
  std::uint64_t next_lru_ = 1;
  VnodeList all_;  // every vnode, by serial (new ones go last); owns them
  std::vector<Vnode*> buckets_;
  unsigned bucket_bits_ = 0;
  std::size_t hashed_ = 0;
  // The active list needs no order (nothing walks it but the checker, which
  // walks all_), so it is only a count.
  std::size_t active_count_ = 0;
  VnodeList free_;                // least recently used first
  sim::WaitChannel statechange_;  // woken on every transient → stable change
  VcacheStats stats_;
};

}  // namespace vfsim::vn
