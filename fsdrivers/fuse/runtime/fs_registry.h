// The FUSE file systems linked into an executable, by name: what the
// `fuse.mount` scenario op (and a test) looks an "fs" name up in.
//
// vfsim_add_fuse_fs(NAME SOURCES ...) (cmake/vfsim_fuse.cmake) compiles an
// unmodified libfuse3 file system with its main renamed to
// vfsim_fuse_main_NAME; vfsim_link_fuse_fs(TARGET NAME ...) links some into
// an executable and generates its table, returned by linked_file_systems().
// The table is a constant: no registration at static-initialisation time,
// no mutable global.
#pragma once

#include <span>
#include <string_view>

namespace vfsim::fuse {

struct FsEntry {
  const char* name;                    // as given to vfsim_add_fuse_fs
  int (*main)(int argc, char** argv);  // the file system's renamed main
};

// Defined in the table vfsim_link_fuse_fs generates for each executable.
std::span<const FsEntry> linked_file_systems();

// The entry named `name` among `table`, or null.
inline const FsEntry* find_fs(std::span<const FsEntry> table, std::string_view name) {
  for (const FsEntry& e : table) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

}  // namespace vfsim::fuse
