// Shared by the image tools (`vfsim fs ...`, `vfsim makefs`): running a body
// on an ext2 image through the ukfs standalone API, with the image probed
// first so that a refused mount is one clear line and exit status 2, and the
// errno vocabulary the tools print.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "boot/ukfs.h"

namespace vfsim::cli {

struct ImageSession {
  std::string tool;   // "fs ls", "makefs": prefixes every message
  std::string image;  // host path of the image
  vfs::Personality personality = vfs::Personality::NetBSD;
  vn::Cred cred{};
  std::uint32_t umask = 022;
};

// Probes the image, mounts it as "/" with ukfs, starts the virtual clock one
// second after the newest timestamp stored in the image, runs `body`, then
// closes everything and unmounts cleanly (writing the image back). Returns
// the body's exit status, or 2 (bad input) when the image does not mount, or
// 1 when the run itself failed (a panic or leak: a bug, reported as such).
int with_image(const ImageSession& s, const std::function<int(ukfs::Ukfs&)>& body);

// "ENOENT" for ENOENT, as the pjdfstest helper prints it; the number if unknown.
std::string errno_name(int err);

// Prints "vfsim TOOL: WHAT: strerror" and returns the exit status for it:
// 2 for EIO (the image is corrupt or unreadable: bad input), else 1.
int report_errno(const ImageSession& s, std::string_view what, int err);

}  // namespace vfsim::cli
