// A FUSE daemon process inside the machine: an unmodified libfuse3 file
// system (its renamed main, from the registry) running in lwps, speaking to
// the kernel through the simulated /dev/fuse.
//
// start() spawns the process's main lwp, which calls the file system's main
// with argv = {NAME, args..., "-f", mountpoint}: "-f" because daemonizing
// means nothing here (fuse_daemonize is a no-op anyway). What libfuse would
// do to the host is replaced (shim.cc): fuse_session_mount hands the
// session our /dev/fuse through fuse_session_custom_io instead of mounting;
// unmount, signal handlers and daemonize are no-ops; realpath() of the
// mount point answers the simulated path; the multi-threaded loop
// (fuse_session_loop_mt, fuse_loop_mt) runs `workers` lwps, each receiving
// and processing requests (the single-threaded loop, -s, is libfuse's own).
// pthread, semaphore, clock and sleep calls of libfuse and of the file
// system become sim primitives (PosixSim).
//
// Options that need real threads or clocks are refused at create() with
// one line: -o remember (a cleanup thread on the host clock), -o intr
// (pthread_kill), -o clone_fd (a second /dev/fuse fd per thread), and
// -o modules= (dlopen'd stacking modules).
//
// The daemon's lwps are daemon lwps: when a run ends with the daemon still
// serving, they are unwound quietly. A clean end is the kernel closing
// /dev/fuse (unmount): the loop sees ENODEV, fuse_session_destroy runs the
// file system's destroy, main returns, and exited() holds with its status.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fsdrivers/fuse/fuse_config.h"
#include "fsdrivers/fuse/runtime/dev_fuse.h"
#include "fsdrivers/fuse/runtime/fs_registry.h"
#include "fsdrivers/fuse/runtime/posix_sim.h"
#include "sim/socket.h"

struct fuse_session;
struct stat;

namespace vfsim::fuse {

struct DaemonOptions {
  std::vector<std::string> args;  // between argv[0] and the mount point
  std::string mountpoint = "/fuse";
  int workers = 1;  // lwps of the multi-threaded loop (knob fuse.workers)
  DevFraming framing = DevFraming::naive;
  // stat() of the mount point by the file system (null.c checks it is a
  // regular file) answers a file rather than a directory.
  bool mountpoint_is_file = false;
  // Called with each lwp that reads /dev/fuse (and answers on it), as it is
  // spawned: the main lwp, then the multi-threaded loop's workers.
  std::function<void(sim::LwpId)> on_reader;
};

class FuseDaemon {
 public:
  // Checks the options and claims the foreign state (isolation.h); null with
  // a one-line *error on refusal.
  static std::unique_ptr<FuseDaemon> create(sim::Machine& m, const FsEntry& fs,
                                            sim::Socket& daemon_end, DaemonOptions options,
                                            std::string* error);
  ~FuseDaemon();
  FuseDaemon(const FuseDaemon&) = delete;
  FuseDaemon& operator=(const FuseDaemon&) = delete;

  // Spawns the main lwp (before or during the run).
  void start();
  // From an lwp: waits until main returned.
  void wait_exit();
  bool exited() const { return exited_; }
  int exit_status() const { return status_; }
  sim::LwpId main_lwp() const { return main_; }
  const std::string& name() const { return name_; }
  // The lwps that read /dev/fuse (the main lwp and the loop's workers).
  const std::vector<sim::LwpId>& readers() const { return readers_; }

  // --- for the shim -----------------------------------------------------
  PosixSim& posix() { return posix_; }
  DevFuse* dev_by_fd(int fd) { return dev_.fd() == fd ? &dev_ : nullptr; }
  DevFuse& dev() { return dev_; }
  // fuse_session_mount: hands `se` the simulated /dev/fuse.
  int attach_session(fuse_session* se, const char* mountpoint);
  // The shim's stat()/lstat() of the mount point: true and *st filled
  // when `path` is it (the host has no such path).
  bool stat_mountpoint(const char* path, struct stat* st) const;
  // fuse_session_loop_mt: `workers` lwps until the kernel closes.
  int run_loop(fuse_session* se);

 private:
  FuseDaemon(sim::Machine& m, const FsEntry& fs, sim::Socket& daemon_end, DaemonOptions options);
  void run_main();
  static std::size_t receive_buffer_size();
  void worker(fuse_session* se, int* result);

  sim::Machine& m_;
  const FsEntry& fs_;
  DaemonOptions options_;
  std::string name_;
  PosixSim posix_;
  DevFuse dev_;
  bool claimed_ = false;
  sim::LwpId main_ = sim::kNoLwp;
  std::vector<sim::LwpId> readers_;
  bool exited_ = false;
  int status_ = -1;
};

}  // namespace vfsim::fuse
