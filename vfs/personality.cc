// The personality table: every NetBSD / Linux difference vfsim models.
// Symlink expansion is limited to 32 in both (MAXSYMLINKS; Linux allows 40,
// kept at 32 here so the ELOOP boundary is one number). A fifo buffers
// kFifoCapacity bytes in both (vfs/fifo.h); PIPE_BUF and the answer to a
// split write the last reader walks away from differ.
#include "vfs/personality.h"

#include <cerrno>

namespace vfsim::vfs {

namespace {

constexpr PersonalityRules kNetbsd = {
    .name = "netbsd",
    .link_follows_symlink = true,
    .unlink_dir_errno = EPERM,
    .rmdir_dotdot_errno = EINVAL,
    .rename_dot_errno = EINVAL,
    .new_file_gid_from_dir = true,
    .symlink_mode_umask = true,
    .xattr_unknown_prefix_is_user = true,
    .pipe_buf = 512,
    .fifo_split_write_short_on_epipe = false,
    .socket_open_errno = EOPNOTSUPP,
    .chmod_sticky_file_eftype = true,
    .chmod_sgid_nonmember_eperm = true,
    .kill_sgid_needs_group_exec = false,
    .truncate_kills_setid = false,
    .chown_kills_setid_always = false,
    .connect_nonsocket_errno = ENOTSOCK,
};
constexpr PersonalityRules kLinux = {
    .name = "linux",
    .link_follows_symlink = false,
    .unlink_dir_errno = EISDIR,
    .rmdir_dotdot_errno = ENOTEMPTY,
    .rename_dot_errno = EBUSY,
    .new_file_gid_from_dir = false,
    .symlink_mode_umask = false,
    .xattr_unknown_prefix_is_user = false,
    .pipe_buf = 4096,
    .fifo_split_write_short_on_epipe = true,
    .socket_open_errno = ENXIO,
    .chmod_sticky_file_eftype = false,
    .chmod_sgid_nonmember_eperm = false,
    .kill_sgid_needs_group_exec = true,
    .truncate_kills_setid = true,
    .chown_kills_setid_always = true,
    .connect_nonsocket_errno = ECONNREFUSED,
};

}  // namespace

const PersonalityRules& rules(Personality p) { return p == Personality::NetBSD ? kNetbsd : kLinux; }

std::optional<Personality> personality_from_name(std::string_view name) {
  if (name == "netbsd") return Personality::NetBSD;
  if (name == "linux") return Personality::Linux;
  return std::nullopt;
}

std::string_view personality_name(Personality p) { return rules(p).name; }

}  // namespace vfsim::vfs
