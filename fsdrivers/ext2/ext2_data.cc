// ext2 file data: read, write, truncate (setattr), fsync, close and the page
// I/O the pager calls. This is the one place that decides how file bytes
// move. With a pager (Ext2Node::obj set), read / write / truncate go
// through the vnode's page-cache object, and the data reaches the disk as
// VOP_PUTPAGES from fsync, the syncer or the pagedaemon (VnodePager). A
// write allocates its blocks (and grows the size) first, through the volume,
// so the file system being full is still write(2)'s ENOSPC, never a lost
// page; a page put only fills blocks already mapped. Without a pager, bytes
// move directly between the VOP and the volume.
#include <algorithm>
#include <cstring>
#include <memory>

#include "fsdrivers/ext2/ext2_node.h"

namespace vfsim::ext2drv {

using ext2::Volume;
using vn::kOk;
using vn::Status;
using vn::Vnode;
using vn::VType;

namespace {

constexpr std::size_t kChunkBytes = std::size_t{64} * 1024;  // bounds each volume call's buffer

Status regular_only(const Vnode& vp) {
  if (vp.type == VType::VDIR) return Status(EISDIR);
  if (vp.type != VType::VREG) return Status(EINVAL);
  return kOk;
}

}  // namespace

// Reads in bounded chunks until `len` bytes or the end of file.
Status Ext2Ops::read(Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out, int) {
  VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  if (pager::PageObject* obj = fs_.obj_of(vp); obj != nullptr) {
    auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
    if (!a.ok()) return Status(a.err());
    if (offset >= a->size) return kOk;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(len, a->size - offset));
    const std::size_t old = out->size();
    out->resize(old + n);
    auto* bytes = reinterpret_cast<std::byte*>(out->data() + old);
    if (Status e = fs_.pager()->read(*obj, offset, std::span<std::byte>(bytes, n)); !e.ok()) {
      out->resize(old);
      return e;
    }
    return kOk;
  }
  // Not zeroed (the volume fills what it returns): a read of a small file
  // asked for in large chunks would otherwise clear the whole chunk.
  const auto storage = std::make_unique_for_overwrite<std::byte[]>(std::min(len, kChunkBytes));
  while (len > 0) {
    const std::span<std::byte> buf(storage.get(), std::min(len, kChunkBytes));
    auto n = fs_.call([&](Volume& v) { return v.read(ino, offset, buf); });
    if (!n.ok()) return Status(n.err());
    out->append(reinterpret_cast<const char*>(buf.data()), *n);
    if (*n < buf.size()) break;  // end of file
    offset += *n;
    len -= *n;
  }
  return kOk;
}

// The core stops at the first block it cannot allocate (ENOSPC) or write
// (EIO), or at the largest file the format holds, and answers the bytes it
// wrote before; only a write that stored nothing answers that errno (EFBIG
// when it starts at or past the largest size).
Status Ext2Ops::write(Vnode& vp, std::uint64_t* offset, std::string_view data, int ioflag,
                      std::size_t* written) {
  VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  if ((ioflag & vn::kIoAppend) != 0) {
    auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
    if (!a.ok()) return Status(a.err());
    *offset = a->size;
  }
  const auto bytes = std::as_bytes(std::span(data.data(), data.size()));
  if (pager::PageObject* obj = fs_.obj_of(vp); obj != nullptr) {
    VN_TRY(write_cached(vp, *obj, *offset, bytes, written));
  } else {
    auto n = fs_.call([&](Volume& v) { return v.write(ino, *offset, bytes, fs_.now_time()); });
    if (!n.ok()) return Status(n.err());
    *written = *n;
  }
  *offset += *written;
  const std::size_t* n = written;
  if ((ioflag & vn::kIoKillPriv) != 0 && *n != 0) {
    auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
    const std::uint32_t kill = a.ok() ? vn::kill_priv_bits(a->mode, ioflag) : 0;
    if (kill != 0) {
      ext2::SetAttr e;
      e.mode = static_cast<std::uint16_t>(a->mode & vn::kModeMask & ~kill);
      (void)fs_.call([&](Volume& v) { return v.setattr(ino, e, fs_.now_time()); });
    }
  }
  if ((ioflag & vn::kIoSync) != 0 && *n != 0) {
    // O_SYNC: what was written must be on disk before write(2) returns; if
    // it cannot be made so, the write reports the error, as Linux does.
    if (Status s = fsync(vp); !s.ok()) {
      *written = 0;
      return s;
    }
  }
  return kOk;
}

// Write-back: the volume maps the blocks and grows the size (so ENOSPC,
// EFBIG and the short count are the core's, as without a cache), then the
// bytes go into the page cache, dirty. A syscall's context: new pages may
// wait for the pagedaemon (KM_SLEEP). If the page cache took fewer bytes
// (ENOMEM from an injected fault), the size goes back to cover only what it
// holds.
Status Ext2Ops::write_cached(Vnode& vp, pager::PageObject& obj, std::uint64_t offset,
                             std::span<const std::byte> bytes, std::size_t* written) {
  const std::uint32_t ino = fs_.ino_of(vp);
  auto before = fs_.call([ino](Volume& v) { return v.getattr(ino); });
  if (!before.ok()) return Status(before.err());
  auto n =
      fs_.call([&](Volume& v) { return v.allocate(ino, offset, bytes.size(), fs_.now_time()); });
  if (!n.ok()) return Status(n.err());
  std::size_t done = 0;
  const Status e = fs_.pager()->write(obj, offset, bytes.first(*n), pager::KM_SLEEP, &done);
  if (done < *n) {
    const std::uint64_t keep = std::max<std::uint64_t>(before->size, offset + done);
    ext2::SetAttr sz;
    sz.size = keep;
    (void)fs_.call([&](Volume& v) { return v.setattr(ino, sz, fs_.now_time()); });
    if (done == 0) return e;
  }
  *written = done;
  return kOk;
}

// Sizes and times go to the core in one call; a size change of a
// non-regular file is refused before anything changes. The page cache drops
// (and zeros) what lies past a new size first, so no page put later writes
// stale bytes there.
Status Ext2Ops::setattr(Vnode& vp, const vn::SetAttr& sa, const vn::Cred&) {
  if (sa.size) VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  if (pager::PageObject* obj = fs_.obj_of(vp); obj != nullptr && sa.size) {
    VN_TRY(fs_.pager()->truncate(*obj, *sa.size));
  }
  ext2::SetAttr e;
  if (sa.mode) e.mode = static_cast<std::uint16_t>(*sa.mode & vn::kModeMask);
  e.uid = sa.uid;
  e.gid = sa.gid;
  e.size = sa.size;
  if (sa.atime) e.atime = time_of(*sa.atime);
  if (sa.mtime) e.mtime = time_of(*sa.mtime);
  e.mark_ctime = sa.mark_ctime;
  return to_vn(fs_.call([&](Volume& v) { return v.setattr(ino, e, fs_.now_time()); }));
}

// The file's dirty pages are put (VOP_PUTPAGES through the vnode pager),
// then the core writes metadata back for the whole volume and the disk
// flushes. A write-back error (kept from an earlier page-out or met now) is
// the answer, after the metadata went out all the same.
Status Ext2Ops::fsync(Vnode& vp) {
  const std::uint32_t ino = fs_.ino_of(vp);
  Status data;
  if (pager::PageObject* obj = fs_.obj_of(vp); obj != nullptr) data = fs_.pager()->fsync(*obj);
  VN_TRY(to_vn(fs_.call([ino](Volume& v) { return v.fsync(ino); })));
  VN_TRY(fs_.sync());
  return data;
}

// A write-back error no fsync reported is close's answer.
Status Ext2Ops::close(Vnode& vp, int, const vn::Cred&) {
  if (vp.type != VType::VREG) return kOk;
  if (pager::PageObject* obj = fs_.obj_of(vp); obj != nullptr) return fs_.pager()->take_error(*obj);
  return kOk;
}

Status Ext2Ops::getpages(Vnode& vp, std::uint64_t offset, std::span<std::byte> dst) {
  VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  auto n = fs_.call([&](Volume& v) { return v.read(ino, offset, dst); });
  if (!n.ok()) return Status(n.err());
  std::fill(dst.begin() + static_cast<std::ptrdiff_t>(*n), dst.end(), std::byte{0});
  return kOk;
}

// Page-out (VnodePager, no vnode lock: the volume lock is the only one
// taken, and no lwp sleeps for memory holding it). Nothing past the end of
// file is written and no block is allocated (write(2) mapped them), so
// page I/O never grows a file, moves its times or meets ENOSPC.
Status Ext2Ops::putpages(Vnode& vp, std::uint64_t offset, std::span<const std::byte> src) {
  VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  return to_vn(fs_.call([&](Volume& v) { return v.put_data(ino, offset, src); }));
}

}  // namespace vfsim::ext2drv
