// The perfused bridge: the puffs server's op vector implemented by
// translating each puffs op into FUSE exchanges with a daemon, as NetBSD's
// perfused does (lib/libperfuse/ops.c; the PERFUSE paper, section 3.2).
//
//   VFS ─VOP─► puffs kernel stub ─puffs─► puffs Server ─► FuseBridge ─FUSE─► /dev/fuse ─► libfuse
//
// What it keeps per node (FuseNode, one per FUSE nodeid, keyed in the
// server's NodeMap by the nodeid's first-seen ordinal — never by the raw
// nodeid, which may be a pointer):
//   - nlookup: the FUSE entry replies (LOOKUP, CREATE, MKNOD, MKDIR,
//     SYMLINK, LINK) that named it since its last FORGET. RECLAIM sends
//     FORGET(nlookup) and nothing for the root (fuse.forget_nlookup; the
//     historic shortcut sends FORGET(1));
//   - one read fh and one write fh for a file (an open for writing uses or
//     makes the write fh, which also serves reads), one fh for a directory
//     (OPENDIR before the first READDIR). puffs' CLOSE sends nothing: the
//     RELEASE / RELEASEDIR happen at INACTIVE, each fh forgotten before its
//     RELEASE is sent, so it is never released twice. As Linux does
//     (fuse_file_put), INACTIVE sends them in the background and does not
//     wait for the reply, so a RELEASE may still be in the daemon while
//     the kernel goes on (an UNLINK of the same file: libfuse #746); the
//     node's FORGET waits for its RELEASEs' replies, as Linux holds the
//     inode until then (igrab in fuse_prepare_release);
//   - a size lock (fuse.size_serialise): GETATTR is serialised against
//     WRITE, PUTPAGES and size-changing SETATTR of the node (the daemon-side
//     half of the paper's GETATTR/WRITE race fix);
//   - the directory it was found in (for ".."), and whether a REMOVE or
//     RMDIR named it (INACTIVE then asks the kernel to recycle).
// Other perfused behaviours: CREATE falls back to MKNOD + LOOKUP + OPEN when
// the daemon answers ENOSYS (remembered); ACCESS is emulated from the mode
// bits on ENOSYS (remembered); READDIR offsets are opaque cookies (resume
// from the last entry's off); READ and WRITE are split by max_write;
// extended attributes follow the paper's section 4.1 mapping (a name with a
// Linux prefix travels as is; otherwise user.NAME in the user namespace,
// system.NAME in the system namespace; a listing of the user namespace is
// every name without a trusted., system. or security. prefix).
// Credentials: INACTIVE, RECLAIM and FSYNC run as the superuser; RELEASE
// carries pid 0.
//
// The ledger: for every nodeid (by ordinal), how many entry replies named it
// and how many FORGETs gave them back; for every fh, how often the daemon
// handed it out and how often it was released. leaks() lists every nodeid
// other than the root, and every fh, whose counts differ once the mount is
// gone: a FUSE lookup or open-file leak in the bridge (or the kernel) shows
// up there. A RELEASE beyond the opens is this bridge's bug: a panic.
//
// Replies are checked (fuse_abi.h); a body that does not decode is logged
// ("fuse_bad_reply") and answered EIO/EPROTO, and with the connection's
// fatal_protocol_errors the run ends as Outcome::protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fsdrivers/fuse/fuse_conn.h"
#include "fsdrivers/puffs/puffs_server.h"

namespace vfsim::fuse {

struct BridgeOptions {
  std::string name = "fuse";
  bool size_serialise = true;  // knob fuse.size_serialise
  bool forget_nlookup = true;  // knob fuse.forget_nlookup (false: FORGET(1), historic)
  // Run after UNMOUNT closed /dev/fuse (the owner waits for its daemon).
  std::function<void()> after_close;
};

class FuseBridge : public puffs::PuffsOps {
 public:
  FuseBridge(sim::Machine& m, FuseConn& conn, BridgeOptions options);
  ~FuseBridge() override;

  // Registers the root node with `server` (after INIT).
  [[nodiscard]] vn::Status attach(puffs::Server& server);
  // The ledger check (see above); empty when every count balances.
  std::vector<std::string> leaks() const;
  bool unmounted() const { return unmounted_; }
  // First-seen ordinal of a nodeid (for tests).
  std::uint64_t ordinal_of(std::uint64_t nodeid);

  // Where notifications go: the kernel stub's caches (puffs::KernelCaches),
  // reached in the daemon lwp that wrote the notification. Without one,
  // notifications are logged and answered as a kernel with nothing cached.
  void set_kernel(puffs::KernelCaches* kernel) { kernel_ = kernel; }
  // A notification, in the writer's lwp: its nodeids become cookies (a
  // nodeid the kernel was never told about has nothing cached: ENOENT) and
  // the kernel applies it under its locks. Returns the daemon's errno.
  int notify(const Notification& n);

#define VFSIM_FUSE_BRIDGE_DECLARE(name)                                                            \
  vn::Status name(puffs::OpCtx& c, const puffs::ArgsOf<puffs::PuffsOp::name>& a, puffs::Reply* rp) \
      override;
  VFSIM_PUFFS_OPS(VFSIM_FUSE_BRIDGE_DECLARE)
#undef VFSIM_FUSE_BRIDGE_DECLARE

 private:
  struct Node;
  struct Entry;
  Node& node(puffs::OpCtx& c);
  Node* other(puffs::OpCtx& c, std::uint64_t cookie);
  vn::Result<std::string> call(std::uint32_t opcode, std::uint64_t nodeid, std::string_view body,
                               const Caller& who);
  Caller caller(const puffs::OpCtx& c) const;
  vn::Status bad(std::string_view what, const DecodeError& e);
  vn::Result<Entry> entry_of(std::string_view body, std::string_view what);
  vn::Status answer_node(puffs::OpCtx& c, const Entry& e, puffs::Reply* rp,
                         std::optional<std::uint64_t> wfh = std::nullopt, std::uint64_t extra = 0);
  vn::Status getattr_of(Node& n, const Caller& who, vn::Vattr* out);
  vn::Result<std::uint64_t> fh_for(Node& n, bool write, const Caller& who);
  vn::Status release_all(Node& n);
  void release_in_background(Node& n);
  void wait_for_releases(Node& n);
  std::optional<std::uint64_t> cookie_of_nodeid(std::uint64_t nodeid) const;
  vn::Status write_data(puffs::OpCtx& c, std::uint64_t offset, std::string_view data,
                        std::uint64_t* end);
  std::string xattr_name(std::int32_t ns, const std::string& name) const;
  vn::Status forget(Node& n);
  std::string fh_label(std::uint64_t fh);
  void fh_opened(std::uint64_t fh);
  void fh_released(std::uint64_t fh);

  sim::Machine& m_;
  FuseConn& conn_;
  BridgeOptions options_;
  puffs::Server* server_ = nullptr;
  puffs::KernelCaches* kernel_ = nullptr;
  std::uint64_t root_cookie_ = 0;
  // First-seen ordinals; looked up only.
  std::unordered_map<std::uint64_t, std::uint64_t> ordinals_;     // determinism-ok: lookup only
  std::unordered_map<std::uint64_t, std::uint64_t> fh_ordinals_;  // determinism-ok: lookup only
  std::uint64_t next_ordinal_ = 1, next_fh_ordinal_ = 1;
  struct Ledger {
    std::uint64_t looked_up = 0, forgotten = 0;
  };
  std::map<std::uint64_t, Ledger> ledger_;     // by nodeid ordinal
  std::map<std::uint64_t, Ledger> fh_ledger_;  // by fh ordinal: opened / released
  bool no_create_ = false, no_access_ = false, no_fsync_ = false;
  bool unmounted_ = false;
};

}  // namespace vfsim::fuse
