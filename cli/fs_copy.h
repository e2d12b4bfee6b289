// Copying across the host/image boundary (fsu_ecp / fsu_put in fs-utils):
// host files, directories, symlinks, fifos and device nodes go into the image
// through the kernel's system calls, keeping modes, owners, times and hard
// links; files come out of the image the same way.
#pragma once

#include <string>

#include "boot/ukfs.h"

namespace vfsim::cli {

struct CopyError {
  std::string what;  // the path that failed (host or image)
  int err = 0;       // errno; 0 = no error
};

// Copies the host tree at `host` to `image_path` (created; a directory's
// contents go below it). Stops at the first error.
CopyError copy_in(ukfs::Ukfs& fs, const std::string& host, const std::string& image_path);

// Copies the image file or tree at `image_path` to the host path `host`.
CopyError copy_out(ukfs::Ukfs& fs, const std::string& image_path, const std::string& host);

}  // namespace vfsim::cli
