// The personality table: every NetBSD / Linux difference vfsim models.
// Symlink expansion is limited to 32 in both (MAXSYMLINKS; Linux allows 40,
// kept at 32 here so the ELOOP boundary is one number). A fifo buffers
// kFifoCapacity bytes in both (vfs/fifo.h); PIPE_BUF and the answer to a
// split write the last reader walks away from differ.
#include "vfs/personality.h"

#include <cerrno>

namespace vfsim::vfs {

namespace {

//                                     link   unlink  rmdir ".."  rename "." gid     symlink xattr
//                                     follows dir                           from dir umask
//                                     unknown->user then: PIPE_BUF, split fifo write short on
//                                     EPIPE, open(2) of a socket
constexpr PersonalityRules kNetbsd = {"netbsd", true, EPERM, EINVAL, EINVAL,    true,
                                      true,     true, 512,   false,  EOPNOTSUPP};
constexpr PersonalityRules kLinux = {"linux", false, EISDIR, ENOTEMPTY, EBUSY, false,
                                     false,   false, 4096,   true,      ENXIO};

}  // namespace

const PersonalityRules& rules(Personality p) { return p == Personality::NetBSD ? kNetbsd : kLinux; }

std::optional<Personality> personality_from_name(std::string_view name) {
  if (name == "netbsd") return Personality::NetBSD;
  if (name == "linux") return Personality::Linux;
  return std::nullopt;
}

std::string_view personality_name(Personality p) { return rules(p).name; }

}  // namespace vfsim::vfs
