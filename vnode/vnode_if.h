// The VOP calls the VFS makes: each asserts the locks the contract in
// vnode.h requires, calls the vnode's op vector and asserts what it
// promises back (NetBSD's vnode_if.c, with KASSERT(IFF(error == 0, *vpp))).
#pragma once

#include <string>

#include "sim/trace_span.h"
#include "vnode/vnode.h"

namespace vfsim::vn {

#define VN_ASSERT_LOCKED(vp) \
  VFSIM_KASSERT((vp).machine(), vn_locked(vp), "not locked: " + (vp).describe())
#define VN_ASSERT_XLOCKED(vp)                            \
  VFSIM_KASSERT((vp).machine(), vn_locked_exclusive(vp), \
                "not locked exclusively: " + (vp).describe())
#define VN_ASSERT_RESULT(dvp, s, vpp)                             \
  VFSIM_KASSERT((dvp).machine(), (s).ok() == (*(vpp) != nullptr), \
                "result vnode does not match the error on " + (dvp).describe())

// Each VOP is a span in a kept trace (sim/trace_span.h): "VOP_GETATTR m2:2".
#define VOP_SPAN(vp, name)                                                      \
  const ::vfsim::sim::TraceSpan vop_span_((vp).machine(), [&] {                 \
    return std::string(name) + " m" + std::to_string((vp).mount().id()) + ":" + \
           std::to_string((vp).key());                                          \
  })

inline Status vop_lookup(Vnode& dvp, const ComponentName& cn, Vnode** vpp) {
  VOP_SPAN(dvp, "VOP_LOOKUP");
  VN_ASSERT_LOCKED(dvp);
  *vpp = nullptr;
  Status s = dvp.op->lookup(dvp, cn, vpp);
  VN_ASSERT_RESULT(dvp, s, vpp);
  return s;
}

inline Status vop_create(Vnode& dvp, const ComponentName& cn, const Vattr& va, Vnode** vpp) {
  VOP_SPAN(dvp, "VOP_CREATE");
  VN_ASSERT_XLOCKED(dvp);
  *vpp = nullptr;
  Status s = dvp.op->create(dvp, cn, va, vpp);
  VN_ASSERT_RESULT(dvp, s, vpp);
  return s;
}

inline Status vop_mknod(Vnode& dvp, const ComponentName& cn, const Vattr& va, Vnode** vpp) {
  VOP_SPAN(dvp, "VOP_MKNOD");
  VN_ASSERT_XLOCKED(dvp);
  *vpp = nullptr;
  Status s = dvp.op->mknod(dvp, cn, va, vpp);
  VN_ASSERT_RESULT(dvp, s, vpp);
  return s;
}

inline Status vop_mkdir(Vnode& dvp, const ComponentName& cn, const Vattr& va, Vnode** vpp) {
  VOP_SPAN(dvp, "VOP_MKDIR");
  VN_ASSERT_XLOCKED(dvp);
  *vpp = nullptr;
  Status s = dvp.op->mkdir(dvp, cn, va, vpp);
  VN_ASSERT_RESULT(dvp, s, vpp);
  return s;
}

inline Status vop_symlink(Vnode& dvp, const ComponentName& cn, const Vattr& va,
                          std::string_view target, Vnode** vpp) {
  VOP_SPAN(dvp, "VOP_SYMLINK");
  VN_ASSERT_XLOCKED(dvp);
  *vpp = nullptr;
  Status s = dvp.op->symlink(dvp, cn, va, target, vpp);
  VN_ASSERT_RESULT(dvp, s, vpp);
  return s;
}

inline Status vop_open(Vnode& vp, int fflags, const Cred& cred) {
  VOP_SPAN(vp, "VOP_OPEN");
  VN_ASSERT_LOCKED(vp);
  return vp.op->open(vp, fflags, cred);
}

inline Status vop_close(Vnode& vp, int fflags, const Cred& cred) {
  VOP_SPAN(vp, "VOP_CLOSE");
  VN_ASSERT_LOCKED(vp);
  return vp.op->close(vp, fflags, cred);
}

inline Status vop_access(Vnode& vp, int acc, const Cred& cred) {
  VOP_SPAN(vp, "VOP_ACCESS");
  VN_ASSERT_LOCKED(vp);
  return vp.op->access(vp, acc, cred);
}

inline Status vop_getattr(Vnode& vp, Vattr* va) {
  VOP_SPAN(vp, "VOP_GETATTR");
  VN_ASSERT_LOCKED(vp);
  return vp.op->getattr(vp, va);
}

inline Status vop_setattr(Vnode& vp, const SetAttr& sa, const Cred& cred) {
  VOP_SPAN(vp, "VOP_SETATTR");
  VN_ASSERT_XLOCKED(vp);
  return vp.op->setattr(vp, sa, cred);
}

inline Status vop_read(Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out,
                       int ioflag) {
  VOP_SPAN(vp, "VOP_READ");
  VN_ASSERT_LOCKED(vp);
  const std::size_t before = out->size();
  Status s = vp.op->read(vp, offset, len, out, ioflag);
  VFSIM_KASSERT(vp.machine(), out->size() - before <= len, "VOP_READ returned too much");
  return s;
}

inline Status vop_write(Vnode& vp, std::uint64_t* offset, std::string_view data, int ioflag,
                        std::size_t* written) {
  VOP_SPAN(vp, "VOP_WRITE");
  VN_ASSERT_XLOCKED(vp);
  *written = 0;
  Status s = vp.op->write(vp, offset, data, ioflag, written);
  VFSIM_KASSERT(vp.machine(),
                *written <= data.size() && (s.ok() ? *written != 0 || data.empty() : *written == 0),
                "VOP_WRITE wrote " + std::to_string(*written) + " of " +
                    std::to_string(data.size()) + " bytes with errno " + std::to_string(s.err()));
  return s;
}

inline Status vop_fsync(Vnode& vp) {
  VOP_SPAN(vp, "VOP_FSYNC");
  VN_ASSERT_XLOCKED(vp);
  return vp.op->fsync(vp);
}

inline Status vop_remove(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  VOP_SPAN(dvp, "VOP_REMOVE");
  VN_ASSERT_XLOCKED(dvp);
  VN_ASSERT_XLOCKED(vp);
  return dvp.op->remove(dvp, vp, cn);
}

inline Status vop_link(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  VOP_SPAN(dvp, "VOP_LINK");
  VN_ASSERT_XLOCKED(dvp);
  VN_ASSERT_XLOCKED(vp);
  VFSIM_KASSERT(dvp.machine(), &dvp.mount() == &vp.mount(), "link across mounts");
  return dvp.op->link(dvp, vp, cn);
}

inline Status vop_rename(Vnode& fdvp, Vnode& fvp, const ComponentName& fcn, Vnode& tdvp, Vnode* tvp,
                         const ComponentName& tcn) {
  VOP_SPAN(fdvp, "VOP_RENAME");
  VN_ASSERT_XLOCKED(fdvp);
  VN_ASSERT_XLOCKED(fvp);
  VN_ASSERT_XLOCKED(tdvp);
  if (tvp != nullptr) VN_ASSERT_XLOCKED(*tvp);
  VFSIM_KASSERT(fdvp.machine(), &fdvp.mount() == &tdvp.mount(), "rename across mounts");
  return fdvp.op->rename(fdvp, fvp, fcn, tdvp, tvp, tcn);
}

inline Status vop_rmdir(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  VOP_SPAN(dvp, "VOP_RMDIR");
  VN_ASSERT_XLOCKED(dvp);
  VN_ASSERT_XLOCKED(vp);
  return dvp.op->rmdir(dvp, vp, cn);
}

inline Status vop_readdir(Vnode& vp, std::uint64_t cookie, std::size_t max,
                          std::vector<Dirent>* out, bool* eof) {
  VOP_SPAN(vp, "VOP_READDIR");
  VN_ASSERT_LOCKED(vp);
  return vp.op->readdir(vp, cookie, max, out, eof);
}

inline Status vop_readlink(Vnode& vp, std::string* target) {
  VOP_SPAN(vp, "VOP_READLINK");
  VN_ASSERT_LOCKED(vp);
  return vp.op->readlink(vp, target);
}

inline Status vop_getpages(Vnode& vp, std::uint64_t offset, std::span<std::byte> dst) {
  VOP_SPAN(vp, "VOP_GETPAGES");
  VN_ASSERT_XLOCKED(vp);
  return vp.op->getpages(vp, offset, dst);
}

inline Status vop_putpages(Vnode& vp, std::uint64_t offset, std::span<const std::byte> src) {
  VOP_SPAN(vp, "VOP_PUTPAGES");
  VN_ASSERT_XLOCKED(vp);
  return vp.op->putpages(vp, offset, src);
}

inline Status vop_getextattr(Vnode& vp, XattrNs ns, std::string_view name, std::string* value) {
  VOP_SPAN(vp, "VOP_GETEXTATTR");
  VN_ASSERT_LOCKED(vp);
  return vp.op->getextattr(vp, ns, name, value);
}

inline Status vop_setextattr(Vnode& vp, XattrNs ns, std::string_view name, std::string_view value,
                             int flags) {
  VOP_SPAN(vp, "VOP_SETEXTATTR");
  VN_ASSERT_XLOCKED(vp);
  return vp.op->setextattr(vp, ns, name, value, flags);
}

inline Status vop_listextattr(Vnode& vp, XattrNs ns, std::vector<std::string>* names) {
  VOP_SPAN(vp, "VOP_LISTEXTATTR");
  VN_ASSERT_LOCKED(vp);
  return vp.op->listextattr(vp, ns, names);
}

inline Status vop_deleteextattr(Vnode& vp, XattrNs ns, std::string_view name) {
  VOP_SPAN(vp, "VOP_DELETEEXTATTR");
  VN_ASSERT_XLOCKED(vp);
  return vp.op->deleteextattr(vp, ns, name);
}

}  // namespace vfsim::vn
