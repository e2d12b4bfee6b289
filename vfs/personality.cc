// The personality table: every NetBSD / Linux difference vfsim models.
// Symlink expansion is limited to 32 in both (MAXSYMLINKS; Linux allows 40,
// kept at 32 here so the ELOOP boundary is one number). A fifo buffers
// kFifoCapacity bytes in both (vfs/fifo.h); PIPE_BUF and the answer to a
// split write the last reader walks away from differ.
#include "vfs/personality.h"

#include <cerrno>

namespace vfsim::vfs {

namespace {

// In the order of personality.h: link follows, unlink of a dir, rmdir "..",
// rename ".", gid from dir, symlink umask, unknown xattr prefix -> user,
// PIPE_BUF, split fifo write short on EPIPE, open(2) of a socket, chmod
// sticky file EFTYPE, chmod S_ISGID non-member EPERM, S_ISGID kill needs g+x.
constexpr PersonalityRules kNetbsd = {
    "netbsd", true, EPERM, EINVAL, EINVAL, true, true, true, 512, false, EOPNOTSUPP,
    true,     true, false};
constexpr PersonalityRules kLinux = {
    "linux", false, EISDIR, ENOTEMPTY, EBUSY, false, false, false, 4096, true, ENXIO,
    false,   false, true};

}  // namespace

const PersonalityRules& rules(Personality p) { return p == Personality::NetBSD ? kNetbsd : kLinux; }

std::optional<Personality> personality_from_name(std::string_view name) {
  if (name == "netbsd") return Personality::NetBSD;
  if (name == "linux") return Personality::Linux;
  return std::nullopt;
}

std::string_view personality_name(Personality p) { return rules(p).name; }

}  // namespace vfsim::vfs
