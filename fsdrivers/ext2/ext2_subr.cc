// ext2 driver helpers: the volume-call guard's failure path, the clock, and
// conversions between the core's vocabulary and the VOP's.
#include <sys/sysmacros.h>

#include "fsdrivers/ext2/ext2_node.h"

namespace vfsim::ext2drv {

void Ext2Mount::core_bug(const std::string& what) {
  machine_.panic(std::string("ext2 core invariant: ") + what);
}

ext2::Time time_of(sim::VTime t) {
  return ext2::Time(static_cast<std::int64_t>(t / sim::kSecond),
                    static_cast<std::uint32_t>(t % sim::kSecond));
}

// The VFS's times are unsigned nanoseconds since 1970: a time before 1970
// (a negative 32-bit field as Linux reads it) shows as 1970.
sim::VTime vtime_of(const ext2::Time& t) {
  if (t.sec < 0) return 0;
  return static_cast<sim::VTime>(t.sec) * sim::kSecond + t.nsec;
}

ext2::Time Ext2Mount::now_time() const { return time_of(machine_.now()); }

std::uint32_t Ext2Mount::ino_of(const vn::Vnode& vp) const {
  VFSIM_KASSERT(machine_, vp.data != nullptr, "ext2 vnode without node: " + vp.describe());
  return static_cast<const Ext2Node*>(vp.data)->ino;
}

pager::PageObject* Ext2Mount::obj_of(const vn::Vnode& vp) const {
  VFSIM_KASSERT(machine_, vp.data != nullptr, "ext2 vnode without node: " + vp.describe());
  return static_cast<const Ext2Node*>(vp.data)->obj;
}

vn::VType vtype_of(ext2::FileType t) {
  switch (t) {
    case ext2::FileType::Regular: return vn::VType::VREG;
    case ext2::FileType::Directory: return vn::VType::VDIR;
    case ext2::FileType::CharDev: return vn::VType::VCHR;
    case ext2::FileType::BlockDev: return vn::VType::VBLK;
    case ext2::FileType::Fifo: return vn::VType::VFIFO;
    case ext2::FileType::Socket: return vn::VType::VSOCK;
    case ext2::FileType::Symlink: return vn::VType::VLNK;
    case ext2::FileType::Unknown: break;
  }
  return vn::VType::VNON;
}

void fill_vattr(const ext2::Attr& a, std::uint32_t fsid, std::uint32_t block_size, vn::Vattr* va) {
  va->type = vtype_of(a.type);
  va->mode = a.mode & vn::kModeMask;
  va->nlink = a.nlink;
  va->uid = a.uid;
  va->gid = a.gid;
  va->fsid = fsid;
  va->fileid = a.ino;
  va->size = a.size;
  va->bytes = a.blocks512 * 512;
  va->blocksize = block_size;
  va->rdev = rdev_from_disk(a.rdev);
  va->atime = vtime_of(a.atime);
  va->mtime = vtime_of(a.mtime);
  va->ctime = vtime_of(a.ctime);
  va->birthtime = vtime_of(a.crtime);
  va->gen = a.generation;
}

// Linux's encoding (old_encode_dev / new_encode_dev): the old 16-bit form
// when major and minor fit a byte each, else the 32-bit form, which is never
// below 0x10000 — which is how the core knows where to store it.
std::uint32_t rdev_to_disk(std::uint64_t dev) {
  const std::uint32_t maj = major(static_cast<dev_t>(dev));
  const std::uint32_t min = minor(static_cast<dev_t>(dev));
  if (maj < 256 && min < 256) return (maj << 8) | min;
  return (min & 0xffu) | ((maj & 0xfffu) << 8) | ((min & ~0xffu) << 12);
}

std::uint64_t rdev_from_disk(std::uint32_t disk) {
  if (disk < 0x10000) return makedev((disk >> 8) & 0xffu, disk & 0xffu);
  const std::uint32_t maj = (disk & 0xfff00u) >> 8;
  const std::uint32_t min = (disk & 0xffu) | ((disk >> 12) & 0xfff00u);
  return makedev(maj, min);
}

}  // namespace vfsim::ext2drv
