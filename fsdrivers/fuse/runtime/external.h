// An unmodified libfuse3 binary on the host as a FUSE daemon — no
// determinism inside it.
//
// The daemon is started as a host process with the mount point
// "/dev/fd/N", where N is its end of a real SOCK_SEQPACKET socketpair
// (PERFUSE's trick of a socket in place of /dev/fuse; libfuse takes a
// /dev/fd/N mount point as an fd to use): nothing is mounted on the host.
// The kernel side (FuseConn) talks to the other end through
// HostFuseSocket, a sim::Socket whose send() writes a request and, when the
// request has a reply, blocks the whole machine on the real socket until
// that reply arrives (notifications the daemon writes meanwhile are kept
// too): one request is in flight at a time, so the only concurrency is the
// simulator's. What happens inside the daemon — its threads, its timing,
// its use of host files — is not the simulator's to control or replay:
// a run's verdict holds for the replies this daemon gave, and every report
// of a scenario that uses one says so.
//
// A daemon that does not answer within `reply_timeout_ms` of real time, or
// closes its end, is gone: the kernel side sees end-of-file and fails what
// is in flight with ENXIO. At teardown the socket closes (libfuse reads
// end-of-file and exits) and the process is reaped; one that lingers is
// killed.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sim/socket.h"
#include "sim/sync.h"

namespace vfsim::fuse {

struct ExternalOptions {
  std::string exec;               // absolute path of the binary
  std::vector<std::string> argv;  // between argv[0] and "-f /dev/fd/N"
  std::string cwd;                // its working directory ("" = ours)
  int reply_timeout_ms = 30'000;  // real time
};

class HostFuseSocket;

class ExternalDaemon {
 public:
  // Starts the process; null with a one-line *error when it cannot.
  static std::unique_ptr<ExternalDaemon> start(sim::Machine& m, const ExternalOptions& o,
                                               std::string* error);
  ~ExternalDaemon();  // closes the socket, reaps (or kills) the process
  ExternalDaemon(const ExternalDaemon&) = delete;
  ExternalDaemon& operator=(const ExternalDaemon&) = delete;

  // The kernel's end of /dev/fuse.
  sim::Socket& kernel_end();
  // The process dies now (SIGKILL): the kernel side sees end-of-file.
  void crash();
  const std::string& name() const { return name_; }

 private:
  ExternalDaemon() = default;
  std::string name_;
  pid_t pid_ = -1;
  std::unique_ptr<HostFuseSocket> sock_;
};

}  // namespace vfsim::fuse
