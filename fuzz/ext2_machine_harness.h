// The whole-machine ext2 fuzz path: the input bytes become an in-memory disk
// of a fresh Machine, the ext2 driver mounts it as "/" through the VFS, and
// a process walks the tree with system calls (getdents, lstat, read,
// readlink, listxattr/getxattr), then runs a short write workload and
// unmounts. Every errno is fine; a run that ends in anything but `pass`
// (a KASSERT or core invariant, a leaked vnode, a deadlock, a hang, a blown
// step budget) is a finding, reported with its message. The puffs mode
// (fuzz_ext2_puffs) mounts the input through a puffs server instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vfsim::fuzz {

struct MachineFuzzResult {
  bool mounted = false;
  bool finding = false;  // the run did not pass
  std::string message;   // outcome and message when it did not
  // Puffs mode: the server's driver panicked and the server died (a
  // contained panic, sim/machine.h), with the panic's message. Not a
  // finding of that mode: the kernel is what it tests.
  bool server_died = false;
  std::string contained;
};

// `test_panic`: the ext2 driver's TEST-ONLY assertion hook (fsdrivers/ext2/
// ext2.h), for the harness's own tests; the fuzzer never sets it.
MachineFuzzResult fuzz_ext2_machine(const std::uint8_t* data, std::size_t size,
                                    bool test_panic = false);

// The puffs mode: the input is an untrusted image that the kernel never
// parses. The root is memfs; a puffs server mounts the bytes with the ext2
// driver in its own process (a fault domain) at /img, and the same walk and
// write workload run there. A driver panic kills only the server. A finding
// is anything the kernel did not survive: a kernel panic, a leak, a
// deadlock or hang, the root memfs failing to write and read back a file,
// the dead server's mount answering other than ENXIO/EIO, or a failed
// forced unmount of it.
MachineFuzzResult fuzz_ext2_puffs(const std::uint8_t* data, std::size_t size,
                                  bool test_panic = false);

}  // namespace vfsim::fuzz
