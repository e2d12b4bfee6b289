// Personalities: where NetBSD and Linux answer the same call differently.
// Every difference vfsim models is one row of the table in personality.cc,
// so the whole list is visible in one place; code asks rules(), never the
// personality's name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vfsim::vfs {

enum class Personality : std::uint8_t { NetBSD, Linux };

struct PersonalityRules {
  const char* name;
  // link(2) on a symlink: link to its target (NetBSD) or to the symlink
  // itself (Linux). linkat(2) follows only with AT_SYMLINK_FOLLOW in both.
  bool link_follows_symlink;
  // unlink(2) on a directory: POSIX's EPERM (NetBSD) or Linux's EISDIR.
  int unlink_dir_errno;
  // rmdir(2) of a path ending in "..": EINVAL (NetBSD) or ENOTEMPTY (Linux).
  int rmdir_dotdot_errno;
  // rename(2) with "." or ".." as the last component: EINVAL or EBUSY.
  int rename_dot_errno;
  // Group of a new file: the directory's (BSD) or the process's unless the
  // directory is set-group-ID (Linux, System V).
  bool new_file_gid_from_dir;
  // Mode of a new symlink: 0777 & ~umask (NetBSD) or always 0777 (Linux).
  bool symlink_mode_umask;
  // Linux xattr API with an unknown name prefix: stored in the user
  // namespace (NetBSD, PERFUSE mapping) or refused with EOPNOTSUPP (Linux).
  bool xattr_unknown_prefix_is_user;
  // PIPE_BUF: a write(2) to a fifo of at most this many bytes is atomic.
  // NetBSD's <sys/syslimits.h> says 512, Linux's <linux/limits.h> 4096.
  std::size_t pipe_buf;
  // A write(2) to a fifo longer than PIPE_BUF, split and waiting for room
  // after putting some bytes in, when the last reader leaves: EPIPE
  // (NetBSD: sosend's error reaches dofilewrite, which keeps it) or the
  // bytes written so far, a short write (Linux's pipe_write). With nothing
  // written yet both answer EPIPE.
  bool fifo_split_write_short_on_epipe;
  // open(2) of a socket node: EOPNOTSUPP (NetBSD's vn_open refuses VSOCK)
  // or ENXIO (Linux's may_open).
  int socket_open_errno;
  // chmod(2) by a non-root owner setting the sticky bit on a non-directory:
  // EFTYPE (NetBSD's genfs_can_chmod) or allowed (Linux).
  bool chmod_sticky_file_eftype;
  // chmod(2) by a non-root owner setting S_ISGID on a file whose group it is
  // not in: EPERM (genfs_can_chmod) or the bit silently cleared (Linux's
  // setattr_prepare).
  bool chmod_sgid_nonmember_eperm;
  // A write(2) that stores bytes, or a chown(2), by a non-root caller clears
  // S_ISUID and S_ISGID (NetBSD); Linux clears S_ISGID only with
  // group-execute set (should_remove_suid: without it the bit means
  // mandatory locking, not set-group-ID).
  bool kill_sgid_needs_group_exec;
  // open(2) with O_TRUNC, truncate(2) and ftruncate(2) of a regular file by
  // a non-root caller clear S_ISUID and S_ISGID by the write rule above,
  // even when the file is already empty (Linux's do_truncate passes
  // ATTR_KILL_SUID/SGID; measured on Linux 6.18, ext4), or clear nothing
  // (NetBSD's ufs_setattr of va_size only truncates).
  bool truncate_kills_setid;
  // chown(2) of a non-directory clears S_ISUID, and S_ISGID with
  // group-execute, whoever calls, root included, and chown(-1, -1) too
  // (Linux's chown_common asks ATTR_KILL_SUID/SGID for every non-directory;
  // measured on Linux 6.18: root's chown of a 06755 file leaves 0755, a
  // 02745 file keeps 02745); a non-owner's chown(-1, -1) that would clear a
  // bit is then EPERM, one that clears nothing succeeds. Or only a non-root
  // caller's chown clears, and chown(-1, -1) changes nothing (NetBSD's
  // change_owner, POSIX semantics, as modelled here).
  bool chown_kills_setid_always;
  // connect(2) of an AF_UNIX socket to a node that is not a socket:
  // ENOTSOCK, checked before write permission (NetBSD's unp_connect), or
  // ECONNREFUSED, after it (Linux's unix_find_bsd).
  int connect_nonsocket_errno;
};

// NetBSD's EFTYPE ("inappropriate file type or format"), which Linux lacks.
// NetBSD's number; on Linux 79 is ELIBACC, which vfsim never answers.
inline constexpr int kEFTYPE = 79;

const PersonalityRules& rules(Personality p);
std::optional<Personality> personality_from_name(std::string_view name);
std::string_view personality_name(Personality p);

}  // namespace vfsim::vfs
