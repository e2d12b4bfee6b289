// A page-cache object (uvm_object): the resident pages of one file keyed by
// offset, the swap slots of an anonymous object, and the write-back error kept
// for the next fsync/close. A vnode-backed object reaches its backing store
// through PagerOps (the vnode layer implements it with VOP_GETPAGES /
// VOP_PUTPAGES); an anonymous object (memfs) is backed by the swap area.
// Objects are created and destroyed through the Pager, which owns them; all
// their fields are guarded by the pager lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "pager/types.h"
#include "sim/sync.h"

namespace vfsim::pager {

class PageObject;

// The backing store of a vnode-backed object. Called without the pager lock,
// with the pages concerned busy; each call is a scheduling point (a page-in
// or page-out may block on anything: a disk, a puffs server, memory).
class PagerOps {
 public:
  virtual ~PagerOps() = default;
  // Fills `dst` (whole pages from page-aligned `offset`) with the object's
  // bytes; bytes past the end of the file read as zeros. Returns an errno.
  [[nodiscard]] virtual Status getpages(PageObject& obj, std::uint64_t offset,
                                        std::span<std::byte> dst) = 0;
  // Writes `src` (whole pages) back at `offset`; bytes past the end of the
  // file are not written. ENOMEM/EAGAIN mean "try again later"; any other
  // error is a write-back error (see PagerConfig::writeback_errors_kept).
  [[nodiscard]] virtual Status putpages(PageObject& obj, std::uint64_t offset,
                                        std::span<const std::byte> src) = 0;
};

class PageObject {
 public:
  const std::string& name() const { return name_; }
  std::uint64_t id() const { return id_; }
  bool anonymous() const { return ops_ == nullptr; }
  // The backing store (null: anonymous).
  const PagerOps* ops() const { return ops_; }
  std::size_t resident_pages() const { return pages_.size(); }
  std::size_t dirty_pages() const { return dirty_; }
  std::size_t swapped_slots() const { return swap_slots_.size(); }
  // Pages that hold data: resident, in swap, or both (counted once).
  std::size_t data_pages() const;
  // The write-back error waiting for the next fsync/close (0 = none).
  Status pending_error() const { return wb_error_; }
  // For the backend: an opaque cookie (the vnode) it set at creation.
  void* cookie() const { return cookie_; }

  PageObject(const PageObject&) = delete;
  PageObject& operator=(const PageObject&) = delete;

 private:
  friend class Pager;
  friend class ObjectHold;
  PageObject(sim::Machine& m, std::uint64_t id, std::string name, PagerOps* ops, void* cookie)
      : name_(std::move(name)),
        id_(id),
        ops_(ops),
        cookie_(cookie),
        busy_chan_(std::make_unique<sim::WaitChannel>(m, "busy pages of " + name_)) {}

  std::string name_;
  std::uint64_t id_;
  PagerOps* ops_;  // null: anonymous, backed by swap
  void* cookie_;
  std::map<std::uint64_t, std::uint32_t> pages_;       // [lock] offset -> frame
  std::map<std::uint64_t, std::uint32_t> swap_slots_;  // [lock] offset -> slot (anonymous)
  std::size_t dirty_ = 0;                              // [lock] pages in state dirty
  Status wb_error_;        // [lock] first write-back error since the last fsync/close
  std::size_t holds_ = 0;  // [lock] reads, writes, flushes under way; destroy waits for 0
  bool dying_ = false;     // [lock] destroy_object has begun
  // Sleepers for a busy page or for the holds to drain; no declared waker
  // (whoever un-busies a page wakes it).
  std::unique_ptr<sim::WaitChannel> busy_chan_;
};

}  // namespace vfsim::pager
