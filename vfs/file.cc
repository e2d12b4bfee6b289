// Open files and descriptor tables. An OpenFile is referenced by its
// descriptor and by every call using it, so a close racing a read frees the
// file only when the read is done.
#include <fcntl.h>

#include <algorithm>

#include "vfs/fifo.h"
#include "vfs/kernel.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

Result<OpenFile*> Kernel::getfile(Proc& p, int fd) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= p.fds.size() || p.fds[fd] == nullptr) {
    return Status(EBADF);
  }
  OpenFile* f = p.fds[fd];
  ++f->refs;
  return f;
}

void Kernel::putfile(OpenFile& f) {
  VFSIM_KASSERT(machine_, f.refs > 0, "putfile of an unreferenced file");
  // A read or write that outlived close(2) drops the last reference: the
  // close(2) that returned earlier could not report VOP_CLOSE's error.
  if (--f.refs == 0) (void)file_release(f);
}

OpenFile& Kernel::file_alloc(vn::Vnode& vp, int flags) {
  std::unique_ptr<OpenFile> owned;
  if (spare_files_.empty()) {
    owned = std::make_unique<OpenFile>();
  } else {
    owned = std::move(spare_files_.back());
    spare_files_.pop_back();
  }
  OpenFile& f = *owned;
  f.id = next_file_id_++;
  f.vp = &vp;  // the reference moves to the file
  f.flags = flags;
  f.offset = 0;
  f.refs = 1;  // the caller's until the descriptor is in place
  files_.push_back(FileSlot{f.id, std::move(owned)});
  return f;
}

const OpenFile* Kernel::find_file(std::uint64_t id) const {
  auto it = std::lower_bound(files_.begin(), files_.end(), id,
                             [](const FileSlot& s, std::uint64_t i) { return s.id < i; });
  return it != files_.end() && it->id == id ? it->file.get() : nullptr;
}

Status Kernel::file_release(OpenFile& f) {
  vn::Vnode* vp = f.vp;
  const int fflags = f.fflags();
  auto it = std::lower_bound(files_.begin(), files_.end(), f.id,
                             [](const FileSlot& s, std::uint64_t i) { return s.id < i; });
  VFSIM_KASSERT(machine_, it != files_.end() && it->file.get() == &f, "release of an unknown file");
  f.id = 0;  // no longer found by find_file
  f.vp = nullptr;
  spare_files_.push_back(std::move(it->file));  // f is free for the next open
  if (++released_slots_ > 64 && 2 * released_slots_ > files_.size()) {
    std::erase_if(files_, [](const FileSlot& s) { return s.file == nullptr; });
    released_slots_ = 0;
  }
  // A fifo's reader/writer counts go first, with no vnode lock held: this
  // wakes the other side (end of file, EPIPE) and may free the fifo.
  // An O_PATH descriptor never passed VOP_OPEN (nor the fifo's open).
  const bool path_only = (f.flags & O_PATH) != 0;
  if (vp->type == vn::VType::VFIFO && !path_only) fifos_->close(*vp, fflags);
  Status s = vn::kOk;
  if (!path_only) {
    vn::vn_lock(*vp, false);
    s = vn::vop_close(*vp, fflags, vn::Cred{});
    vn::vn_unlock(*vp);
  }
  vrele(*vp);
  return s;
}

Result<int> Kernel::fd_alloc(Proc& p, OpenFile& f) {
  std::size_t fd = 0;
  while (fd < p.fds.size() && p.fds[fd] != nullptr) ++fd;
  if (fd >= static_cast<std::size_t>(p.fd_max)) return Status(EMFILE);
  if (fd == p.fds.size()) p.fds.push_back(nullptr);
  p.fds[fd] = &f;
  ++f.refs;
  return static_cast<int>(fd);
}

Result<int> Kernel::fd_pass(Proc& from, int fd, Proc& to) {
  auto f = getfile(from, fd);
  if (!f.ok()) return f.status();
  auto nfd = fd_alloc(to, **f);
  if (nfd.ok()) {
    from.fds[fd] = nullptr;
    --(*f)->refs;  // the old descriptor's; `to`'s took one of its own
  }
  putfile(**f);
  return nfd;
}

Result<int> Kernel::fd_share(Proc& from, int fd, Proc& to) {
  auto f = getfile(from, fd);
  if (!f.ok()) return f.status();
  auto nfd = fd_alloc(to, **f);
  putfile(**f);
  return nfd;
}

Status Kernel::close(Proc& p, int fd) {
  auto f = getfile(p, fd);
  if (!f.ok()) return f.status();
  p.fds[fd] = nullptr;
  --(*f)->refs;  // the descriptor's reference
  if ((*f)->refs == 1) {
    // Ours is the last: close the file now and report what VOP_CLOSE says
    // (the write-back error the pager kept, like NFS's close-to-open).
    (*f)->refs = 0;
    return file_release(**f);
  }
  putfile(**f);  // someone else's call still runs; it will close the file
  return vn::kOk;
}

}  // namespace vfsim::vfs
