// ext2 file data: read, write, truncate (setattr), fsync and the page I/O the
// pager calls. This is the one place that decides how file bytes move: today
// directly between the VOP and the volume (through the core's block I/O);
// when the page cache takes file data over, read/write/truncate go through
// the vnode's page object here and getpages/putpages stay the backing store.
#include <algorithm>
#include <cstring>

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
  std::vector<std::byte> buf;
  while (len > 0) {
    buf.resize(std::min(len, kChunkBytes));
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
  auto n = fs_.call([&](Volume& v) { return v.write(ino, *offset, bytes, fs_.now_seconds()); });
  if (!n.ok()) return Status(n.err());
  *offset += *n;
  *written = *n;
  if ((ioflag & vn::kIoKillPriv) != 0 && *n != 0) {
    auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
    const std::uint32_t kill = a.ok() ? vn::kill_priv_bits(a->mode, ioflag) : 0;
    if (kill != 0) {
      ext2::SetAttr e;
      e.mode = static_cast<std::uint16_t>(a->mode & vn::kModeMask & ~kill);
      (void)fs_.call([&](Volume& v) { return v.setattr(ino, e, fs_.now_seconds()); });
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

// Sizes and times go to the core in one call; a size change of a
// non-regular file is refused before anything changes.
Status Ext2Ops::setattr(Vnode& vp, const vn::SetAttr& sa, const vn::Cred&) {
  if (sa.size) VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  ext2::SetAttr e;
  if (sa.mode) e.mode = static_cast<std::uint16_t>(*sa.mode & vn::kModeMask);
  e.uid = sa.uid;
  e.gid = sa.gid;
  e.size = sa.size;
  if (sa.atime) e.atime = seconds_of(*sa.atime);
  if (sa.mtime) e.mtime = seconds_of(*sa.mtime);
  e.mark_ctime = sa.mark_ctime;
  return to_vn(fs_.call([&](Volume& v) { return v.setattr(ino, e, fs_.now_seconds()); }));
}

// The core writes metadata back for the whole volume; then the disk flushes.
Status Ext2Ops::fsync(Vnode& vp) {
  const std::uint32_t ino = fs_.ino_of(vp);
  VN_TRY(to_vn(fs_.call([ino](Volume& v) { return v.fsync(ino); })));
  return fs_.sync();
}

Status Ext2Ops::getpages(Vnode& vp, std::uint64_t offset, std::span<std::byte> dst) {
  VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  auto n = fs_.call([&](Volume& v) { return v.read(ino, offset, dst); });
  if (!n.ok()) return Status(n.err());
  std::fill(dst.begin() + static_cast<std::ptrdiff_t>(*n), dst.end(), std::byte{0});
  return kOk;
}

// Nothing past the end of file is written back, so page I/O never grows a file.
Status Ext2Ops::putpages(Vnode& vp, std::uint64_t offset, std::span<const std::byte> src) {
  VN_TRY(regular_only(vp));
  const std::uint32_t ino = fs_.ino_of(vp);
  auto a = fs_.call([ino](Volume& v) { return v.getattr(ino); });
  if (!a.ok()) return Status(a.err());
  if (offset >= a->size) return kOk;
  const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(src.size(), a->size - offset));
  auto n =
      fs_.call([&](Volume& v) { return v.write(ino, offset, src.first(len), fs_.now_seconds()); });
  return n.ok() ? kOk : Status(n.err());
}

}  // namespace vfsim::ext2drv
