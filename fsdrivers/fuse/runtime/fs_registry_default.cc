// The registry of an executable that links no FUSE file system: empty.
// vfsim_link_fuse_fs generates a strong definition in the executables it
// links file systems into; this weak one answers for every other (a test or
// a tool that links the World, and with it the "fuse" type, but no daemon).
#include "fsdrivers/fuse/runtime/fs_registry.h"

namespace vfsim::fuse {

[[gnu::weak]] std::span<const FsEntry> linked_file_systems() { return {}; }

}  // namespace vfsim::fuse
