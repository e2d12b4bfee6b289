// vnode ops of the puffs kernel stub: each VOP becomes a request to the
// server carrying the vnode's cookie, the caller's credentials and pid; the
// calling lwp waits for the reply. The stub keeps what the kernel keeps: an
// attribute cache per vnode, whose size GETATTR replies overwrite and writes
// extend — the two places the PERFUSE GETATTR/WRITE race meets.
#include <algorithm>
#include <cerrno>

#include "fsdrivers/puffs/puffs_kernel.h"
#include "vnode/vcache.h"

namespace vfsim::puffs {

using vn::ComponentName;
using vn::Status;
using vn::Vnode;

namespace {

PuffsMount& pmp(Vnode& vp) { return static_cast<PuffsMount&>(vp.mount().fs()); }

// A request for op Op about `vp`: its arguments are Op's type, checked by
// the compiler.
template <PuffsOp Op>
Request make_req(Vnode& vp, ArgsOf<Op> args, const vn::Cred* cred = nullptr) {
  Request rq = make_request<Op>(pmp(vp).node_of(vp).cookie, std::move(args));
  if (cred != nullptr) rq.h.cred = *cred;
  return rq;
}

// Holds a node's size lock when puffs.size_lock is on.
class SizeGuard {
 public:
  SizeGuard(PuffsMount& mp, PuffsVnode& n) : m_(mp.options().size_lock ? &n.size_lock : nullptr) {
    if (m_ != nullptr) m_->lock();
  }
  ~SizeGuard() noexcept(false) {
    if (m_ != nullptr) m_->unlock();
  }
  SizeGuard(const SizeGuard&) = delete;
  SizeGuard& operator=(const SizeGuard&) = delete;

 private:
  sim::Mutex* m_;
};

// Puts attributes from a reply into the cache. With dirty pages the kernel's
// size is newer than the server's (puffs' metacache) and is kept, unless the
// reply is to a size change the kernel asked for.
void apply_attr(PuffsVnode& n, Vnode& vp, const vn::Vattr& va, bool size_from_server) {
  const bool keep_size = !size_from_server && n.obj != nullptr && n.obj->dirty_pages() > 0;
  const std::uint64_t kernel_size = n.attr.size;
  n.attr = va;
  if (keep_size) n.attr.size = std::max(kernel_size, va.size);
  n.attr.type = vp.type;
  n.attr_valid = true;
}

// Asks the server for the attributes and applies the reply to the cache:
// a smaller size in the reply shrinks the kernel's size (what the historic
// kernel did, truncating the file under a writer that had just extended it).
// getattr() calls it without the vnode lock, so a forced unmount may reclaim
// the vnode before (while it waits for the size lock) or during the call.
Status fetch_attr(PuffsMount& mp, Vnode& vp, vn::Vattr* out) {
  if (vp.data == nullptr) return Status(ENXIO);  // reclaimed (forced unmount)
  Request rq = make_req<PuffsOp::getattr>(vp, {});
  Reply rp;
  VN_TRY(mp.call(rq, &rp));
  if (vp.data == nullptr) return Status(ENXIO);  // reclaimed meanwhile (forced unmount)
  PuffsVnode& n = mp.node_of(vp);
  if (n.attr_valid && rp.va.size < n.attr.size) {
    mp.machine().event("puffs_size_shrink", "cookie " + std::to_string(n.cookie) + ": " +
                                                std::to_string(n.attr.size) + " -> " +
                                                std::to_string(rp.va.size));
  }
  apply_attr(n, vp, rp.va, /*size_from_server=*/false);
  *out = n.attr;
  return vn::kOk;
}

// A reply naming a new node: check it, remember its type, get its vnode, and
// count the reply on that vnode (after get(): if the cookie's old vnode was
// being reclaimed, get() waited and this is a new vnode, whose RECLAIM must
// account for this reply; the old one's did not).
Status new_vnode(PuffsMount& mp, const Reply& rp, Vnode** vpp) {
  if (rp.new_cookie == 0 || rp.new_type == vn::VType::VNON) {
    mp.machine().event("puffs_bad_reply",
                       mp.options().name + ": " + describe(rp.h) + " names no node");
    return Status(EPROTO);
  }
  mp.note_newinfo(rp.new_cookie, rp.new_type, rp.va);
  auto vp = mp.vcache().get(mp.mount(), rp.new_cookie);
  if (!vp.ok()) return vp.status();
  ++mp.node_of(**vp).nlookup;
  *vpp = *vp;
  return vn::kOk;
}

template <PuffsOp Op>
Status make_node(Vnode& dvp, const ComponentName& cn, ArgsOf<Op> args, Vnode** vpp) {
  Request rq = make_req<Op>(dvp, std::move(args), &cn.cred);
  Reply rp;
  VN_TRY(pmp(dvp).call(rq, &rp));
  return new_vnode(pmp(dvp), rp, vpp);
}

template <PuffsOp Op>
Status simple(Vnode& vp, const vn::Cred* cred, ArgsOf<Op> args) {
  Request rq = make_req<Op>(vp, std::move(args), cred);
  Reply rp;
  return pmp(vp).call(rq, &rp);
}

template <PuffsOp Op>
Status name_op(Vnode& dvp, Vnode& vp, const ComponentName& cn) {
  Request rq =
      make_req<Op>(dvp, NodeNameArgs{pmp(vp).node_of(vp).cookie, std::string(cn.name)}, &cn.cred);
  Reply rp;
  return pmp(dvp).call(rq, &rp);
}

}  // namespace

class PuffsVnodeOps final : public vn::VnodeOps {
 public:
  Status lookup(Vnode& dvp, const ComponentName& cn, Vnode** vpp) override {
    PuffsMount& mp = pmp(dvp);
    if (cn.name == ".") {
      auto vp = mp.vcache().get(mp.mount(), dvp.key());
      if (!vp.ok()) return vp.status();
      *vpp = *vp;
      return vn::kOk;
    }
    Request rq = make_req<PuffsOp::lookup>(dvp, LookupArgs{std::string(cn.name)}, &cn.cred);
    Reply rp;
    VN_TRY(mp.call(rq, &rp));
    return new_vnode(mp, rp, vpp);
  }
  Status create(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) override {
    return make_node<PuffsOp::create>(dvp, cn, MakeArgs{std::string(cn.name), va}, vpp);
  }
  Status mknod(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) override {
    return make_node<PuffsOp::mknod>(dvp, cn, MakeArgs{std::string(cn.name), va}, vpp);
  }
  Status mkdir(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, Vnode** vpp) override {
    return make_node<PuffsOp::mkdir>(dvp, cn, MakeArgs{std::string(cn.name), va}, vpp);
  }
  Status symlink(Vnode& dvp, const ComponentName& cn, const vn::Vattr& va, std::string_view target,
                 Vnode** vpp) override {
    return make_node<PuffsOp::symlink>(
        dvp, cn, SymlinkArgs{std::string(cn.name), va, std::string(target)}, vpp);
  }
  Status open(Vnode& vp, int fflags, const vn::Cred& cred) override {
    return simple<PuffsOp::open>(vp, &cred, OpenArgs{fflags});
  }
  // puffs' close is FUSE's RELEASE: the server learns the file was closed.
  Status close(Vnode& vp, int fflags, const vn::Cred& cred) override {
    return simple<PuffsOp::close>(vp, &cred, OpenArgs{fflags});
  }
  Status access(Vnode& vp, int acc, const vn::Cred& cred) override {
    return simple<PuffsOp::access>(vp, &cred, AccessArgs{acc});
  }
  Status getattr(Vnode& vp, vn::Vattr* va) override;
  Status setattr(Vnode& vp, const vn::SetAttr& sa, const vn::Cred& cred) override;
  Status read(Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out,
              int ioflag) override;
  Status write(Vnode& vp, std::uint64_t* offset, std::string_view data, int ioflag,
               std::size_t* written) override;
  Status fsync(Vnode& vp) override {
    PuffsVnode& n = pmp(vp).node_of(vp);
    if (n.obj != nullptr) VN_TRY(Status(pmp(vp).options().pager->fsync(*n.obj)));
    return simple<PuffsOp::fsync>(vp, nullptr, {});
  }
  Status remove(Vnode& dvp, Vnode& vp, const ComponentName& cn) override {
    return name_op<PuffsOp::remove>(dvp, vp, cn);
  }
  Status link(Vnode& dvp, Vnode& vp, const ComponentName& cn) override {
    return name_op<PuffsOp::link>(dvp, vp, cn);
  }
  Status rmdir(Vnode& dvp, Vnode& vp, const ComponentName& cn) override {
    return name_op<PuffsOp::rmdir>(dvp, vp, cn);
  }
  Status rename(Vnode& fdvp, Vnode& fvp, const ComponentName& fcn, Vnode& tdvp, Vnode* tvp,
                const ComponentName& tcn) override {
    PuffsMount& mp = pmp(fdvp);
    Request rq = make_req<PuffsOp::rename>(
        fdvp,
        RenameArgs{mp.node_of(fvp).cookie, std::string(fcn.name), mp.node_of(tdvp).cookie,
                   tvp != nullptr ? mp.node_of(*tvp).cookie : 0, std::string(tcn.name)},
        &fcn.cred);
    Reply rp;
    return mp.call(rq, &rp);
  }
  Status readdir(Vnode& vp, std::uint64_t cookie, std::size_t max, std::vector<vn::Dirent>* out,
                 bool* eof) override;
  Status readlink(Vnode& vp, std::string* target) override {
    Request rq = make_req<PuffsOp::readlink>(vp, {});
    Reply rp;
    VN_TRY(pmp(vp).call(rq, &rp));
    *target = std::move(rp.data);
    return vn::kOk;
  }
  Status inactive(Vnode& vp, bool* recycle) override;
  Status reclaim(Vnode& vp) override;
  Status getpages(Vnode& vp, std::uint64_t offset, std::span<std::byte> dst) override;
  Status putpages(Vnode& vp, std::uint64_t offset, std::span<const std::byte> src) override;
  Status getextattr(Vnode& vp, vn::XattrNs ns, std::string_view name, std::string* value) override {
    Request rq =
        make_req<PuffsOp::getextattr>(vp, XattrArgs{static_cast<int>(ns), std::string(name)});
    Reply rp;
    VN_TRY(pmp(vp).call(rq, &rp));
    *value = std::move(rp.data);
    return vn::kOk;
  }
  Status setextattr(Vnode& vp, vn::XattrNs ns, std::string_view name, std::string_view value,
                    int flags) override {
    Request rq = make_req<PuffsOp::setextattr>(
        vp, SetXattrArgs{static_cast<int>(ns), flags, std::string(name), std::string(value)});
    Reply rp;
    return pmp(vp).call(rq, &rp);
  }
  Status listextattr(Vnode& vp, vn::XattrNs ns, std::vector<std::string>* names) override {
    Request rq = make_req<PuffsOp::listextattr>(vp, ListXattrArgs{static_cast<int>(ns)});
    Reply rp;
    VN_TRY(pmp(vp).call(rq, &rp));
    // Added to, not replaced: listxattr(2) gathers both namespaces in one list.
    for (auto& n : rp.names) names->push_back(std::move(n));
    return vn::kOk;
  }
  Status deleteextattr(Vnode& vp, vn::XattrNs ns, std::string_view name) override {
    Request rq =
        make_req<PuffsOp::deleteextattr>(vp, XattrArgs{static_cast<int>(ns), std::string(name)});
    Reply rp;
    return pmp(vp).call(rq, &rp);
  }
};

// VOP_GETATTR ran on an unlocked vnode in the kernel PERFUSE met; vfsim's VFS
// calls it with a shared vnode lock, so the stub gives a shared lock up while
// the request is out, as that kernel effectively did, and takes it back
// before returning. The size lock (when on) is taken after the vnode lock is
// given up and dropped before it is taken again, so it never waits for a
// vnode lock while held: no lock-order cycle with write(). Without the vnode
// lock a forced unmount may reclaim the vnode meanwhile (fetch_attr notices),
// so the node's memory, which holds the size lock, is kept by a reference.
Status PuffsVnodeOps::getattr(Vnode& vp, vn::Vattr* va) {
  PuffsMount& mp = pmp(vp);
  const std::shared_ptr<PuffsVnode> node = mp.node_ref(vp);
  const bool drop_vnode_lock = !vn::vn_locked_exclusive(vp);
  if (drop_vnode_lock) vn::vn_unlock(vp);
  Status s;
  {
    SizeGuard g(mp, *node);
    s = fetch_attr(mp, vp, va);
  }
  if (drop_vnode_lock) vn::vn_lock(vp, false);
  return s;
}

Status PuffsVnodeOps::setattr(Vnode& vp, const vn::SetAttr& sa, const vn::Cred& cred) {
  PuffsMount& mp = pmp(vp);
  PuffsVnode& n = mp.node_of(vp);
  SizeGuard g(mp, n);
  Request rq = make_req<PuffsOp::setattr>(vp, SetattrArgs{sa}, &cred);
  Reply rp;
  VN_TRY(mp.call(rq, &rp));
  apply_attr(n, vp, rp.va, /*size_from_server=*/sa.size.has_value());
  if (n.obj != nullptr && sa.size) VN_TRY(Status(mp.options().pager->truncate(*n.obj, *sa.size)));
  return vn::kOk;
}

Status PuffsVnodeOps::read(Vnode& vp, std::uint64_t offset, std::size_t len, std::string* out,
                           int ioflag) {
  PuffsVnode& n = pmp(vp).node_of(vp);
  if (n.obj != nullptr) {
    if (offset >= n.attr.size) return vn::kOk;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(len, n.attr.size - offset));
    std::string buf(want, '\0');
    VN_TRY(pmp(vp).options().pager->read(
        *n.obj, offset, std::as_writable_bytes(std::span(buf.data(), buf.size()))));
    out->append(buf);
    return vn::kOk;
  }
  // As a kernel splits I/O by the largest transfer (NetBSD's PUFFS_TOMOVE):
  // one READ per max_io bytes, until a short one (the end of the file).
  const std::size_t chunk = std::max<std::size_t>(pmp(vp).options().max_io, 1);
  std::size_t done = 0;
  while (done < len) {
    const std::size_t want = std::min(chunk, len - done);
    Request rq = make_req<PuffsOp::read>(vp, ReadArgs{offset + done, want, ioflag});
    Reply rp;
    Status s = pmp(vp).call(rq, &rp);
    if (!s.ok()) return done == 0 ? s : vn::kOk;  // what was read stands
    if (rp.data.size() > want) {
      pmp(vp).machine().event("puffs_bad_reply", describe(rp.h) + ": more bytes than asked");
      return Status(EPROTO);
    }
    out->append(rp.data);
    done += rp.data.size();
    if (rp.data.size() < want) break;
  }
  return vn::kOk;
}

// An append writes at the size the kernel has cached: when a stale GETATTR
// reply shrank it, the write lands on top of bytes already written.
// A short write is the server's to say: the reply names where the write
// ended (untrusted: anything outside the request's range is EPROTO); the
// page cache's write stops at the first page it cannot get.
Status PuffsVnodeOps::write(Vnode& vp, std::uint64_t* offset, std::string_view data, int ioflag,
                            std::size_t* written) {
  PuffsMount& mp = pmp(vp);
  PuffsVnode& n = mp.node_of(vp);
  SizeGuard g(mp, n);
  if (ioflag & vn::kIoAppend) {
    if (!n.attr_valid) {
      vn::Vattr va;
      VN_TRY(fetch_attr(mp, vp, &va));
    }
    *offset = n.attr.size;
  }
  if (n.obj != nullptr) {
    // Write-back: into the page cache; PUTPAGES carries it to the server.
    std::size_t done = 0;
    const auto bytes = std::as_bytes(std::span(data.data(), data.size()));
    const Status e = mp.options().pager->write(*n.obj, *offset, bytes, pager::KM_SLEEP, &done);
    n.attr.size = std::max(n.attr.size, *offset + done);
    *offset += done;
    *written = done;
    if (done == 0) return e;
    // The bytes reach the server later, as PUTPAGES: the privilege bits
    // are cleared now, as a SETATTR.
    if ((ioflag & vn::kIoKillPriv) != 0 && !n.attr_valid) {
      vn::Vattr va;
      (void)fetch_attr(mp, vp, &va);  // the bytes are written whatever it answers
    }
    if (const std::uint32_t kill = vn::kill_priv_bits(n.attr.mode, ioflag); kill != 0) {
      SetattrArgs kill_args;
      kill_args.sa.mode = n.attr.mode & ~kill;
      Request sr = make_req<PuffsOp::setattr>(vp, std::move(kill_args));
      Reply srp;
      if (mp.call(sr, &srp).ok()) apply_attr(n, vp, srp.va, /*size_from_server=*/false);
    }
    return vn::kOk;
  }
  // One WRITE per max_io bytes (a message the transport and the server can
  // take), under the size lock throughout; a short or failed one ends it.
  const std::size_t chunk = std::max<std::size_t>(mp.options().max_io, 1);
  *written = 0;
  do {
    const std::string_view piece = data.substr(*written, chunk);
    const std::uint64_t at = *offset;
    Request rq =
        make_req<PuffsOp::write>(vp, WriteArgs{at, ioflag & ~vn::kIoAppend, std::string(piece)});
    Reply rp;
    Status s = mp.call(rq, &rp);
    if (!s.ok()) return *written == 0 ? s : vn::kOk;
    if (vp.data == nullptr) return Status(ENXIO);
    if (rp.offset < at || rp.offset - at > piece.size()) {
      mp.machine().event("puffs_bad_reply", describe(rp.h) + ": write ended at " +
                                                std::to_string(rp.offset) +
                                                ", outside the request");
      return Status(EPROTO);
    }
    const auto wrote = static_cast<std::size_t>(rp.offset - at);
    *written += wrote;
    *offset = rp.offset;
    n.attr.size = std::max(n.attr.size, *offset);
    if (wrote != 0) n.attr.mode &= ~vn::kill_priv_bits(n.attr.mode, ioflag);  // as the server did
    if (wrote < piece.size()) break;
  } while (*written < data.size());
  return *written != 0 || data.empty() ? vn::kOk : Status(EIO);
}

Status PuffsVnodeOps::readdir(Vnode& vp, std::uint64_t cookie, std::size_t max,
                              std::vector<vn::Dirent>* out, bool* eof) {
  Request rq = make_req<PuffsOp::readdir>(vp, ReaddirArgs{cookie, max});
  Reply rp;
  VN_TRY(pmp(vp).call(rq, &rp));
  if (rp.dirents.size() > max) {
    pmp(vp).machine().event("puffs_bad_reply", describe(rp.h) + ": more entries than asked");
    return Status(EPROTO);
  }
  for (auto& d : rp.dirents) out->push_back(std::move(d));
  *eof = rp.flag;
  return vn::kOk;
}

// INACTIVE cannot fail (the vcache asserts it): whatever the server answers,
// or if it dies while the request is out, the kernel goes on; a vnode of a
// dead mount is always recycled.
Status PuffsVnodeOps::inactive(Vnode& vp, bool* recycle) {
  PuffsMount& mp = pmp(vp);
  *recycle = mp.dead();
  if (mp.dead()) return vn::kOk;
  Request rq = make_req<PuffsOp::inactive>(vp, {});
  Reply rp;
  Status s = mp.call(rq, &rp);
  *recycle = mp.dead() || (s.ok() && rp.flag);
  return vn::kOk;
}

// RECLAIM tells the server it may forget the cookie, unless it handed the
// cookie out more often than this vnode heard (nlookup, puffs.reclaim_nlookup);
// whatever it answers, the kernel forgets the node (a reclaim cannot fail).
Status PuffsVnodeOps::reclaim(Vnode& vp) {
  PuffsMount& mp = pmp(vp);
  if (PuffsVnode& n = mp.node_of(vp); n.obj != nullptr && !mp.dead()) {
    (void)mp.options().pager->fsync(*n.obj);  // a write-back error has no one left to tell
  }
  if (!mp.dead()) {
    ReclaimArgs args;
    if (mp.options().reclaim_nlookup) {
      args.nlookup = static_cast<std::int64_t>(mp.node_of(vp).nlookup);
    }
    Request rq = make_req<PuffsOp::reclaim>(vp, args);
    Reply rp;
    (void)mp.call(rq, &rp);
  }
  mp.drop_node(vp);
  return vn::kOk;
}

// Page-in (VnodePager, inside a read or write that holds the vnode lock): a
// READ of whole pages straight to the server; the tail past the end of file
// reads zeros.
Status PuffsVnodeOps::getpages(Vnode& vp, std::uint64_t offset, std::span<std::byte> dst) {
  PuffsMount& mp = pmp(vp);
  Request rq = make_request<PuffsOp::read>(mp.node_of(vp).cookie, ReadArgs{offset, dst.size(), 0});
  Reply rp;
  VN_TRY(mp.call(rq, &rp));
  if (rp.data.size() > dst.size()) return Status(EPROTO);
  std::fill(dst.begin(), dst.end(), std::byte{0});
  std::copy_n(reinterpret_cast<const std::byte*>(rp.data.data()), rp.data.size(), dst.begin());
  return vn::kOk;
}

// Page-out (fsync, the syncer, or the pagedaemon, through VnodePager and
// without the vnode lock): a PUTPAGES message, whose memory comes from kmem
// with KM_SLEEP — in the pagedaemon's context that is PERFUSE's deadlock
// unless pager.pagedaemon_nosleep turns it into a failure (ENOMEM: the pager
// keeps the page dirty and retries later). Nothing past the kernel's size of
// the file is sent. The node stays while the object does (reclaim destroys
// the object before dropping the node).
Status PuffsVnodeOps::putpages(Vnode& vp, std::uint64_t offset, std::span<const std::byte> src) {
  PuffsMount& mp = pmp(vp);
  PuffsVnode& n = mp.node_of(vp);
  if (offset >= n.attr.size) return vn::kOk;
  const auto len =
      static_cast<std::size_t>(std::min<std::uint64_t>(src.size(), n.attr.size - offset));
  Request rq = make_request<PuffsOp::putpages>(
      n.cookie, PutpagesArgs{offset, std::string(reinterpret_cast<const char*>(src.data()), len)});
  Reply rp;
  return mp.call(rq, &rp);
}

vn::VnodeOps& puffs_vnode_ops() {
  static PuffsVnodeOps ops;  // stateless: every op reaches its mount through the vnode
  return ops;
}

}  // namespace vfsim::puffs
