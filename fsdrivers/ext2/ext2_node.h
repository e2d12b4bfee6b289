// ext2 driver internals: the BlockIo adapter over the machine's disk, the
// per-vnode node, the mount (vfsops) and the vnode ops.
//
// Locking. The core library is not re-entrant, and every disk request is a
// scheduling point, so one lwp's volume operation could otherwise interleave
// with another's. Ext2Mount::vol_lock_ serialises every call into the Volume
// [V]. It is a leaf lock: taken inside VOPs, after the vnode locks the VOP
// contract gives (vnode.h lock order (2)/(3)), and never held while calling
// the vcache (lookup and create drop it before vcache.get, whose loadvnode
// takes it again), so it cannot take part in a cycle.
//
//   [i] immutable after mount / after loadvnode
//   [V] Ext2Mount::vol_lock_
//   [v] the vnode lock
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "fsdrivers/ext2/block_io.h"
#include "fsdrivers/ext2/ext2.h"
#include "fsdrivers/ext2/volume.h"
#include "pager/pager.h"
#include "sim/sync.h"
#include "vnode/vcache.h"

namespace vfsim::ext2drv {

// The core's storage interface over a sim BlockDevice: every request is a
// scheduling point of the machine and may fail by fault injection.
class DiskBlockIo final : public ext2::BlockIo {
 public:
  explicit DiskBlockIo(sim::BlockDevice& disk) : disk_(disk) {}
  sim::Status read(std::uint64_t off, std::span<std::byte> buf) override {
    return disk_.read(off, buf);
  }
  sim::Status write(std::uint64_t off, std::span<const std::byte> buf) override {
    return disk_.write(off, buf);
  }
  std::uint64_t size_bytes() const override { return disk_.size_bytes(); }

 private:
  sim::BlockDevice& disk_;
};

// What a vnode of this file system carries in Vnode::data.
struct Ext2Node {
  std::uint32_t ino = 0;  // [i]
  // [i] a regular file's page-cache object when the kernel has a pager
  // (vnode_object(): paged through VOP_GETPAGES / VOP_PUTPAGES); destroyed
  // in reclaim.
  pager::PageObject* obj = nullptr;
};

class Ext2Mount;

class Ext2Ops final : public vn::VnodeOps {
 public:
  explicit Ext2Ops(Ext2Mount& fs) : fs_(fs) {}
  // Every VOP of vnode/vop_list.h.
  VFSIM_VOP_OVERRIDES

 private:
  // Runs `make` (a Volume call that creates a node under `dvp`) and returns
  // the new node's referenced vnode.
  template <class Make>
  vn::Status make_node(vn::Vnode& dvp, Make&& make, vn::Vnode** vpp);
  // The referenced vnode of `ino`.
  vn::Status get_vnode(std::uint32_t ino, vn::Vnode** vpp);
  // write() through the page cache (ext2_data.cc).
  vn::Status write_cached(vn::Vnode& vp, pager::PageObject& obj, std::uint64_t offset,
                          std::span<const std::byte> bytes, std::size_t* written);
  Ext2Mount& fs_;
};

class Ext2Mount final : public vn::FileSystem {
 public:
  Ext2Mount(sim::Machine& m, std::unique_ptr<sim::BlockDevice> disk,
            std::unique_ptr<sim::FaultyDisk> faulty, pager::Pager* pager);
  ~Ext2Mount() override;
  // Mounts the volume on the disk; an errno with *reason when refused.
  [[nodiscard]] vn::Status mount_volume(const Ext2Options& o, std::string* reason);

  std::string_view type_name() const override { return "ext2"; }
  std::uint64_t root_key() const override { return ext2::Volume::root(); }
  vn::Status loadvnode(vn::Vnode& vp, std::uint64_t key) override;
  vn::Status statvfs(vn::StatVfs* out) override;
  vn::Status sync() override;
  vn::Status unmount(bool force) override;

  // --- for the ops (ext2_subr.cc) ----------------------------------------
  sim::Machine& machine() const { return machine_; }
  // The volume clock: the machine's virtual time (the volume stores it to
  // the nanosecond or the second, as its inodes allow).
  ext2::Time now_time() const;
  std::uint32_t ino_of(const vn::Vnode& vp) const;
  // The regular file's page-cache object; null without a pager.
  pager::PageObject* obj_of(const vn::Vnode& vp) const;
  pager::Pager* pager() const { return pager_; }
  // Runs fn(Volume&) under the volume lock [V]. An internal assertion of the
  // core (a bug, not bad input) ends the run as a panic.
  template <class Fn>
  auto call(Fn&& fn) -> decltype(fn(std::declval<ext2::Volume&>()));
  Ext2Stats stats() const;
  std::uint32_t block_size() const { return block_size_; }

 private:
  // A failed VFSIM_ASSERT in the core (which has no Machine) becomes this
  // machine's panic here, before vol_lock_ is released: the run is marked as
  // ending first, so no other lwp runs on a volume whose invariant broke.
  [[noreturn]] void core_bug(const std::string& what);
  // Flushes the disk (through the fault wrapper, if any).
  [[nodiscard]] vn::Status io_flush();
  sim::Machine& machine_;
  std::unique_ptr<sim::BlockDevice> disk_;   // [i]
  std::unique_ptr<sim::FaultyDisk> faulty_;  // [i] wraps disk_, or null
  DiskBlockIo io_;                           // [i] over faulty_ or disk_
  std::unique_ptr<ext2::Volume> volume_;     // [V]
  pager::Pager* pager_;                      // [i] null: file data bypasses the page cache
  sim::Mutex vol_lock_;
  Ext2Ops ops_;
  std::uint64_t volume_calls_ = 0;  // [V]
  std::uint32_t block_size_ = 0;    // [i]
};

template <class Fn>
auto Ext2Mount::call(Fn&& fn) -> decltype(fn(std::declval<ext2::Volume&>())) {
  sim::MutexGuard guard(vol_lock_);
  VFSIM_KASSERT(machine_, volume_ != nullptr, "ext2 call on an unmounted volume");
  ++volume_calls_;
  try {
    return fn(*volume_);
  } catch (const sim::PanicError& p) {
    core_bug(p.message);
  }
}

// --- conversions (ext2_subr.cc) --------------------------------------------
// The core and the vnode layer share one errno type (sim/errno.h): this is
// the identity, kept so that call sites read as a crossing of the boundary.
inline vn::Status to_vn(ext2::Status s) { return s; }
vn::VType vtype_of(ext2::FileType t);
// Vattr from the core's attributes; times from seconds to virtual ns.
void fill_vattr(const ext2::Attr& a, std::uint32_t fsid, std::uint32_t block_size, vn::Vattr* va);
// Device numbers: the VFS's dev_t (host makedev) and the Linux on-disk form.
std::uint32_t rdev_to_disk(std::uint64_t dev);
std::uint64_t rdev_from_disk(std::uint32_t disk);
ext2::Time time_of(sim::VTime t);
sim::VTime vtime_of(const ext2::Time& t);

}  // namespace vfsim::ext2drv
