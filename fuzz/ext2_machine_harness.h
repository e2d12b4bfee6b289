// The whole-machine ext2 fuzz path: the input bytes become an in-memory disk
// of a fresh Machine, the ext2 driver mounts it as "/" through the VFS, and
// a process walks the tree with system calls (getdents, lstat, read,
// readlink, listxattr/getxattr), then runs a short write workload and
// unmounts. Every errno is fine; a run that ends in anything but `pass`
// (a KASSERT or core invariant, a leaked vnode, a deadlock, a hang, a blown
// step budget) is a finding, reported with its message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vfsim::fuzz {

struct MachineFuzzResult {
  bool mounted = false;
  bool finding = false;  // the run did not pass
  std::string message;   // outcome and message when it did not
};

MachineFuzzResult fuzz_ext2_machine(const std::uint8_t* data, std::size_t size);

}  // namespace vfsim::fuzz
