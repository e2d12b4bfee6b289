// The vocabulary the VOP interface speaks: file types, attributes, the
// setattr request, directory entries, statvfs figures, credentials and the
// extended-attribute namespaces. Plain data only; no locks, no machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/types.h"

namespace vfsim::vn {

enum class VType : std::uint8_t {
  VNON,   // no type: a vnode still loading
  VREG,   // regular file
  VDIR,   // directory
  VLNK,   // symbolic link
  VFIFO,  // named pipe
  VCHR,   // character device node
  VBLK,   // block device node
  VSOCK,  // socket node
};

const char* vtype_name(VType t);

// Permission and special bits of a mode (the file type lives in VType).
inline constexpr std::uint32_t kModeMask = 07777;
inline constexpr std::uint32_t kSetUid = 04000;
inline constexpr std::uint32_t kSetGid = 02000;
inline constexpr std::uint32_t kSticky = 01000;

// Access bits for VOP_ACCESS (as in access(2) and NetBSD's VREAD/VWRITE/VEXEC).
inline constexpr int kAccRead = 04;
inline constexpr int kAccWrite = 02;
inline constexpr int kAccExec = 01;

using Uid = std::uint32_t;
using Gid = std::uint32_t;

// A process credential. Root is uid 0.
struct Cred {
  Uid uid = 0;
  Gid gid = 0;
  std::vector<Gid> groups;  // supplementary groups
  bool is_root() const { return uid == 0; }
  bool groupmember(Gid g) const;
};

// What VOP_GETATTR reports. Times are virtual nanoseconds.
struct Vattr {
  VType type = VType::VNON;
  std::uint32_t mode = 0;  // kModeMask bits
  std::uint32_t nlink = 0;
  Uid uid = 0;
  Gid gid = 0;
  std::uint64_t fsid = 0;
  std::uint64_t fileid = 0;  // inode number
  std::uint64_t size = 0;
  std::uint64_t bytes = 0;  // storage used
  std::uint32_t blocksize = 4096;
  std::uint64_t rdev = 0;
  sim::VTime atime = 0, mtime = 0, ctime = 0, birthtime = 0;
  std::uint64_t gen = 0;
};

// What VOP_SETATTR changes: only the fields that are set. The VFS has done
// every permission check already and resolved "now" to the machine clock.
struct SetAttr {
  std::optional<std::uint32_t> mode;
  std::optional<Uid> uid;
  std::optional<Gid> gid;
  std::optional<std::uint64_t> size;
  std::optional<sim::VTime> atime;
  std::optional<sim::VTime> mtime;
  // Whether the change also sets ctime to now, as chmod, chown, truncate and
  // utimensat must. false only to mark an access alone: POSIX has a read(2)
  // change st_atime and nothing else, and a fifo's read is the one read the
  // file system does not serve itself (vfs/syscalls_file.cc).
  bool mark_ctime = true;
};

// One directory entry from VOP_READDIR. `cookie` is the offset to pass to
// continue after this entry.
struct Dirent {
  std::uint64_t fileid = 0;
  VType type = VType::VNON;
  std::string name;
  std::uint64_t cookie = 0;
};

struct StatVfs {
  std::uint64_t bsize = 4096;
  std::uint64_t frsize = 4096;
  std::uint64_t blocks = 0;  // total, in frsize units
  std::uint64_t bfree = 0;
  std::uint64_t bavail = 0;
  std::uint64_t files = 0;  // inodes
  std::uint64_t ffree = 0;
  std::uint64_t favail = 0;
  std::uint64_t fsid = 0;
  std::uint64_t namemax = 255;
  std::string fstypename;
};

// Extended-attribute namespaces of the BSD API (extattr(2)). The Linux
// prefixes map onto these as the PERFUSE paper describes (vfs/xattr.cc).
enum class XattrNs : std::uint8_t {
  user = 1,    // EXTATTR_NAMESPACE_USER
  system = 2,  // EXTATTR_NAMESPACE_SYSTEM
};

// Flags of VOP_SETEXTATTR (the Linux XATTR_CREATE / XATTR_REPLACE).
inline constexpr int kXattrCreate = 1;
inline constexpr int kXattrReplace = 2;

// Limits the VFS enforces for every file system.
inline constexpr std::size_t kNameMax = 255;
inline constexpr std::size_t kPathMax = 1024;  // including the NUL
inline constexpr std::size_t kXattrNameMax = 255;
inline constexpr std::size_t kXattrSizeMax = 65536;
inline constexpr std::uint32_t kLinkMax = 32767;

}  // namespace vfsim::vn
