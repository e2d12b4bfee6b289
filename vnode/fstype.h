// What a file-system type is, and what the booted machine offers one when it
// builds a mount. A driver describes itself with an FsType — a name, a line
// of documentation, and a factory from mount options to a FileSystem — and
// the World (boot/world.h) puts every type it was given into the kernel's
// mount-by-type table. The VFS never names a driver; a driver never names
// the World: both speak through this header.
//
// Some types run part of themselves as userland processes beside the kernel
// (a puffs server; a FUSE daemon next). The factory builds such a process as
// a UserServer and hands it to MountEnv::start_server: from then on the World
// owns it, and it outlives every lwp that may still touch it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/types.h"
#include "vnode/vnode.h"

namespace vfsim::pager {
class Pager;
}

namespace vfsim::sim {
class Machine;
}

namespace vfsim::vn {

// Options a file system gets at mount time, as text ("size_max" -> "65536"):
// mount(2)'s data, as a `-o` list gives it.
using MountArgs = std::map<std::string, std::string, std::less<>>;

// Reads an unsigned number option ("0x10", "0644" octal, "42"); EINVAL if
// malformed, `def` if absent.
[[nodiscard]] Result<std::uint64_t> mount_arg_number(const MountArgs& args, std::string_view key,
                                                     std::uint64_t def);

// A userland process that serves a file system: its lwps, its death, what it
// must have released by the end, and its teardown. Life cycle:
//
//   built by a type's factory ──MountEnv::start_server──► start() ──► running
//   running ──crash() / its socket breaks──► dead (dead() is true)
//   running | dead ──after Machine::run returned──► destroyed (teardown)
//
// The owner (the World) calls start() once, keeps the process until every
// lwp of the machine is gone, runs leaks() then (true quiescence: no lwp can
// still be inside it), and destroys it last, after the kernel's mounts.
class UserServer {
 public:
  virtual ~UserServer() = default;
  // "puffs server": for reports.
  [[nodiscard]] virtual std::string describe() const = 0;
  // Starts serving: spawns its lwps. Runs inside an lwp (it may load the
  // root of its backend). An error means nothing was spawned.
  [[nodiscard]] virtual Status start() = 0;
  // The lwps it spawned, in spawn order.
  [[nodiscard]] virtual std::vector<sim::LwpId> lwps() const = 0;
  // The process dies now (a crash): its end of the connection closes and
  // its lwps exit; the kernel side sees the death and revokes the mount.
  virtual void crash() = 0;
  [[nodiscard]] virtual bool dead() const = 0;
  // What a clean unmount should have released and was not, one line each;
  // nothing for a process that died. Called at true quiescence only.
  [[nodiscard]] virtual std::vector<std::string> leaks() const = 0;
};

// What a file-system type's factory may use while it builds a mount.
class MountEnv {
 public:
  virtual ~MountEnv() = default;
  [[nodiscard]] virtual sim::Machine& machine() = 0;
  // The kernel's pager (page cache, kmem), or null when the machine has no
  // memory model. A file system built for a userland server gets null: its
  // memory is the server's, not the kernel's page cache.
  [[nodiscard]] virtual pager::Pager* pager() = 0;
  // Builds a file system of another registered type for a userland server
  // (p2k's backend): ENODEV for an unknown type, else what its factory says.
  [[nodiscard]] virtual Result<std::unique_ptr<FileSystem>> make_server_fs(
      std::string_view type, const MountArgs& args) = 0;
  // Takes `server` over (owned until teardown) and starts it. Returns the
  // server, or start()'s error (the server is still owned: nothing ran).
  [[nodiscard]] virtual Result<UserServer*> start_server(std::unique_ptr<UserServer> server) = 0;
};

using FsFactory = std::function<Result<std::unique_ptr<FileSystem>>(MountEnv&, const MountArgs&)>;

// A file-system type as a driver describes itself (memfs::fstype(), ...).
struct FsType {
  std::string name;  // what mount(2) and the mount options' `backend` name
  std::string doc;   // one line: what it is and its options
  FsFactory make;
};

}  // namespace vfsim::vn
