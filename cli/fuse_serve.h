// The serving half of `vfsim mount`: FUSE requests from the host kernel
// (the bytes /dev/fuse delivers) answered with calls into vfsim's kernel.
//
// One FuseServe per mount, used from the serving lwps of one machine (the
// loop in cli/cmd_mount.cc, the same loop over a recording in replay and
// explore).
// handle() takes one whole request and returns the reply's bytes (empty for
// the requests that get none: FORGET, BATCH_FORGET, INTERRUPT).
//
// Nodes: a nodeid is an ordinal (1 is the root; the others count up from 2
// in the order nodes are first looked up and are never reused). The server
// holds one O_PATH descriptor, hence one vnode reference, per nodeid it
// handed out, and counts the entry replies that named it (LOOKUP, CREATE,
// MKNOD, MKDIR, SYMLINK, LINK, READDIRPLUS); FORGET and BATCH_FORGET give the
// count back and the descriptor is closed at zero. Two names of one file
// (hard links) are one nodeid: nodes are found again by inode number, which
// cannot be reused while the server holds the node.
//
// File handles: an OPEN, OPENDIR or CREATE gives a descriptor of the server's
// process as the fh; RELEASE / RELEASEDIR close it. A directory handle keeps
// the directory's entries as read at offset 0, so the offsets handed out
// (the entry's index + 1) stay valid while the host reads on.
//
// Every request runs as its sender: the worker process's credentials become the
// request header's uid and gid (no supplementary groups: the FUSE header does
// not carry them) before the call, and the umask is 0 (the host kernel has
// applied the caller's umask to the modes it sends). The host mounts without
// default_permissions, so every permission decision is vfsim's.
//
// Size serialisation (serve(), knob mount.size_lock; docs/mount.md): with
// several workers, a GETATTR, a SETATTR, a WRITE and an OPEN with O_TRUNC of
// one node hold a lock of the server's from before their call into the
// kernel until their reply is sent, so the replies leave in the order the
// kernel made the changes. Without it (the historic side, the daemon half of
// the PERFUSE paper's size race, ../shared/seeds/000_*), a GETATTR that read
// the size can be overtaken by a WRITE that extends the file and is answered
// first: the host then gets the older size after the write's reply, and a
// host that applies it (NetBSD's puffs did; Linux checks an attribute
// version) shrinks the file under the bytes it just wrote. serve() checks
// every GETATTR and SETATTR reply against the writes already answered and
// ends the run (Outcome::expectation) on a size smaller than an answered
// write's end with no truncation answered since: such a reply is one that
// no order of the requests could give.
//
// Nothing here reads a host clock or a pointer: replies depend only on the
// requests and the kernel's state, so a recording replays byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/sync.h"
#include "vfs/kernel.h"

namespace vfsim::cli {

struct FuseServeOptions {
  bool read_only = false;  // -o ro: every change is EROFS
  std::uint32_t max_write = 128 * 1024;
  // Entry and attribute validity handed to the host kernel, in ns (the host
  // is the only client, so its caches stay coherent).
  std::uint64_t valid_ns = 1'000'000'000;
  // Several workers serve concurrently: serve() takes the size locks.
  bool concurrent = false;
  // Knob mount.size_lock: false is the historic side (no size locks).
  bool size_lock = true;
};

class FuseServe {
 public:
  FuseServe(vfs::Kernel& k, vfs::Proc& p, FuseServeOptions o);
  FuseServe(const FuseServe&) = delete;
  FuseServe& operator=(const FuseServe&) = delete;

  // Opens the root node; false with a reason when it cannot.
  [[nodiscard]] bool start(std::string* reason);
  // One request in, the reply out ("" when the request gets none), served by
  // worker process `w` (the server's own process, or one of several workers
  // that serve requests concurrently in lwps of their own). Node and handle
  // descriptors belong to the server's process; a worker gets its own
  // descriptor of the same open file for the length of a request. With
  // `debug`, one line describing the request and its result.
  [[nodiscard]] std::string handle(std::string_view request, vfs::Proc& w,
                                   std::string* debug = nullptr);
  // handle() with the reply sent through `send` (nothing is sent for a
  // request that gets no reply), under the size serialisation and its check
  // (the header comment): a stale size ends the run.
  void serve(std::string_view request, vfs::Proc& w,
             const std::function<void(std::string_view)>& send, std::string* debug = nullptr);
  // The end of serving: every node and handle closed. Returns what the host
  // left behind, for the log: handles never released, lookups never
  // forgotten (a host that unmounts sends neither: not an error).
  std::string release_all();

  std::uint64_t requests() const { return requests_; }
  std::size_t nodes() const { return nodes_.size(); }
  std::size_t handles() const { return handles_.size(); }

 private:
  struct Node {
    int fd = -1;                // O_PATH descriptor of the server's process
    std::uint64_t ino = 0;      // the file's inode number
    std::uint64_t nlookup = 0;  // entry replies not yet forgotten
  };
  struct Handle {
    bool dir = false;
    bool loaded = false;
    std::vector<vn::Dirent> entries;  // a directory's, read at offset 0
    std::uint64_t ino = 0;            // the open file's inode number
  };
  // The files a request reads the size of and changes the size of (inode
  // numbers, 0 for none), found in the node and handle tables before it
  // runs; `all`: it may truncate a file not known yet.
  struct SizeKeys {
    std::uint64_t read = 0;
    std::uint64_t changed = 0;
    bool all = false;
  };
  struct Entry {
    std::uint64_t nodeid = 0;
    vfs::Stat st;
  };
  class Lend;

  // The server process's descriptor of a node / an open handle.
  vfs::Result<int> node_fd(std::uint64_t nodeid) const;
  vfs::Result<int> handle_fd(std::uint64_t fh, bool dir) const;
  // A descriptor worker `w` opened, moved into the server's process.
  vfs::Result<int> adopt(vfs::Proc& w, int fd);
  vfs::Result<Entry> lookup(vfs::Proc& w, int dirfd, std::string_view name);
  void forget(std::uint64_t nodeid, std::uint64_t n);
  vfs::Result<vfs::Stat> stat_fd(vfs::Proc& w, int fd);
  vfs::Result<std::string> dispatch(vfs::Proc& w, std::uint32_t opcode, std::uint64_t nodeid,
                                    std::string_view body, bool* no_reply);
  vfs::Result<std::string> do_init(std::string_view body);
  vfs::Result<std::string> do_setattr(vfs::Proc& w, int fd, std::string_view body);
  vfs::Result<std::string> do_readdir(vfs::Proc& w, std::string_view body, bool plus);
  vfs::Result<std::string> do_xattr(vfs::Proc& w, std::uint32_t opcode, int fd,
                                    std::string_view body);
  std::string entry_bytes(const Entry& e) const;
  // LOOKUP's reply for `name` in `dirfd`: what every call that makes a name
  // (MKNOD, MKDIR, SYMLINK, LINK) answers too.
  vfs::Result<std::string> lookup_entry(vfs::Proc& w, int dirfd, std::string_view name);
  std::string attr_bytes(const vfs::Stat& st) const;
  SizeKeys size_keys(std::string_view request) const;
  // The size locks a request takes (indices into size_locks_, ascending).
  std::vector<std::size_t> size_locks_for(const SizeKeys& k) const;
  // The stale-size check of one request and its reply; the failure's
  // message, or "".
  std::string check_sizes(std::string_view request, std::string_view reply, const SizeKeys& k);

  vfs::Kernel& k_;
  vfs::Proc& p_;
  FuseServeOptions o_;
  std::map<std::uint64_t, Node> nodes_;            // nodeid -> node
  std::map<std::uint64_t, std::uint64_t> by_ino_;  // inode -> nodeid
  std::map<std::uint64_t, Handle> handles_;        // fh (a descriptor) -> handle
  std::uint64_t next_nodeid_ = 2;
  std::uint32_t minor_ = 0;  // negotiated at INIT
  bool initialised_ = false;
  std::uint64_t requests_ = 0;
  // Striped by inode number: a request takes the stripes of the files it
  // reads and changes the size of, in order (a CREATE that may truncate an
  // existing file, every stripe). By inode, not nodeid: in an explored
  // schedule the nodeids the recording's requests carry may name other
  // files than they did when recorded.
  std::vector<std::unique_ptr<sim::Mutex>> size_locks_;
  // inode -> the end of the furthest write answered since the last
  // truncation answered (the least size the host now believes).
  std::map<std::uint64_t, std::uint64_t> acked_size_;
};

}  // namespace vfsim::cli
