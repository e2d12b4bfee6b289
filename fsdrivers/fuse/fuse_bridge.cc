#include "fsdrivers/fuse/fuse_bridge.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <type_traits>
#include <variant>

namespace vfsim::fuse {

using puffs::OpCtx;
using puffs::Reply;
using vn::Status;

struct FuseBridge::Node : puffs::PuffsNode {
  std::uint64_t nodeid = 0;
  std::uint64_t ordinal = 0;
  vn::VType type = vn::VType::VNON;
  std::uint64_t fuse_nlookup = 0;  // entry replies since the last FORGET
  std::optional<std::uint64_t> rfh, wfh, dfh;
  std::uint64_t parent_cookie = 0;
  bool removed = false;
  std::unique_ptr<sim::Mutex> size_lock;
  // RELEASEs sent in the background and not answered yet; FORGET waits.
  std::uint32_t releases_out = 0;
  std::unique_ptr<sim::WaitChannel> releases_done;
};

struct FuseBridge::Entry {
  std::uint64_t nodeid = 0;
  vn::Vattr va;
};

namespace {

constexpr std::uint32_t kChunk = 128 * 1024;  // READ size per request

// Holds a node's size lock when fuse.size_serialise is on.
class SizeGuard {
 public:
  explicit SizeGuard(sim::Mutex* m) : m_(m) {
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

bool has_linux_prefix(std::string_view n) {
  for (std::string_view p : {"user.", "trusted.", "system.", "security."}) {
    if (n.substr(0, p.size()) == p) return true;
  }
  return false;
}

bool is_system_name(std::string_view n) {
  for (std::string_view p : {"trusted.", "system.", "security."}) {
    if (n.substr(0, p.size()) == p) return true;
  }
  return false;
}

// Access check from the mode bits, for a daemon without ACCESS.
Status access_from_mode(const vn::Vattr& va, int acc, const vn::Cred& cred) {
  if (cred.is_root()) {
    if ((acc & vn::kAccExec) && va.type != vn::VType::VDIR && (va.mode & 0111) == 0)
      return Status(EACCES);
    return vn::kOk;
  }
  std::uint32_t bits = va.mode & 07;
  if (cred.uid == va.uid) bits = (va.mode >> 6) & 07;
  else if (cred.groupmember(va.gid)) bits = (va.mode >> 3) & 07;
  const auto want = static_cast<std::uint32_t>(acc & 07);
  return (bits & want) == want ? vn::kOk : Status(EACCES);
}

}  // namespace

FuseBridge::FuseBridge(sim::Machine& m, FuseConn& conn, BridgeOptions options)
    : m_(m), conn_(conn), options_(std::move(options)) {}

FuseBridge::~FuseBridge() = default;

std::uint64_t FuseBridge::ordinal_of(std::uint64_t nodeid) {
  auto [it, fresh] = ordinals_.emplace(nodeid, next_ordinal_);
  if (fresh) ++next_ordinal_;
  return it->second;
}

std::string FuseBridge::fh_label(std::uint64_t fh) {
  auto [it, fresh] = fh_ordinals_.emplace(fh, next_fh_ordinal_);
  if (fresh) ++next_fh_ordinal_;
  return "fh#" + std::to_string(it->second);
}

// The fh ledger: every fh the daemon handed out (a daemon may hand out one
// value many times: hello_ll's are all 0) is released as often as it was
// handed out; never more (that would be this bridge's bug).
void FuseBridge::fh_opened(std::uint64_t fh) {
  (void)fh_label(fh);
  ++fh_ledger_[fh_ordinals_.at(fh)].looked_up;
}

void FuseBridge::fh_released(std::uint64_t fh) {
  (void)fh_label(fh);
  Ledger& l = fh_ledger_[fh_ordinals_.at(fh)];
  ++l.forgotten;
  VFSIM_KASSERT(
      m_, l.forgotten <= l.looked_up,
      "fuse '" + options_.name + "': " + fh_label(fh) + " released more often than opened");
}

FuseBridge::Node& FuseBridge::node(OpCtx& c) { return static_cast<Node&>(c.node); }

FuseBridge::Node* FuseBridge::other(OpCtx& c, std::uint64_t cookie) {
  return static_cast<Node*>(c.other(cookie));
}

Caller FuseBridge::caller(const OpCtx& c) const {
  return Caller{c.rq.h.cred.uid, c.rq.h.cred.gid, c.rq.h.pid};
}

vn::Result<std::string> FuseBridge::call(std::uint32_t opcode, std::uint64_t nodeid,
                                         std::string_view body, const Caller& who) {
  return conn_.call(opcode, nodeid, body, who);
}

Status FuseBridge::bad(std::string_view what, const DecodeError& e) {
  const std::string text =
      "fuse '" + options_.name + "': bad " + std::string(what) + " reply from the daemon: " + e.why;
  m_.event("fuse_bad_reply", text);
  if (conn_.options().fatal_protocol_errors) m_.fail(sim::Outcome::protocol, text);
  return Status(e.err);
}

vn::Result<FuseBridge::Entry> FuseBridge::entry_of(std::string_view body, std::string_view what) {
  auto e = decode_entry(body, conn_.proto().minor);
  if (!e.ok()) return vn::Status(bad(what, e.error));
  if (e->negative()) return vn::Status(ENOENT);
  return Entry{e->nodeid, e->attr.va};
}

// Chooses the cookie for a node an entry reply named, counting the reply
// (and `extra` earlier replies that named it: CREATE's fallback MKNOD) in
// the ledger and on the node. No scheduling point between the choice and
// the return (puffs_server.h).
Status FuseBridge::answer_node(OpCtx& c, const Entry& e, Reply* rp,
                               std::optional<std::uint64_t> wfh, std::uint64_t extra) {
  const std::uint64_t ord = ordinal_of(e.nodeid);
  const std::uint64_t replies = 1 + extra;
  ledger_[ord].looked_up += replies;
  puffs::NodeMap& nodes = c.server.nodes();
  Node* n = nullptr;
  if (auto cookie = nodes.cookie_of_key(ord)) {
    n = static_cast<Node*>(nodes.find(*cookie));
    n->fuse_nlookup += replies;
    if (n->type != e.va.type) {
      m_.event("fuse_stale_node", options_.name + ": node#" + std::to_string(ord) +
                                      " changed type from " + vn::vtype_name(n->type) + " to " +
                                      vn::vtype_name(e.va.type));
      return Status(EIO);
    }
    rp->new_cookie = *cookie;
  } else {
    auto fresh = std::make_unique<Node>();
    fresh->key = ord;
    fresh->nodeid = e.nodeid;
    fresh->ordinal = ord;
    fresh->type = e.va.type;
    fresh->fuse_nlookup = replies;
    fresh->parent_cookie = c.rq.h.cookie;
    n = fresh.get();
    rp->new_cookie = nodes.add(std::move(fresh));
  }
  if (wfh && !n->wfh) n->wfh = wfh;
  rp->new_type = e.va.type;
  rp->va = e.va;
  return vn::kOk;
}

vn::Status FuseBridge::attach(puffs::Server& server) {
  server_ = &server;
  Caller root;
  auto a = call(FUSE_GETATTR, kRootNodeId, body_getattr(conn_.proto().minor, 0, 0), root);
  if (!a.ok()) return a.status();
  auto attr = decode_attr_out(*a, conn_.proto().minor);
  if (!attr.ok()) return vn::Status(bad("root GETATTR", attr.error));
  if (attr->va.type != vn::VType::VDIR) return vn::Status(ENOTDIR);
  auto n = std::make_unique<Node>();
  n->nodeid = kRootNodeId;
  n->ordinal = ordinal_of(kRootNodeId);
  n->key = n->ordinal;
  n->type = vn::VType::VDIR;
  root_cookie_ = server.set_root(std::move(n));
  return vn::kOk;
}

std::vector<std::string> FuseBridge::leaks() const {
  std::vector<std::string> out;
  const auto root = ordinals_.find(kRootNodeId);
  for (const auto& [ord, l] : ledger_) {
    if (root != ordinals_.end() && ord == root->second) continue;
    if (l.looked_up != l.forgotten) {
      out.push_back("fuse '" + options_.name + "' node#" + std::to_string(ord) + " looked up " +
                    std::to_string(l.looked_up) + " times, forgotten " +
                    std::to_string(l.forgotten));
    }
  }
  for (const auto& [ord, l] : fh_ledger_) {
    if (l.looked_up != l.forgotten) {
      out.push_back("fuse '" + options_.name + "' fh#" + std::to_string(ord) + " opened " +
                    std::to_string(l.looked_up) + " times, released " +
                    std::to_string(l.forgotten));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Notifications (the daemon's writev, in its lwp)

std::optional<std::uint64_t> FuseBridge::cookie_of_nodeid(std::uint64_t nodeid) const {
  if (server_ == nullptr) return std::nullopt;
  if (nodeid == kRootNodeId) return root_cookie_;
  auto it = ordinals_.find(nodeid);
  if (it == ordinals_.end()) return std::nullopt;
  return server_->nodes().cookie_of_key(it->second);
}

int FuseBridge::notify(const Notification& n) {
  const std::string_view kind = std::visit(
      [](const auto& v) -> std::string_view {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, NotifyPoll>) return "POLL";
        else if constexpr (std::is_same_v<T, NotifyInvalInode>) return "INVAL_INODE";
        else if constexpr (std::is_same_v<T, NotifyInvalEntry>) return "INVAL_ENTRY";
        else if constexpr (std::is_same_v<T, NotifyStore>) return "STORE";
        else if constexpr (std::is_same_v<T, NotifyRetrieve>) return "RETRIEVE";
        else return "DELETE";
      },
      n);
  m_.event("fuse_notify", options_.name + ": " + std::string(kind));
  if (const auto* r = std::get_if<NotifyRetrieve>(&n)) {
    std::string data;
    if (kernel_ != nullptr) {
      if (auto cookie = cookie_of_nodeid(r->nodeid)) {
        if (const sim::Status e = kernel_->retrieve(*cookie, r->offset, r->size, &data); !e.ok()) {
          return e.err();
        }
      } else {
        return ENOENT;
      }
    }
    conn_.answer_retrieve(*r, data);
    return 0;
  }
  if (kernel_ == nullptr || std::holds_alternative<NotifyPoll>(n)) return 0;
  if (const auto* x = std::get_if<NotifyInvalInode>(&n)) {
    auto cookie = cookie_of_nodeid(x->ino);
    return cookie ? kernel_->inval_node(*cookie, x->off, x->len).err() : ENOENT;
  }
  if (const auto* x = std::get_if<NotifyInvalEntry>(&n)) {
    auto dir = cookie_of_nodeid(x->parent);
    return dir ? kernel_->inval_entry(*dir, x->name, std::nullopt).err() : ENOENT;
  }
  if (const auto* x = std::get_if<NotifyStore>(&n)) {
    auto cookie = cookie_of_nodeid(x->nodeid);
    return cookie ? kernel_->store(*cookie, x->offset, x->data).err() : ENOENT;
  }
  const auto& del = std::get<NotifyDelete>(n);
  auto dir = cookie_of_nodeid(del.parent);
  if (!dir) return ENOENT;
  return kernel_->inval_entry(*dir, del.name, cookie_of_nodeid(del.child)).err();
}

// ---------------------------------------------------------------------------
// vfs ops

Status FuseBridge::statvfs(OpCtx& c, const puffs::NoArgs&, Reply* rp) {
  auto r = call(FUSE_STATFS, kRootNodeId, {}, caller(c));
  if (!r.ok()) return r.status();
  auto st = decode_statfs_out(*r);
  if (!st.ok()) return bad("STATFS", st.error);
  rp->st = *st;
  return vn::kOk;
}

Status FuseBridge::sync(OpCtx&, const puffs::NoArgs&, Reply*) { return vn::kOk; }

// Every kernel vnode is reclaimed by now; the root's handles go, then
// /dev/fuse closes (the daemon reads ENODEV and exits; no DESTROY, as for a
// non-fuseblk mount on Linux: libfuse runs destroy at session end).
Status FuseBridge::unmount(OpCtx& c, const puffs::NoArgs&, Reply*) {
  if (Node* root = static_cast<Node*>(c.server.nodes().find(root_cookie_))) {
    (void)release_all(*root);
    wait_for_releases(*root);
  }
  unmounted_ = true;
  conn_.close();
  if (options_.after_close) options_.after_close();
  m_.event("fuse_unmount", options_.name);
  return vn::kOk;
}

// ---------------------------------------------------------------------------
// Names

Status FuseBridge::lookup(OpCtx& c, const puffs::LookupArgs& a, Reply* rp) {
  Node& dir = node(c);
  const Caller who = caller(c);
  if (a.name == "..") {
    // perfused answers ".." from what it knows; the daemon need not.
    const std::uint64_t parent = dir.nodeid == kRootNodeId ? root_cookie_ : dir.parent_cookie;
    if (Node* p = other(c, parent)) {
      vn::Vattr va;
      VN_TRY(getattr_of(*p, who, &va));
      rp->new_cookie = parent;
      rp->new_type = vn::VType::VDIR;
      rp->va = va;
      return vn::kOk;
    }
  }
  auto r = call(FUSE_LOOKUP, dir.nodeid, body_name(a.name), who);
  if (!r.ok()) return r.status();
  auto e = entry_of(*r, "LOOKUP");
  if (!e.ok()) return e.status();
  return answer_node(c, *e, rp);
}

Status FuseBridge::create(OpCtx& c, const puffs::MakeArgs& a, Reply* rp) {
  Node& dir = node(c);
  const Caller who = caller(c);
  const std::uint32_t mode = S_IFREG | (a.va.mode & vn::kModeMask);
  if (!no_create_) {
    auto r =
        call(FUSE_CREATE, dir.nodeid,
             body_create(conn_.proto().minor, O_CREAT | O_EXCL | O_RDWR, mode, 0, a.name), who);
    if (r.ok()) {
      auto d = decode_create_out(*r, conn_.proto().minor);
      if (!d.ok()) return bad("CREATE", d.error);
      fh_opened(d->second.fh);
      return answer_node(c, Entry{d->first.nodeid, d->first.attr.va}, rp, d->second.fh);
    }
    if (r.err() != ENOSYS) return r.status();
    no_create_ = true;
    m_.event("fuse_create_fallback", options_.name + ": CREATE answered ENOSYS");
  }
  // perfused's fallback: MKNOD, then LOOKUP, then OPEN.
  auto mk = call(FUSE_MKNOD, dir.nodeid, body_mknod(conn_.proto().minor, mode, 0, 0, a.name), who);
  if (!mk.ok()) return mk.status();
  auto made = entry_of(*mk, "MKNOD");
  if (!made.ok()) return made.status();
  auto lk = call(FUSE_LOOKUP, dir.nodeid, body_name(a.name), who);
  if (!lk.ok()) return lk.status();
  auto e = entry_of(*lk, "LOOKUP");
  if (!e.ok()) return e.status();
  std::optional<std::uint64_t> fh;
  auto op = call(FUSE_OPEN, e->nodeid, body_open(O_RDWR), who);
  if (op.ok()) {
    auto o = decode_open_out(*op);
    if (!o.ok()) return bad("OPEN", o.error);
    fh_opened(o->fh);
    fh = o->fh;
  }
  if (made->nodeid != e->nodeid) {  // MKNOD and LOOKUP disagree: give MKNOD's back now
    const std::uint64_t ord = ordinal_of(made->nodeid);
    ++ledger_[ord].looked_up;
    ++ledger_[ord].forgotten;
    (void)conn_.send_noreply(FUSE_FORGET, made->nodeid, body_forget(1), Caller{});
    return answer_node(c, *e, rp, fh);
  }
  return answer_node(c, *e, rp, fh, /*extra=*/1);
}

Status FuseBridge::mknod(OpCtx& c, const puffs::MakeArgs& a, Reply* rp) {
  const std::uint32_t mode = mode_of_vtype(a.va.type) | (a.va.mode & vn::kModeMask);
  auto r =
      call(FUSE_MKNOD, node(c).nodeid,
           body_mknod(conn_.proto().minor, mode, static_cast<std::uint32_t>(a.va.rdev), 0, a.name),
           caller(c));
  if (!r.ok()) return r.status();
  auto e = entry_of(*r, "MKNOD");
  if (!e.ok()) return e.status();
  return answer_node(c, *e, rp);
}

Status FuseBridge::mkdir(OpCtx& c, const puffs::MakeArgs& a, Reply* rp) {
  auto r = call(FUSE_MKDIR, node(c).nodeid,
                body_mkdir(S_IFDIR | (a.va.mode & vn::kModeMask), 0, a.name), caller(c));
  if (!r.ok()) return r.status();
  auto e = entry_of(*r, "MKDIR");
  if (!e.ok()) return e.status();
  return answer_node(c, *e, rp);
}

Status FuseBridge::symlink(OpCtx& c, const puffs::SymlinkArgs& a, Reply* rp) {
  auto r = call(FUSE_SYMLINK, node(c).nodeid, body_symlink(a.name, a.target), caller(c));
  if (!r.ok()) return r.status();
  auto e = entry_of(*r, "SYMLINK");
  if (!e.ok()) return e.status();
  return answer_node(c, *e, rp);
}

Status FuseBridge::remove(OpCtx& c, const puffs::NodeNameArgs& a, Reply*) {
  auto r = call(FUSE_UNLINK, node(c).nodeid, body_name(a.name), caller(c));
  if (!r.ok()) return r.status();
  if (Node* victim = other(c, a.node)) victim->removed = true;
  return vn::kOk;
}

Status FuseBridge::rmdir(OpCtx& c, const puffs::NodeNameArgs& a, Reply*) {
  auto r = call(FUSE_RMDIR, node(c).nodeid, body_name(a.name), caller(c));
  if (!r.ok()) return r.status();
  if (Node* victim = other(c, a.node)) victim->removed = true;
  return vn::kOk;
}

// LINK answers an entry: one more lookup of the node linked. An entry
// naming another node is a lie the kernel has no vnode for: it is counted
// and forgotten at once.
Status FuseBridge::link(OpCtx& c, const puffs::NodeNameArgs& a, Reply*) {
  Node* target = other(c, a.node);
  if (target == nullptr) return Status(EIO);
  auto r = call(FUSE_LINK, node(c).nodeid, body_link(target->nodeid, a.name), caller(c));
  if (!r.ok()) return r.status();
  auto e = entry_of(*r, "LINK");
  if (!e.ok()) return e.status();
  if (e->nodeid == target->nodeid) {
    ++target->fuse_nlookup;
    ++ledger_[target->ordinal].looked_up;
    target->removed = false;
    return vn::kOk;
  }
  const std::uint64_t ord = ordinal_of(e->nodeid);
  ++ledger_[ord].looked_up;
  ++ledger_[ord].forgotten;
  m_.event("fuse_bad_reply", options_.name + ": LINK answered node#" + std::to_string(ord) +
                                 ", not node#" + std::to_string(target->ordinal));
  (void)conn_.send_noreply(FUSE_FORGET, e->nodeid, body_forget(1), Caller{});
  return Status(EIO);
}

Status FuseBridge::rename(OpCtx& c, const puffs::RenameArgs& a, Reply*) {
  Node* newdir = other(c, a.to_dir);
  if (newdir == nullptr) return Status(EIO);
  auto r = call(FUSE_RENAME, node(c).nodeid, body_rename(newdir->nodeid, a.from_name, a.to_name),
                caller(c));
  if (!r.ok()) return r.status();
  if (a.to_node != 0) {
    if (Node* replaced = other(c, a.to_node)) replaced->removed = true;
  }
  if (Node* moved = other(c, a.from_node)) moved->parent_cookie = a.to_dir;
  return vn::kOk;
}

// ---------------------------------------------------------------------------
// Attributes

Status FuseBridge::getattr_of(Node& n, const Caller& who, vn::Vattr* out) {
  auto r = call(FUSE_GETATTR, n.nodeid, body_getattr(conn_.proto().minor, 0, 0), who);
  if (!r.ok()) return r.status();
  auto a = decode_attr_out(*r, conn_.proto().minor);
  if (!a.ok()) return bad("GETATTR", a.error);
  if (a->va.type != n.type) {
    m_.event("fuse_stale_node",
             options_.name + ": node#" + std::to_string(n.ordinal) + " changed type");
    return Status(EIO);
  }
  *out = a->va;
  return vn::kOk;
}

namespace {
sim::Mutex* size_lock_of(sim::Machine& m, bool on, std::unique_ptr<sim::Mutex>& slot,
                         std::uint64_t ordinal) {
  if (!on) return nullptr;
  if (!slot)
    slot = std::make_unique<sim::Mutex>(m, "fuse size lock node#" + std::to_string(ordinal));
  return slot.get();
}
}  // namespace

Status FuseBridge::getattr(OpCtx& c, const puffs::NoArgs&, Reply* rp) {
  Node& n = node(c);
  SizeGuard g(size_lock_of(m_, options_.size_serialise, n.size_lock, n.ordinal));
  return getattr_of(n, caller(c), &rp->va);
}

Status FuseBridge::setattr(OpCtx& c, const puffs::SetattrArgs& args, Reply* rp) {
  Node& n = node(c);
  const vn::SetAttr& sa = args.sa;
  fuse_setattr_in in{};
  if (sa.mode) {
    in.valid |= FATTR_MODE;
    in.mode = mode_of_vtype(n.type) | (*sa.mode & vn::kModeMask);
  }
  if (sa.uid) {
    in.valid |= FATTR_UID;
    in.uid = *sa.uid;
  }
  if (sa.gid) {
    in.valid |= FATTR_GID;
    in.gid = *sa.gid;
  }
  if (sa.size) {
    in.valid |= FATTR_SIZE;
    in.size = *sa.size;
    if (n.wfh) {
      in.valid |= FATTR_FH;
      in.fh = *n.wfh;
    }
  }
  if (sa.atime) {
    in.valid |= FATTR_ATIME;
    in.atime = *sa.atime / 1'000'000'000ull;
    in.atimensec = static_cast<std::uint32_t>(*sa.atime % 1'000'000'000ull);
  }
  if (sa.mtime) {
    in.valid |= FATTR_MTIME;
    in.mtime = *sa.mtime / 1'000'000'000ull;
    in.mtimensec = static_cast<std::uint32_t>(*sa.mtime % 1'000'000'000ull);
  }
  SizeGuard g(sa.size ? size_lock_of(m_, options_.size_serialise, n.size_lock, n.ordinal)
                      : nullptr);
  auto r = call(FUSE_SETATTR, n.nodeid, body_setattr(in), caller(c));
  if (!r.ok()) return r.status();
  auto a = decode_attr_out(*r, conn_.proto().minor);
  if (!a.ok()) return bad("SETATTR", a.error);
  rp->va = a->va;
  return vn::kOk;
}

Status FuseBridge::access(OpCtx& c, const puffs::AccessArgs& a, Reply*) {
  Node& n = node(c);
  if (!no_access_) {
    auto r =
        call(FUSE_ACCESS, n.nodeid, body_access(static_cast<std::uint32_t>(a.acc & 07)), caller(c));
    if (r.ok()) return vn::kOk;
    if (r.err() != ENOSYS) return r.status();
    no_access_ = true;
    m_.event("fuse_access_emulated", options_.name + ": ACCESS answered ENOSYS");
  }
  vn::Vattr va;
  VN_TRY(getattr_of(n, caller(c), &va));
  return access_from_mode(va, a.acc, c.rq.h.cred);
}

// ---------------------------------------------------------------------------
// Open files

// The fh an op needs: an open one (a write fh serves reads too), or one
// opened now (perfused opens on demand, e.g. for a page-out after close).
vn::Result<std::uint64_t> FuseBridge::fh_for(Node& n, bool write, const Caller& who) {
  if (n.type == vn::VType::VDIR) {
    if (n.dfh) return *n.dfh;
    auto r = call(FUSE_OPENDIR, n.nodeid, body_open(O_RDONLY), who);
    if (!r.ok()) return r.status();
    auto o = decode_open_out(*r);
    if (!o.ok()) return vn::Status(bad("OPENDIR", o.error));
    fh_opened(o->fh);
    if (n.dfh) {
      fh_released(o->fh);
      // Another worker opened it meanwhile: give this one back at once.
      (void)call(FUSE_RELEASEDIR, n.nodeid, body_release(o->fh, O_RDONLY),
                 Caller{who.uid, who.gid, 0});
      return *n.dfh;
    }
    n.dfh = o->fh;
    return o->fh;
  }
  if (write && n.wfh) return *n.wfh;
  if (!write && (n.rfh || n.wfh)) return n.rfh ? *n.rfh : *n.wfh;
  auto r = call(FUSE_OPEN, n.nodeid, body_open(write ? O_WRONLY : O_RDONLY), who);
  if (!r.ok()) return r.status();
  auto o = decode_open_out(*r);
  if (!o.ok()) return vn::Status(bad("OPEN", o.error));
  fh_opened(o->fh);
  std::optional<std::uint64_t>& slot = write ? n.wfh : n.rfh;
  if (slot) {
    fh_released(o->fh);
    // Another worker opened one meanwhile: give this one back at once.
    (void)call(FUSE_RELEASE, n.nodeid, body_release(o->fh, write ? O_WRONLY : O_RDONLY),
               Caller{who.uid, who.gid, 0});
    return *slot;
  }
  slot = o->fh;
  return o->fh;
}

Status FuseBridge::open(OpCtx& c, const puffs::OpenArgs& a, Reply*) {
  Node& n = node(c);
  auto fh = fh_for(n, (a.fflags & vn::kFWrite) != 0, caller(c));
  return fh.status();
}

// puffs' CLOSE: nothing to send; the fhs live until INACTIVE.
Status FuseBridge::close(OpCtx&, const puffs::OpenArgs&, Reply*) { return vn::kOk; }

// Each fh is forgotten before its RELEASE goes out, so no path releases it
// twice. Run as the superuser, pid 0.
Status FuseBridge::release_all(Node& n) {
  const Caller kernel{0, 0, 0};
  Status first;
  auto release = [&](std::optional<std::uint64_t>& slot, std::uint32_t opcode, std::uint32_t fl) {
    if (!slot) return;
    const std::uint64_t fh = *slot;
    slot.reset();
    fh_released(fh);
    if (m_.trace().keeping()) {
      m_.note("fuse_release",
              options_.name + ": node#" + std::to_string(n.ordinal) + " " + fh_label(fh));
    }
    auto r = call(opcode, n.nodeid, body_release(fh, fl), kernel);
    if (!r.ok() && first.ok()) first = r.status();
  };
  release(n.rfh, FUSE_RELEASE, O_RDONLY);
  release(n.wfh, FUSE_RELEASE, O_WRONLY);
  release(n.dfh, FUSE_RELEASEDIR, O_RDONLY);
  return first;
}

// The fhs go in the background: the kernel goes on whatever the daemon
// says, and does not wait for it to say it.
void FuseBridge::release_in_background(Node& n) {
  const Caller kernel{0, 0, 0};
  auto release = [&](std::optional<std::uint64_t>& slot, std::uint32_t opcode, std::uint32_t fl) {
    if (!slot) return;
    const std::uint64_t fh = *slot;
    slot.reset();
    fh_released(fh);
    if (m_.trace().keeping()) {
      m_.note("fuse_release",
              options_.name + ": node#" + std::to_string(n.ordinal) + " " + fh_label(fh));
    }
    if (!n.releases_done) {
      n.releases_done = std::make_unique<sim::WaitChannel>(
          m_, "fuse releases of node#" + std::to_string(n.ordinal));
      conn_.declare_reply_wakers(*n.releases_done);
    }
    ++n.releases_out;
    Node* node = &n;
    auto s = conn_.call_async(opcode, n.nodeid, body_release(fh, fl), kernel, [node](int) {
      if (--node->releases_out == 0) node->releases_done->wakeup();
    });
    (void)s;  // a dead daemon ran the callback already (ENXIO)
  };
  release(n.rfh, FUSE_RELEASE, O_RDONLY);
  release(n.wfh, FUSE_RELEASE, O_WRONLY);
  release(n.dfh, FUSE_RELEASEDIR, O_RDONLY);
}

void FuseBridge::wait_for_releases(Node& n) {
  while (n.releases_out > 0) n.releases_done->sleep("fuse release reply");
}

Status FuseBridge::inactive(OpCtx& c, const puffs::NoArgs&, Reply* rp) {
  Node& n = node(c);
  release_in_background(n);
  rp->flag = n.removed;
  return vn::kOk;
}

Status FuseBridge::forget(Node& n) {
  if (n.nodeid == kRootNodeId || n.fuse_nlookup == 0) return vn::kOk;
  const std::uint64_t give_back = options_.forget_nlookup ? n.fuse_nlookup : 1;
  n.fuse_nlookup = 0;
  ledger_[n.ordinal].forgotten += give_back;
  return conn_.send_noreply(FUSE_FORGET, n.nodeid, body_forget(give_back), Caller{});
}

Status FuseBridge::reclaim(OpCtx& c, const puffs::ReclaimArgs&, Reply*) {
  Node& n = node(c);
  (void)release_all(n);
  wait_for_releases(n);  // the daemon may not see FORGET before those RELEASEs
  (void)forget(n);       // FORGET gets no reply; a dead daemon forgets everything anyway
  return vn::kOk;
}

Status FuseBridge::read(OpCtx& c, const puffs::ReadArgs& a, Reply* rp) {
  Node& n = node(c);
  const Caller who = caller(c);
  auto fh = fh_for(n, false, who);
  if (!fh.ok()) return fh.status();
  std::uint64_t off = a.offset;
  std::uint64_t left = a.len;
  while (left > 0) {
    const auto want = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, kChunk));
    auto r = call(FUSE_READ, n.nodeid, body_read(conn_.proto().minor, *fh, off, want, 0), who);
    if (!r.ok()) return rp->data.empty() ? r.status() : vn::kOk;
    if (r->size() > want) {
      return bad("READ", DecodeError{std::to_string(r->size()) + " bytes for a read of " +
                                         std::to_string(want),
                                     EIO});
    }
    rp->data += *r;
    if (r->size() < want) break;  // end of file (or a short read: what the daemon had)
    off += want;
    left -= want;
  }
  return vn::kOk;
}

Status FuseBridge::write_data(OpCtx& c, std::uint64_t offset, std::string_view data,
                              std::uint64_t* end) {
  Node& n = node(c);
  const Caller who = caller(c);
  SizeGuard g(size_lock_of(m_, options_.size_serialise, n.size_lock, n.ordinal));
  auto fh = fh_for(n, true, who);
  if (!fh.ok()) return fh.status();
  const std::size_t chunk = std::max<std::uint32_t>(conn_.proto().max_write, 4096);
  std::size_t done = 0;
  while (done < data.size()) {
    const std::string_view piece = data.substr(done, chunk);
    auto r = call(FUSE_WRITE, n.nodeid,
                  body_write(conn_.proto().minor, *fh, offset + done, piece, 0, O_WRONLY), who);
    if (!r.ok()) return done == 0 ? r.status() : vn::kOk;
    auto w = decode_write_out(*r, static_cast<std::uint32_t>(piece.size()));
    if (!w.ok()) return bad("WRITE", w.error);
    done += *w;
    if (*w < piece.size()) break;
  }
  *end = offset + done;
  return vn::kOk;
}

Status FuseBridge::write(OpCtx& c, const puffs::WriteArgs& a, Reply* rp) {
  return write_data(c, a.offset, a.data, &rp->offset);
}

Status FuseBridge::putpages(OpCtx& c, const puffs::PutpagesArgs& a, Reply*) {
  std::uint64_t end = 0;
  return write_data(c, a.offset, a.data, &end);
}

Status FuseBridge::fsync(OpCtx& c, const puffs::NoArgs&, Reply*) {
  Node& n = node(c);
  if (no_fsync_ || !n.wfh) return vn::kOk;
  auto r = call(FUSE_FSYNC, n.nodeid, body_fsync(*n.wfh, 0), Caller{});
  if (r.ok()) return vn::kOk;
  if (r.err() == ENOSYS) {
    no_fsync_ = true;
    return vn::kOk;
  }
  return r.status();
}

// READDIR offsets are the daemon's cookies: the kernel hands back the last
// entry's off to go on. The vfs asks for at most `max` entries.
Status FuseBridge::readdir(OpCtx& c, const puffs::ReaddirArgs& a, Reply* rp) {
  Node& n = node(c);
  const Caller who = caller(c);
  auto fh = fh_for(n, false, who);
  if (!fh.ok()) return fh.status();
  auto r =
      call(FUSE_READDIR, n.nodeid, body_read(conn_.proto().minor, *fh, a.cookie, 4096, 0), who);
  if (!r.ok()) return r.status();
  auto ents = decode_dirents(*r);
  if (!ents.ok()) return bad("READDIR", ents.error);
  if (ents->empty()) {
    rp->flag = true;
    return vn::kOk;
  }
  for (const Dirent& d : *ents) {
    if (rp->dirents.size() >= a.max) break;
    if (d.off == 0) {
      return bad("READDIR", DecodeError{"entry '" + d.name + "' has offset 0: cannot resume", EIO});
    }
    rp->dirents.push_back(vn::Dirent{d.ino, vtype_of_dirent_type(d.type), d.name, d.off});
  }
  rp->flag = false;
  return vn::kOk;
}

Status FuseBridge::readlink(OpCtx& c, const puffs::NoArgs&, Reply* rp) {
  auto r = call(FUSE_READLINK, node(c).nodeid, {}, caller(c));
  if (!r.ok()) return r.status();
  if (r->empty() || r->size() >= vn::kPathMax || r->find('\0') != std::string::npos) {
    return bad("READLINK", DecodeError{"target of " + std::to_string(r->size()) + " bytes", EIO});
  }
  rp->data = std::move(*r);
  return vn::kOk;
}

// ---------------------------------------------------------------------------
// Extended attributes (the PERFUSE paper, section 4.1)

std::string FuseBridge::xattr_name(std::int32_t ns, const std::string& name) const {
  if (has_linux_prefix(name)) return name;
  return (ns == static_cast<int>(vn::XattrNs::system) ? "system." : "user.") + name;
}

Status FuseBridge::getextattr(OpCtx& c, const puffs::XattrArgs& a, Reply* rp) {
  Node& n = node(c);
  const std::string name = xattr_name(a.ns, a.name);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto probe = call(FUSE_GETXATTR, n.nodeid, body_getxattr(name, 0), caller(c));
    if (!probe.ok()) return probe.err() == ENOSYS ? Status(EOPNOTSUPP) : probe.status();
    auto size = decode_xattr_size(*probe);
    if (!size.ok()) return bad("GETXATTR", size.error);
    if (*size == 0) {
      rp->data.clear();
      return vn::kOk;
    }
    auto r = call(FUSE_GETXATTR, n.nodeid, body_getxattr(name, *size), caller(c));
    if (!r.ok() && r.err() == ERANGE) continue;  // it grew in between: ask again
    if (!r.ok()) return r.status();
    if (r->size() > *size) {
      return bad("GETXATTR", DecodeError{"value longer than the size asked for", EIO});
    }
    rp->data = std::move(*r);
    return vn::kOk;
  }
  return Status(ERANGE);
}

Status FuseBridge::setextattr(OpCtx& c, const puffs::SetXattrArgs& a, Reply*) {
  std::uint32_t flags = 0;
  if (a.flags & vn::kXattrCreate) flags |= XATTR_CREATE;
  if (a.flags & vn::kXattrReplace) flags |= XATTR_REPLACE;
  auto r = call(FUSE_SETXATTR, node(c).nodeid,
                body_setxattr(xattr_name(a.ns, a.name), a.value, flags), caller(c));
  if (!r.ok()) return r.err() == ENOSYS ? Status(EOPNOTSUPP) : r.status();
  return vn::kOk;
}

Status FuseBridge::listextattr(OpCtx& c, const puffs::ListXattrArgs& a, Reply* rp) {
  Node& n = node(c);
  auto probe = call(FUSE_LISTXATTR, n.nodeid, body_listxattr(0), caller(c));
  if (!probe.ok()) return probe.err() == ENOSYS ? Status(EOPNOTSUPP) : probe.status();
  auto size = decode_xattr_size(*probe);
  if (!size.ok()) return bad("LISTXATTR", size.error);
  if (*size == 0) return vn::kOk;
  auto r = call(FUSE_LISTXATTR, n.nodeid, body_listxattr(*size), caller(c));
  if (!r.ok()) return r.status();
  if (r->size() > *size) return bad("LISTXATTR", DecodeError{"list longer than asked", EIO});
  auto names = decode_xattr_names(*r);
  if (!names.ok()) return bad("LISTXATTR", names.error);
  const bool system = a.ns == static_cast<int>(vn::XattrNs::system);
  for (auto& name : *names.value) {
    if (is_system_name(name) == system) rp->names.push_back(std::move(name));
  }
  return vn::kOk;
}

Status FuseBridge::deleteextattr(OpCtx& c, const puffs::XattrArgs& a, Reply*) {
  auto r = call(FUSE_REMOVEXATTR, node(c).nodeid, body_name(xattr_name(a.ns, a.name)), caller(c));
  if (!r.ok()) return r.err() == ENOSYS ? Status(EOPNOTSUPP) : r.status();
  return vn::kOk;
}

}  // namespace vfsim::fuse
