// A machine with one FUSE daemon (a registered file system running on the
// rewritten libfuse) and the kernel side of its connection, for the runtime
// tests: the body runs in a "kernel" lwp after INIT, then the connection
// closes (unmount) and the daemon must exit with status 0.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fsdrivers/fuse/fuse_conn.h"
#include "fsdrivers/fuse/runtime/fuse_daemon.h"
#include "sim/explore.h"

namespace vfsim::fuse::testing {

struct Rig {
  FuseConn& conn;
  FuseDaemon& daemon;
  sim::Machine& m;
};

using RigBody = std::function<void(Rig&)>;

struct RigOptions {
  std::string fs = "hello_ll";
  std::vector<std::string> args;
  int workers = 1;
  sim::SockType transport = sim::SockType::seqpacket;
  bool mountpoint_is_file = false;  // null.c mounts on a regular file
  DevFraming framing = DevFraming::naive;
};

inline sim::RunResult run_rig(const sim::MachineOptions& mo, sim::Strategy& st, const RigOptions& o,
                              const RigBody& body) {
  sim::Machine m(mo, st);
  sim::SocketOptions so;
  so.type = o.transport;
  so.name = "/dev/fuse";
  sim::SocketPair pair(m, so);
  const FsEntry* fs = find_fs(linked_file_systems(), o.fs);
  if (fs == nullptr) throw std::runtime_error("no fs " + o.fs);
  DaemonOptions dopt;
  dopt.args = o.args;
  dopt.workers = o.workers;
  dopt.mountpoint_is_file = o.mountpoint_is_file;
  dopt.framing = o.framing;
  std::string error;
  auto daemon = FuseDaemon::create(m, *fs, pair.end(1), dopt, &error);
  if (!daemon) throw std::runtime_error(error);
  FuseConn conn(m, pair.end(0), ConnOptions{});
  daemon->start();
  conn.start();
  m.spawn("kernel", [&] {
    if (!conn.init().ok()) m.fail(sim::Outcome::protocol, "INIT failed");
    Rig rig{conn, *daemon, m};
    body(rig);
    conn.close();
    daemon->wait_exit();
    if (daemon->exit_status() != 0) {
      m.fail(sim::Outcome::expectation,
             "daemon exited with status " + std::to_string(daemon->exit_status()));
    }
  });
  return m.run();
}

inline sim::RunResult run_rig_once(const RigOptions& o, const RigBody& body, std::uint64_t seed = 1,
                                   const std::string& strategy = "random",
                                   bool keep_trace = false) {
  sim::StrategyParams sp;
  sp.seed = seed;
  auto st = sim::make_strategy(strategy, sp);
  st->begin_run(0, seed);
  sim::MachineOptions mo;
  mo.seed = seed;
  mo.keep_trace = keep_trace;
  return run_rig(mo, *st, o, body);
}

}  // namespace vfsim::fuse::testing
