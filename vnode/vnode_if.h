// The VOP calls the VFS makes: each asserts the locks the contract in
// vnode/vop_list.h requires, calls the vnode's op vector and asserts what it
// promises back (NetBSD's vnode_if.c, with KASSERT(IFF(error == 0, *vpp))).
// The wrappers are generated from the VOP list; the checks are written here.
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

// What each CHECKED VOP promises, around the call: vop_before_NAME(args)
// runs before it and returns what vop_after_NAME(token, status, args) needs.
struct VopNoToken {};

// lookup, create, mknod, mkdir, symlink: *vpp is set iff the op succeeded.
inline VopNoToken vop_result_before(Vnode** vpp) {
  *vpp = nullptr;
  return {};
}
inline void vop_result_after(const Status& s, Vnode& dvp, Vnode** vpp) {
  VN_ASSERT_RESULT(dvp, s, vpp);
}
inline VopNoToken vop_before_lookup(Vnode&, const ComponentName&, Vnode** vpp) {
  return vop_result_before(vpp);
}
inline void vop_after_lookup(VopNoToken, const Status& s, Vnode& dvp, const ComponentName&,
                             Vnode** vpp) {
  vop_result_after(s, dvp, vpp);
}
#define VFSIM_VOP_RESULT_CHECKS_(name)                                                           \
  inline VopNoToken vop_before_##name(Vnode&, const ComponentName&, const Vattr&, Vnode** vpp) { \
    return vop_result_before(vpp);                                                               \
  }                                                                                              \
  inline void vop_after_##name(VopNoToken, const Status& s, Vnode& dvp, const ComponentName&,    \
                               const Vattr&, Vnode** vpp) {                                      \
    vop_result_after(s, dvp, vpp);                                                               \
  }
VFSIM_VOP_RESULT_CHECKS_(create)
VFSIM_VOP_RESULT_CHECKS_(mknod)
VFSIM_VOP_RESULT_CHECKS_(mkdir)
#undef VFSIM_VOP_RESULT_CHECKS_
inline VopNoToken vop_before_symlink(Vnode&, const ComponentName&, const Vattr&, std::string_view,
                                     Vnode** vpp) {
  return vop_result_before(vpp);
}
inline void vop_after_symlink(VopNoToken, const Status& s, Vnode& dvp, const ComponentName&,
                              const Vattr&, std::string_view, Vnode** vpp) {
  vop_result_after(s, dvp, vpp);
}

// read: never more than asked.
inline std::size_t vop_before_read(Vnode&, std::uint64_t, std::size_t, std::string* out, int) {
  return out->size();
}
inline void vop_after_read(std::size_t before, const Status&, Vnode& vp, std::uint64_t,
                           std::size_t len, std::string* out, int) {
  VFSIM_KASSERT(vp.machine(), out->size() - before <= len, "VOP_READ returned too much");
}

// write: a count iff success (a short count is a success), never more than
// the data.
inline VopNoToken vop_before_write(Vnode&, std::uint64_t*, std::string_view, int,
                                   std::size_t* written) {
  *written = 0;
  return {};
}
inline void vop_after_write(VopNoToken, const Status& s, Vnode& vp, std::uint64_t*,
                            std::string_view data, int, std::size_t* written) {
  VFSIM_KASSERT(vp.machine(),
                *written <= data.size() && (s.ok() ? *written != 0 || data.empty() : *written == 0),
                "VOP_WRITE wrote " + std::to_string(*written) + " of " +
                    std::to_string(data.size()) + " bytes with errno " + std::to_string(s.err()));
}

// link, rename: within one mount; rename's target, when there is one, is
// locked exclusively too.
inline VopNoToken vop_before_link(Vnode& dvp, Vnode& vp, const ComponentName&) {
  VFSIM_KASSERT(dvp.machine(), &dvp.mount() == &vp.mount(), "link across mounts");
  return {};
}
inline void vop_after_link(VopNoToken, const Status&, Vnode&, Vnode&, const ComponentName&) {}
inline VopNoToken vop_before_rename(Vnode& fdvp, Vnode&, const ComponentName&, Vnode& tdvp,
                                    Vnode* tvp, const ComponentName&) {
  if (tvp != nullptr) VN_ASSERT_XLOCKED(*tvp);
  VFSIM_KASSERT(fdvp.machine(), &fdvp.mount() == &tdvp.mount(), "rename across mounts");
  return {};
}
inline void vop_after_rename(VopNoToken, const Status&, Vnode&, Vnode&, const ComponentName&,
                             Vnode&, Vnode*, const ComponentName&) {}

// The wrappers, generated from vnode/vop_list.h: vop_NAME(params) asserts
// the lock contract and runs the VOP's checks around the call through the
// vnode's op vector (vop_NAME_call_); in a kept trace the same work runs
// inside a span "VOP_NAME mM:K" (vop_NAME_traced_).
//
// The span lives out of line, on a cold path chosen by one test of the
// machine's keep flag (fixed when the machine is made): a span object in
// the inlined wrapper cost every VOP its closure, its test on the way out
// and the loss of the tail call, about 2% of the VFS op mix
// (docs/PERFORMANCE.md), while almost no run keeps its trace.
#define LK_SH(v) VN_ASSERT_LOCKED(v);
#define LK_EX(v) VN_ASSERT_XLOCKED(v);
#define LK_NONE
#define VFSIM_VOP_CALL_NONE(vp, name, args) return (vp).op->name args;
#define VFSIM_VOP_CALL_CHECKED(vp, name, args)             \
  auto vop_token_ = vop_before_##name args;                \
  Status s = (vp).op->name args;                           \
  vop_after_##name(vop_token_, s, VFSIM_VOP_UNPAREN args); \
  return s;
#define VFSIM_VOP_WRAPPER_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  inline Status vop_##name##_call_ params { locks VFSIM_VOP_CALL_##checks(vp, name, args) }   \
  [[gnu::noinline, gnu::cold]] inline Status vop_##name##_traced_ params {                    \
    VOP_SPAN(vp, "VOP_" #NAME);                                                               \
    return vop_##name##_call_ args;                                                           \
  }                                                                                           \
  inline Status vop_##name params {                                                           \
    if ((vp).machine().trace().keeping()) [[unlikely]]                                        \
      return vop_##name##_traced_ args;                                                       \
    return vop_##name##_call_ args;                                                           \
  }
VFSIM_VOP_LIST(VFSIM_VOP_WRAPPER_, _)
#undef VFSIM_VOP_WRAPPER_
#undef VFSIM_VOP_CALL_CHECKED
#undef VFSIM_VOP_CALL_NONE
#undef LK_NONE
#undef LK_EX
#undef LK_SH

}  // namespace vfsim::vn
