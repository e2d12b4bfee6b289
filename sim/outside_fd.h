// A real device as a machine's outside world: vfsim mount's /dev/fuse (or,
// in tests, one end of a SOCK_SEQPACKET socket pair, which keeps message
// boundaries the same way). One read(2) returns one whole message; the
// device is read without blocking, so every message the host queued while
// the machine was busy arrives in one batch. When nothing is queued the
// source waits for real (ppoll) until a message comes or the machine's next
// deadline, and reports the time it waited, which becomes virtual time.
//
// The end: read(2) answering ENODEV (the host unmounted a FUSE file system)
// or 0 (the peer of a socket closed) closes the outside. A signal on the
// optional signalfd (SIGINT, SIGTERM) calls on_signal, which asks the host
// to unmount; the device then ends as after any unmount.
//
// This and recording.cc are the only places that read a host clock for the
// machine; nothing of it reaches a run except through the times reported.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/outside.h"
#include "sim/recording.h"

namespace vfsim::sim {

struct FdSourceOptions {
  int fd = -1;                        // the device; made non-blocking; not closed
  std::size_t max_message = 1 << 20;  // read buffer: the largest message
  int signal_fd = -1;                 // a signalfd, or -1
  // Called by start(): make the device live (the host mount); false with a
  // reason when it cannot.
  std::function<bool(std::string*)> on_start = {};
  // A signal arrived: ask the host to end the device (unmount).
  std::function<void(int signo)> on_signal = {};
  // Every arrival, message sent, close and blob goes here too, or nowhere.
  RecordingWriter* recorder = nullptr;
};

class FdSource final : public OutsideSource {
 public:
  explicit FdSource(FdSourceOptions o);
  bool start(std::string* reason) override;
  Wake wait(VTime now, VTime deadline, std::vector<std::string>* batch, VTime* at) override;
  void send(Machine& m, std::string_view bytes) override;
  bool keeps_blobs() const override { return options_.recorder != nullptr; }
  void put_blob(std::string_view name, std::string_view data) override;

  // How the device ended ("" while open, or after an ordinary unmount).
  const std::string& error() const { return error_; }
  bool started() const { return started_; }
  std::uint64_t send_failures() const { return send_failures_; }
  int last_signal() const { return last_signal_; }

 private:
  enum class Read : std::uint8_t { some, none, closed };
  Read read_queued(std::vector<std::string>* batch);
  void drain_signals();

  FdSourceOptions options_;
  std::vector<char> buf_;
  bool started_ = false;
  bool closed_ = false;
  std::string error_;
  std::uint64_t send_failures_ = 0;
  int last_signal_ = 0;
};

}  // namespace vfsim::sim
