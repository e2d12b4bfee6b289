// The built-in file-system types (fstypes.h): one line per driver.
#include "boot/fstypes.h"

#include "fsdrivers/ext2/ext2.h"
#ifdef VFSIM_HAVE_FUSE
#include "fsdrivers/fuse/fuse_fstype.h"
#endif
#include "fsdrivers/memfs/memfs.h"
#include "fsdrivers/puffs/puffs_fstype.h"

namespace vfsim::boot {

std::vector<vn::FsType> builtin_fs_types() {
  return {
      memfs::fstype(),
      ext2drv::fstype(),
      puffs::fstype(),
#ifdef VFSIM_HAVE_FUSE
      fuse::fstype(),
#endif
  };
}

}  // namespace vfsim::boot
