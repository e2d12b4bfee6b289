// The VOP list, written once (NetBSD's vnode_if.src habit). Everything else
// that names every VOP is generated from it:
//   - the op vector: VnodeOps' virtual methods (vnode/vnode.h) and their
//     default bodies (answering default_error(), EOPNOTSUPP unless a vector
//     says otherwise; vnode/vnode_ops.cc);
//   - the asserting wrappers vop_NAME() the VFS calls (vnode/vnode_if.h):
//     a trace span, the lock contract, the call, and the VOP's own checks;
//   - the puffs op codes and names of the VOPs that travel to a server
//     (fsdrivers/puffs/puffs_msg.h), and the server's op vector;
//   - the override declarations of a vector that implements every VOP
//     (VFSIM_VOP_OVERRIDES in vnode/vnode.h: memfs, ext2).
// A new VOP is one line here, plus the file systems that implement it.
//
// Each entry is V(X, NAME, name, (params), (args), vp, locks, checks, dflt,
// puffs, code):
//   NAME, name   the op's name for traces ("VOP_" #NAME) and in C++;
//   params/args  its parameter list and the same names as arguments;
//   vp           the vnode whose op vector is called (and named in the span);
//   locks        the lock contract, as assertions run before the call
//                (LK_SH(v): locked, shared is enough; LK_EX(v): exclusive;
//                LK_NONE: no vnode lock, as putpages: vnode/vnode_pager.h);
//   checks       CHECKED: vop_before_NAME()/vop_after_NAME() in vnode_if.h
//                assert what the op promises (a result vnode iff success,
//                no more bytes than asked...); NONE otherwise;
//   dflt         UNSUPPORTED: the default answers default_error();
//                CUSTOM: the default is written in vnode/vnode_ops.cc;
//   puffs, code  P and its puffs wire code if the VOP travels to a puffs
//                server (the codes are the wire format: never renumber),
//                N and 0 if it does not;
//   X            passed through untouched, for a generator that needs one
//                more argument (the puffs op vector takes its own macro).
// Lock contract in words, and what each VOP means: vnode/vnode.h.
#pragma once

// clang-format off
#define VFSIM_VOP_LIST(V, X) \
  V(X, LOOKUP, lookup, (Vnode& dvp, const ComponentName& cn, Vnode** vpp), (dvp, cn, vpp), \
    dvp, LK_SH(dvp), CHECKED, UNSUPPORTED, P, 16) \
  V(X, CREATE, create, (Vnode& dvp, const ComponentName& cn, const Vattr& va, Vnode** vpp), \
    (dvp, cn, va, vpp), dvp, LK_EX(dvp), CHECKED, UNSUPPORTED, P, 17) \
  V(X, MKNOD, mknod, (Vnode& dvp, const ComponentName& cn, const Vattr& va, Vnode** vpp), \
    (dvp, cn, va, vpp), dvp, LK_EX(dvp), CHECKED, UNSUPPORTED, P, 18) \
  V(X, MKDIR, mkdir, (Vnode& dvp, const ComponentName& cn, const Vattr& va, Vnode** vpp), \
    (dvp, cn, va, vpp), dvp, LK_EX(dvp), CHECKED, UNSUPPORTED, P, 19) \
  V(X, SYMLINK, symlink, (Vnode& dvp, const ComponentName& cn, const Vattr& va, \
                          std::string_view target, Vnode** vpp), \
    (dvp, cn, va, target, vpp), dvp, LK_EX(dvp), CHECKED, UNSUPPORTED, P, 20) \
  V(X, OPEN, open, (Vnode& vp, int fflags, const Cred& cred), (vp, fflags, cred), \
    vp, LK_SH(vp), NONE, UNSUPPORTED, P, 21) \
  V(X, CLOSE, close, (Vnode& vp, int fflags, const Cred& cred), (vp, fflags, cred), \
    vp, LK_SH(vp), NONE, UNSUPPORTED, P, 22) \
  V(X, ACCESS, access, (Vnode& vp, int acc, const Cred& cred), (vp, acc, cred), \
    vp, LK_SH(vp), NONE, UNSUPPORTED, P, 23) \
  V(X, GETATTR, getattr, (Vnode& vp, Vattr* va), (vp, va), \
    vp, LK_SH(vp), NONE, UNSUPPORTED, P, 24) \
  V(X, SETATTR, setattr, (Vnode& vp, const SetAttr& sa, const Cred& cred), (vp, sa, cred), \
    vp, LK_EX(vp), NONE, UNSUPPORTED, P, 25) \
  V(X, READ, read, (Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out, \
                    int ioflag), \
    (vp, offset, len, out, ioflag), vp, LK_SH(vp), CHECKED, UNSUPPORTED, P, 26) \
  V(X, WRITE, write, (Vnode& vp, std::uint64_t* offset, std::string_view data, int ioflag, \
                      std::size_t* written), \
    (vp, offset, data, ioflag, written), vp, LK_EX(vp), CHECKED, UNSUPPORTED, P, 27) \
  V(X, GETPAGES, getpages, (Vnode& vp, std::uint64_t offset, std::span<std::byte> dst), \
    (vp, offset, dst), vp, LK_SH(vp), NONE, UNSUPPORTED, N, 0) \
  V(X, PUTPAGES, putpages, (Vnode& vp, std::uint64_t offset, std::span<const std::byte> src), \
    (vp, offset, src), vp, LK_NONE, NONE, UNSUPPORTED, P, 28) \
  V(X, FSYNC, fsync, (Vnode& vp), (vp), vp, LK_EX(vp), NONE, UNSUPPORTED, P, 29) \
  V(X, REMOVE, remove, (Vnode& dvp, Vnode& vp, const ComponentName& cn), (dvp, vp, cn), \
    dvp, LK_EX(dvp) LK_EX(vp), NONE, UNSUPPORTED, P, 30) \
  V(X, LINK, link, (Vnode& dvp, Vnode& vp, const ComponentName& cn), (dvp, vp, cn), \
    dvp, LK_EX(dvp) LK_EX(vp), CHECKED, UNSUPPORTED, P, 31) \
  V(X, RENAME, rename, (Vnode& fdvp, Vnode& fvp, const ComponentName& fcn, Vnode& tdvp, \
                        Vnode* tvp, const ComponentName& tcn), \
    (fdvp, fvp, fcn, tdvp, tvp, tcn), fdvp, LK_EX(fdvp) LK_EX(fvp) LK_EX(tdvp), CHECKED, \
    UNSUPPORTED, P, 32) \
  V(X, RMDIR, rmdir, (Vnode& dvp, Vnode& vp, const ComponentName& cn), (dvp, vp, cn), \
    dvp, LK_EX(dvp) LK_EX(vp), NONE, UNSUPPORTED, P, 33) \
  V(X, READDIR, readdir, (Vnode& vp, std::uint64_t cookie, std::size_t max, \
                          std::vector<Dirent>* out, bool* eof), \
    (vp, cookie, max, out, eof), vp, LK_SH(vp), NONE, UNSUPPORTED, P, 34) \
  V(X, READLINK, readlink, (Vnode& vp, std::string* target), (vp, target), \
    vp, LK_SH(vp), NONE, UNSUPPORTED, P, 35) \
  V(X, INACTIVE, inactive, (Vnode& vp, bool* recycle), (vp, recycle), \
    vp, LK_EX(vp), NONE, CUSTOM, P, 36) \
  V(X, RECLAIM, reclaim, (Vnode& vp), (vp), vp, LK_EX(vp), NONE, CUSTOM, P, 37) \
  V(X, GETEXTATTR, getextattr, (Vnode& vp, XattrNs ns, std::string_view name, \
                                std::string* value), \
    (vp, ns, name, value), vp, LK_SH(vp), NONE, UNSUPPORTED, P, 38) \
  V(X, SETEXTATTR, setextattr, (Vnode& vp, XattrNs ns, std::string_view name, \
                                std::string_view value, int flags), \
    (vp, ns, name, value, flags), vp, LK_EX(vp), NONE, UNSUPPORTED, P, 39) \
  V(X, LISTEXTATTR, listextattr, (Vnode& vp, XattrNs ns, std::vector<std::string>* names), \
    (vp, ns, names), vp, LK_SH(vp), NONE, UNSUPPORTED, P, 40) \
  V(X, DELETEEXTATTR, deleteextattr, (Vnode& vp, XattrNs ns, std::string_view name), \
    (vp, ns, name), vp, LK_EX(vp), NONE, UNSUPPORTED, P, 41)
// clang-format on

// Helpers for generators: VFSIM_VOP_UNPAREN (a, b) is a, b;
// VFSIM_VOP_IF_P(...) keeps its arguments and VFSIM_VOP_IF_N(...) drops them,
// so VFSIM_VOP_IF_##puffs(...) emits only for VOPs that travel to puffs.
#define VFSIM_VOP_UNPAREN(...) __VA_ARGS__
#define VFSIM_VOP_IF_P(...) __VA_ARGS__
#define VFSIM_VOP_IF_N(...)

// The names of the VOPs a puffs server implements, as X(name), in wire-code
// order: VFSIM_PUFFS_VOPS(X).
#define VFSIM_VOP_PUFFS_NAME_(X, NAME, name, params, args, vp, locks, checks, dflt, puffs, code) \
  VFSIM_VOP_IF_##puffs(X(name))
#define VFSIM_PUFFS_VOPS(X) VFSIM_VOP_LIST(VFSIM_VOP_PUFFS_NAME_, X)
