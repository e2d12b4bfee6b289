// memfs internals: the node, the mount (vfsops) and the vnode ops classes.
// Every node field is protected by the lock of the node's vnode [v]; the
// node table and the counters by the vnode lock of the directory whose entry
// creates or removes a node (creation and removal always hold it
// exclusively), which is why none of them needs a lock of its own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "fsdrivers/memfs/file_data.h"
#include "fsdrivers/memfs/memfs.h"
#include "fsdrivers/memfs/node_pool.h"
#include "fsdrivers/memfs/pager_data.h"
#include "vnode/vcache.h"

namespace vfsim::memfs {

// A directory's entries, name -> ino, in name order (readdir's order).
using DirEntries = std::map<std::string, std::uint64_t, std::less<>>;

struct MemNode {
  std::uint64_t ino = 0;
  vn::VType type = vn::VType::VNON;
  std::uint32_t mode = 0;
  std::uint32_t nlink = 0;
  vn::Uid uid = 0;
  vn::Gid gid = 0;
  sim::VTime atime = 0, mtime = 0, ctime = 0, birthtime = 0;
  std::uint64_t rdev = 0;
  std::uint64_t gen = 0;
  bool has_vnode = false;  // a vnode is attached (freed on reclaim when nlink 0)

  DirEntries entries;              // VDIR: name -> ino
  std::uint64_t parent = 0;        // VDIR: ino of ".."
  std::string target;              // VLNK
  std::unique_ptr<FileData> data;  // VREG
  std::map<std::pair<vn::XattrNs, std::string>, std::string, std::less<>> xattrs;

  std::uint64_t size() const;
};

class MemfsMount;

class MemfsOps final : public vn::VnodeOps {
 public:
  explicit MemfsOps(MemfsMount& fs) : fs_(fs) {}
  // Every VOP of vnode/vop_list.h.
  VFSIM_VOP_OVERRIDES

 private:
  vn::Status make_node(vn::Vnode& dvp, const vn::ComponentName& cn, const vn::Vattr& va,
                       std::string_view target, vn::Vnode** vpp);
  MemfsMount& fs_;
};

class MemfsMount final : public vn::FileSystem {
 public:
  MemfsMount(sim::Machine& m, const MemfsOptions& o);
  std::string_view type_name() const override { return "memfs"; }
  std::uint64_t root_key() const override { return kRootIno; }
  vn::Status loadvnode(vn::Vnode& vp, std::uint64_t key) override;
  vn::Status statvfs(vn::StatVfs* out) override;
  vn::Status unmount(bool force) override;

  // --- node bookkeeping (memfs_subr.cc) ---------------------------------
  sim::Machine& machine() const { return machine_; }
  sim::VTime now() const { return machine_.now(); }
  // Inline, with the assertion's panic out of line: every op starts here,
  // dozens of times per syscall.
  MemNode& node_of(const vn::Vnode& vp) const {
    if (vp.data == nullptr) [[unlikely]]
      panic_no_node(vp);
    return *static_cast<MemNode*>(vp.data);
  }
  MemNode* find(std::uint64_t ino);
  // A new node with nlink 0, or ENOSPC at the inode limit.
  [[nodiscard]] vn::Result<MemNode*> alloc_node(vn::VType type, const vn::Vattr& va);
  void free_node(MemNode& n);
  // Changes a regular file's size, charging or refunding pages; ENOSPC.
  [[nodiscard]] vn::Status resize(MemNode& n, std::uint64_t new_size);
  [[nodiscard]] vn::Status charge_write(MemNode& n, std::uint64_t offset, std::size_t len);
  const BackingBlocks* backing() const { return backing_.get(); }
  BackingBlocks* backing_store() { return backing_.get(); }
  void dir_add(MemNode& dir, std::string_view name, MemNode& child);
  void dir_remove(MemNode& dir, std::string_view name);
  // Raw entry changes, without nlink or times (rename does those itself).
  // Map nodes are recycled through entry_pool_, so a rename or a create
  // after a remove allocates nothing. insert_entry leaves an existing name
  // alone and answers false.
  bool insert_entry(MemNode& dir, std::string_view name, std::uint64_t ino);
  void erase_entry(MemNode& dir, DirEntries::iterator it);
  std::size_t node_count() const { return nodes_.size(); }
  std::uint64_t pages_used() const { return pages_used_; }

 private:
  void panic_no_node(const vn::Vnode& vp) const;  // node_of's KASSERT
  using NodeTable = std::map<std::uint64_t, MemNode>;
  // How many spare map nodes each pool keeps: enough for a create/remove
  // churn to allocate nothing, little enough (about 300 KiB, mostly pages)
  // that a mass removal leaves almost nothing behind.
  static constexpr std::size_t kSpareNodesMax = 64;

  static std::uint64_t pages_for(std::uint64_t bytes) {
    return (bytes + kPageBytes - 1) / kPageBytes;
  }
  sim::Machine& machine_;
  MemfsOptions options_;
  MemfsOps ops_;
  std::unique_ptr<BackingBlocks> backing_;  // block-backed mounts only
  // Spare map nodes (node_pool.h). Declared before nodes_, whose page
  // stores give their pages back to page_pool_ when they go. Ops on files
  // under different vnode locks share these pools; that needs no lock of
  // its own because lwps switch only at scheduling points and no take or
  // give (nor the map update around it) contains one.
  PageStore::PagePool page_pool_{kSpareNodesMax};
  NodePool<DirEntries> entry_pool_{kSpareNodesMax};
  NodePool<NodeTable> node_pool_{kSpareNodesMax};
  NodeTable nodes_;  // by ino; a MemNode never moves while in the table
  std::uint64_t next_ino_ = kRootIno;
  std::uint64_t pages_used_ = 0;
};

}  // namespace vfsim::memfs
