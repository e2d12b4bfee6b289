#include "fsdrivers/puffs/p2k.h"

#include <algorithm>
#include <cerrno>

#include "vnode/vnode_if.h"

namespace vfsim::puffs {

using vn::Status;
using vn::Vnode;

namespace {

struct P2kNode : PuffsNode {
  Vnode* vp = nullptr;  // one use reference, dropped at RECLAIM
};

Vnode* vnode_of(PuffsNode* n) { return n == nullptr ? nullptr : static_cast<P2kNode*>(n)->vp; }
Vnode& vnode_of(OpCtx& c) { return *static_cast<P2kNode&>(c.node).vp; }

// Locks a vnode for the length of a scope.
class Locked {
 public:
  Locked(Vnode& vp, bool exclusive) : vp_(vp) { vn::vn_lock(vp, exclusive); }
  ~Locked() noexcept(false) { vn::vn_unlock(vp_); }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

 private:
  Vnode& vp_;
};

// The namespace of an xattr request comes off the wire: check it.
bool ns_ok(std::int32_t ns) {
  return ns == static_cast<int>(vn::XattrNs::user) || ns == static_cast<int>(vn::XattrNs::system);
}

}  // namespace

P2k::P2k(sim::Machine& m, std::unique_ptr<vn::FileSystem> fs, std::uint32_t mount_id)
    : vcache_(m, 1024) {
  mount_ = std::make_unique<vn::Mount>(m, mount_id, std::move(fs));
  mount_->fs().bind(*mount_, vcache_);
  mount_->path = "p2k:" + std::string(mount_->fs().type_name());
}

P2k::~P2k() = default;

Status P2k::attach(Server& server) {
  auto root = vcache_.get(*mount_, mount_->fs().root_key());
  if (!root.ok()) return root.status();
  auto n = std::make_unique<P2kNode>();
  n->key = (*root)->key();
  n->vp = *root;
  server.set_root(std::move(n));
  return vn::kOk;
}

void P2k::detach(Server& server) {
  if (detached_) return;
  detached_ = true;
  for (std::uint64_t c : server.nodes().cookies()) {
    if (Vnode* vp = vnode_of(server.nodes().find(c))) vcache_.vrele(*vp);
    server.nodes().remove(c);
  }
  (void)vcache_.flush(*mount_, /*force=*/false);
  (void)mount_->fs().unmount(false);
}

// Turns a VOP's result vnode into a cookie: the node a file already has, or
// a new one holding the reference the VOP returned. The attributes are read
// first: the cookie is chosen last, with no scheduling point before the
// return, so the framework counts the reply before any RECLAIM of that node
// can run on another worker (puffs_server.h). The vrele of a node's file is
// never the last reference there: the node holds one.
Status P2k::answer_node(OpCtx& c, Status s, Vnode* vp, Reply* rp) {
  if (!s.ok()) return s;
  {
    Locked l(*vp, false);
    s = vn::vop_getattr(*vp, &rp->va);
  }
  if (!s.ok()) {
    vcache_.vrele(*vp);
    return s;
  }
  NodeMap& nodes = c.server.nodes();
  std::optional<std::uint64_t> cookie = nodes.cookie_of_key(vp->key());
  if (cookie) {
    vcache_.vrele(*vp);  // the node holds its own reference already
    vp = vnode_of(nodes.find(*cookie));
  } else {
    auto n = std::make_unique<P2kNode>();
    n->key = vp->key();
    n->vp = vp;
    cookie = nodes.add(std::move(n));
  }
  rp->new_cookie = *cookie;
  rp->new_type = vp->type;
  return vn::kOk;
}

Status P2k::statvfs(OpCtx&, const NoArgs&, Reply* rp) { return mount_->fs().statvfs(&rp->st); }
Status P2k::sync(OpCtx&, const NoArgs&, Reply*) { return mount_->fs().sync(); }
// Every kernel vnode is reclaimed by the time UNMOUNT comes: let go of the
// backend, as a rump file server unmounts its kernel file system and exits.
Status P2k::unmount(OpCtx& c, const NoArgs&, Reply*) {
  detach(c.server);
  return vn::kOk;
}

Status P2k::lookup(OpCtx& c, const LookupArgs& a, Reply* rp) {
  Vnode& dvp = vnode_of(c);
  Vnode* vp = nullptr;
  Status s;
  {
    Locked l(dvp, false);
    s = vn::vop_lookup(dvp, vn::ComponentName{a.name, c.rq.h.cred}, &vp);
  }
  return answer_node(c, s, vp, rp);
}

#define VFSIM_P2K_MAKE(op, args, call)                 \
  Status P2k::op(OpCtx& c, const args& a, Reply* rp) { \
    Vnode& dvp = vnode_of(c);                          \
    Vnode* vp = nullptr;                               \
    Status s;                                          \
    {                                                  \
      Locked l(dvp, true);                             \
      const vn::ComponentName cn{a.name, c.rq.h.cred}; \
      s = call;                                        \
    }                                                  \
    return answer_node(c, s, vp, rp);                  \
  }
VFSIM_P2K_MAKE(create, MakeArgs, vn::vop_create(dvp, cn, a.va, &vp))
VFSIM_P2K_MAKE(mknod, MakeArgs, vn::vop_mknod(dvp, cn, a.va, &vp))
VFSIM_P2K_MAKE(mkdir, MakeArgs, vn::vop_mkdir(dvp, cn, a.va, &vp))
VFSIM_P2K_MAKE(symlink, SymlinkArgs, vn::vop_symlink(dvp, cn, a.va, a.target, &vp))
#undef VFSIM_P2K_MAKE

Status P2k::open(OpCtx& c, const OpenArgs& a, Reply*) {
  Locked l(vnode_of(c), false);
  return vn::vop_open(vnode_of(c), a.fflags, c.rq.h.cred);
}
Status P2k::close(OpCtx& c, const OpenArgs& a, Reply*) {
  Locked l(vnode_of(c), false);
  return vn::vop_close(vnode_of(c), a.fflags, c.rq.h.cred);
}
Status P2k::access(OpCtx& c, const AccessArgs& a, Reply*) {
  Locked l(vnode_of(c), false);
  return vn::vop_access(vnode_of(c), a.acc, c.rq.h.cred);
}
Status P2k::getattr(OpCtx& c, const NoArgs&, Reply* rp) {
  Locked l(vnode_of(c), false);
  return vn::vop_getattr(vnode_of(c), &rp->va);
}
Status P2k::setattr(OpCtx& c, const SetattrArgs& a, Reply* rp) {
  Locked l(vnode_of(c), true);
  VN_TRY(vn::vop_setattr(vnode_of(c), a.sa, c.rq.h.cred));
  return vn::vop_getattr(vnode_of(c), &rp->va);
}
Status P2k::read(OpCtx& c, const ReadArgs& a, Reply* rp) {
  Locked l(vnode_of(c), false);
  return vn::vop_read(vnode_of(c), a.offset, a.len, &rp->data, a.ioflag);
}
Status P2k::write(OpCtx& c, const WriteArgs& a, Reply* rp) {
  Locked l(vnode_of(c), true);
  std::uint64_t off = a.offset;
  std::size_t written = 0;
  VN_TRY(vn::vop_write(vnode_of(c), &off, a.data, a.ioflag, &written));
  rp->offset = off;  // short by what the file system could not write
  return vn::kOk;
}
// Page-out: the kernel trimmed the pages to its size of the file (which may
// be ahead of the server's), so the bytes are written as they come.
Status P2k::putpages(OpCtx& c, const PutpagesArgs& a, Reply*) {
  Vnode& vp = vnode_of(c);
  Locked l(vp, true);
  std::uint64_t off = a.offset;
  std::string_view rest = a.data;
  // A short write stops where the file system could not go on; writing the
  // rest again gets the errno that stopped it (a page-out is all or error).
  while (!rest.empty()) {
    std::size_t written = 0;
    VN_TRY(vn::vop_write(vp, &off, rest, 0, &written));
    rest.remove_prefix(written);
  }
  return vn::kOk;
}
Status P2k::fsync(OpCtx& c, const NoArgs&, Reply*) {
  Locked l(vnode_of(c), true);
  return vn::vop_fsync(vnode_of(c));
}

#define VFSIM_P2K_NAMEOP(op, vop)                                 \
  Status P2k::op(OpCtx& c, const NodeNameArgs& a, Reply*) {       \
    Vnode* vp = vnode_of(c.other(a.node));                        \
    if (vp == nullptr) return Status(EIO);                        \
    Vnode& dvp = vnode_of(c);                                     \
    Locked ld(dvp, true);                                         \
    Locked lv(*vp, true);                                         \
    return vop(dvp, *vp, vn::ComponentName{a.name, c.rq.h.cred}); \
  }
VFSIM_P2K_NAMEOP(remove, vn::vop_remove)
VFSIM_P2K_NAMEOP(rmdir, vn::vop_rmdir)
VFSIM_P2K_NAMEOP(link, vn::vop_link)
#undef VFSIM_P2K_NAMEOP

// The kernel holds its rename lock and all four vnodes locked while this
// runs, so the backend sees the same shape; the backend's own rename lock
// serialises p2k renames among its workers (lock order (1) before (2)).
Status P2k::rename(OpCtx& c, const RenameArgs& a, Reply*) {
  Vnode* fvp = vnode_of(c.other(a.from_node));
  Vnode* tdvp = vnode_of(c.other(a.to_dir));
  Vnode* tvp = a.to_node != 0 ? vnode_of(c.other(a.to_node)) : nullptr;
  if (fvp == nullptr || tdvp == nullptr || (a.to_node != 0 && tvp == nullptr)) return Status(EIO);
  Vnode& fdvp = vnode_of(c);
  sim::MutexGuard rl(mount_->rename_lock);
  std::vector<Vnode*> order = {&fdvp};
  if (tdvp != &fdvp) order.push_back(tdvp);
  for (Vnode* v : {fvp, tvp}) {
    if (v != nullptr && std::find(order.begin(), order.end(), v) == order.end()) order.push_back(v);
  }
  for (Vnode* v : order) vn::vn_lock(*v, true);
  Status s = vn::vop_rename(fdvp, *fvp, vn::ComponentName{a.from_name, c.rq.h.cred}, *tdvp, tvp,
                            vn::ComponentName{a.to_name, c.rq.h.cred});
  for (auto it = order.rbegin(); it != order.rend(); ++it) vn::vn_unlock(**it);
  return s;
}
Status P2k::readdir(OpCtx& c, const ReaddirArgs& a, Reply* rp) {
  Locked l(vnode_of(c), false);
  return vn::vop_readdir(vnode_of(c), a.cookie, a.max, &rp->dirents, &rp->flag);
}
Status P2k::readlink(OpCtx& c, const NoArgs&, Reply* rp) {
  Locked l(vnode_of(c), false);
  return vn::vop_readlink(vnode_of(c), &rp->data);
}
// The kernel's last reference went: recycle if the file has no names left.
Status P2k::inactive(OpCtx& c, const NoArgs&, Reply* rp) {
  Locked l(vnode_of(c), false);
  vn::Vattr va;
  VN_TRY(vn::vop_getattr(vnode_of(c), &va));
  rp->flag = va.nlink == 0;
  return vn::kOk;
}
Status P2k::reclaim(OpCtx& c, const ReclaimArgs&, Reply*) {
  vcache_.vrele(vnode_of(c));
  static_cast<P2kNode&>(c.node).vp = nullptr;
  return vn::kOk;
}
Status P2k::getextattr(OpCtx& c, const XattrArgs& a, Reply* rp) {
  if (!ns_ok(a.ns)) return Status(EINVAL);
  Locked l(vnode_of(c), false);
  return vn::vop_getextattr(vnode_of(c), static_cast<vn::XattrNs>(a.ns), a.name, &rp->data);
}
Status P2k::setextattr(OpCtx& c, const SetXattrArgs& a, Reply*) {
  if (!ns_ok(a.ns)) return Status(EINVAL);
  Locked l(vnode_of(c), true);
  return vn::vop_setextattr(vnode_of(c), static_cast<vn::XattrNs>(a.ns), a.name, a.value, a.flags);
}
Status P2k::listextattr(OpCtx& c, const ListXattrArgs& a, Reply* rp) {
  if (!ns_ok(a.ns)) return Status(EINVAL);
  Locked l(vnode_of(c), false);
  return vn::vop_listextattr(vnode_of(c), static_cast<vn::XattrNs>(a.ns), &rp->names);
}
Status P2k::deleteextattr(OpCtx& c, const XattrArgs& a, Reply*) {
  if (!ns_ok(a.ns)) return Status(EINVAL);
  Locked l(vnode_of(c), true);
  return vn::vop_deleteextattr(vnode_of(c), static_cast<vn::XattrNs>(a.ns), a.name);
}

}  // namespace vfsim::puffs
