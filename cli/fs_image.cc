// Image sessions for the image tools (fs_image.h).
#include "cli/fs_image.h"

#include <cstring>
#include <iostream>
#include <limits>

#include "cli/commands.h"
#include "fsdrivers/ext2/ext2.h"

namespace vfsim::cli {

std::string errno_name(int err) {
  static constexpr std::pair<int, std::string_view> kNames[] = {
      {EPERM, "EPERM"},
      {ENOENT, "ENOENT"},
      {EIO, "EIO"},
      {ENXIO, "ENXIO"},
      {E2BIG, "E2BIG"},
      {EBADF, "EBADF"},
      {ENOMEM, "ENOMEM"},
      {EACCES, "EACCES"},
      {EFAULT, "EFAULT"},
      {EBUSY, "EBUSY"},
      {EEXIST, "EEXIST"},
      {EXDEV, "EXDEV"},
      {ENODEV, "ENODEV"},
      {ENOTDIR, "ENOTDIR"},
      {EISDIR, "EISDIR"},
      {EINVAL, "EINVAL"},
      {ENFILE, "ENFILE"},
      {EMFILE, "EMFILE"},
      {ETXTBSY, "ETXTBSY"},
      {EFBIG, "EFBIG"},
      {ENOSPC, "ENOSPC"},
      {ESPIPE, "ESPIPE"},
      {EROFS, "EROFS"},
      {EMLINK, "EMLINK"},
      {EPIPE, "EPIPE"},
      {ERANGE, "ERANGE"},
      {EAGAIN, "EAGAIN"},
      {ELOOP, "ELOOP"},
      {ENAMETOOLONG, "ENAMETOOLONG"},
      {ENOTEMPTY, "ENOTEMPTY"},
      {EDQUOT, "EDQUOT"},
      {ESTALE, "ESTALE"},
      {ENOSYS, "ENOSYS"},
      {EOPNOTSUPP, "EOPNOTSUPP"},
      {ENODATA, "ENODATA"},
      {EOVERFLOW, "EOVERFLOW"},
      {ENOTSOCK, "ENOTSOCK"},
      {EADDRINUSE, "EADDRINUSE"},
      {ECONNREFUSED, "ECONNREFUSED"},
      {vfs::kEFTYPE, "EFTYPE"},
  };
  for (auto [e, name] : kNames) {
    if (e == err && e != 0) return std::string(name);
  }
  return std::to_string(err);
}

int report_errno(const ImageSession& s, std::string_view what, int err) {
  const std::string text =
      err == vfs::kEFTYPE ? "Inappropriate file type or format" : std::strerror(err);
  std::cerr << "vfsim " << s.tool << ": " << s.image << ": " << what << ": " << text
            << (err == EIO ? " (corrupt or unreadable image)" : "") << "\n";
  return err == EIO ? kExitBadInput : kExitFailure;
}

int with_image(const ImageSession& s, const std::function<int(ukfs::Ukfs&)>& body) {
  const ext2drv::ImageProbe probe = ext2drv::probe_image(s.image);
  if (!probe.mounts) {
    std::cerr << "vfsim " << s.tool << ": " << probe.reason << "\n";
    return kExitBadInput;
  }
  ukfs::Options o;
  o.fstype = "ext2";
  o.args = {{"image", s.image}};
  o.personality = s.personality;
  o.cred = s.cred;
  o.umask = s.umask;
  // A tool's work grows with the image (a copy of a whole tree is millions
  // of scheduling points), so the scenarios' livelock budget does not apply.
  o.step_budget = std::numeric_limits<std::uint64_t>::max();
  int status = kExitPass;
  // Timestamps move forward from call to call, as on a real system: the
  // clock starts one second after the newest time stored in the image.
  o.start_time = static_cast<sim::VTime>(probe.newest_time + 1) * sim::kSecond;
  auto r = ukfs::run(o, [&](ukfs::Ukfs& fs) { status = body(fs); });
  if (r.failed()) {
    std::cerr << "vfsim " << s.tool << ": " << s.image << ": internal failure ("
              << sim::outcome_name(r.outcome) << "): " << r.message << "\n";
    return kExitFailure;
  }
  return status;
}

}  // namespace vfsim::cli
