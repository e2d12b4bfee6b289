// Open files and descriptor tables. An OpenFile is referenced by its
// descriptor and by every call using it, so a close racing a read frees the
// file only when the read is done.
#include <fcntl.h>

#include "vfs/kernel.h"
#include "vnode/vnode_if.h"

namespace vfsim::vfs {

bool OpenFile::readable() const {
  const int acc = flags & O_ACCMODE;
  return acc == O_RDONLY || acc == O_RDWR;
}

bool OpenFile::writable() const {
  const int acc = flags & O_ACCMODE;
  return acc == O_WRONLY || acc == O_RDWR;
}

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

Status Kernel::file_release(OpenFile& f) {
  vn::Vnode* vp = f.vp;
  const int fflags = (f.readable() ? vn::kFRead : 0) | (f.writable() ? vn::kFWrite : 0);
  files_.erase(f.id);  // f is gone
  vn::vn_lock(*vp, false);
  Status s = vn::vop_close(*vp, fflags, vn::Cred{});
  vn::vn_unlock(*vp);
  vrele(*vp);
  return s;
}

Result<int> Kernel::fd_alloc(Proc& p, OpenFile& f) {
  std::size_t fd = 0;
  while (fd < p.fds.size() && p.fds[fd] != nullptr) ++fd;
  if (fd >= static_cast<std::size_t>(kFdMax)) return Status(EMFILE);
  if (fd == p.fds.size()) p.fds.push_back(nullptr);
  p.fds[fd] = &f;
  ++f.refs;
  return static_cast<int>(fd);
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
