// The world outside a machine: messages that arrive from a real device
// (vfsim mount's /dev/fuse) or from a recording of one, and the messages the
// machine sends back.
//
// A machine that serves outside requests must not end, nor call itself
// hung, just because every lwp waits for the next request. So when no lwp
// can run, the machine asks its Outside before it moves the clock: the
// source waits until something arrives or the next deadline (a timer, or an
// operation's hang budget) comes, whichever is first. Virtual time advances
// by exactly the time waited, so a source that waits for real (sim/outside_fd.h)
// ties the virtual clock to the host's only while the machine is idle, and a
// recorded source (sim/recording.h) reproduces the same waits without
// waiting. Every message that arrived while the machine was busy is read in
// one batch at the next idle point: requests the host queued together are in
// flight together, and the strategy interleaves their handling.
//
// What arrives is recorded in the trace (the batch's size, its time and every
// byte, folded into the hash), so a run's trace hash covers its inputs. A
// deadlock among the lwps is reported as one even while the outside is open:
// the machine does not wait for a request that could not unblock a cycle.
//
// Only sim/ touches a real file descriptor or clock for this: layers above
// receive an Outside and call receive() and send() inside their lwps.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/sync.h"

namespace vfsim::sim {

// Where the messages come from and where the replies go. Implementations:
// FdSource (a real device, waiting for real; sim/outside_fd.h) and
// RecordedSource (a recording; sim/recording.h). Called only from the
// machine's thread.
class OutsideSource {
 public:
  enum class Wake : std::uint8_t {
    arrived,   // *batch holds one or more messages that arrived at *at
    deadline,  // nothing arrived before `deadline`
    closed,    // nothing will ever arrive again (*at: since when)
  };
  virtual ~OutsideSource() = default;
  // The serving side is ready (the World is up): a device source makes the
  // host mount now. False, with a one-line reason, when it cannot; the
  // source is then closed.
  [[nodiscard]] virtual bool start(std::string* reason) {
    (void)reason;
    return true;
  }
  // The machine is idle at virtual time `now`; waits for messages until
  // `deadline` (kNever: no deadline). On `arrived`, now <= *at <= deadline.
  virtual Wake wait(VTime now, VTime deadline, std::vector<std::string>* batch, VTime* at) = 0;
  // A message the machine sends out (a reply), in the order sent. `lwp` is
  // the machine, for sources that check what is sent.
  virtual void send(Machine& m, std::string_view bytes) = 0;
  // Named data the serving code keeps with a recording (the final tree it
  // left): a source that writes a recording keeps what put_blob gives it
  // (keeps_blobs() is true); a source that plays one back offers what was
  // kept.
  [[nodiscard]] virtual bool keeps_blobs() const { return false; }
  virtual void put_blob(std::string_view name, std::string_view data) {
    (void)name;
    (void)data;
  }
  [[nodiscard]] virtual std::optional<std::string> recorded_blob(std::string_view name) const {
    (void)name;
    return std::nullopt;
  }
};

// The channel between a machine's lwps and its OutsideSource. Constructed
// inside an lwp; attaches itself to the machine (one Outside per machine at
// a time) and detaches in its destructor.
class Outside final : public Resource {
 public:
  Outside(Machine& m, OutsideSource& source, std::string name);
  ~Outside() override;
  Outside(const Outside&) = delete;
  Outside& operator=(const Outside&) = delete;

  // Inside an lwp: the next message, waiting for one if none is queued;
  // nullopt once the source closed and every message was taken.
  [[nodiscard]] std::optional<std::string> receive();
  // Inside an lwp: sends a message (a scheduling point, then the source's
  // send). Mixed into the trace.
  void send(std::string_view bytes);
  [[nodiscard]] bool closed() const { return closed_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t batches() const { return batches_; }
  OutsideSource& source() { return source_; }

  // For the machine, from its main loop when no lwp can run: waits on the
  // source until `deadline`. True when something happened (a batch arrived,
  // or the source closed and waiters were woken); false when the deadline
  // came first (the machine then moves the clock to it).
  bool idle(VTime deadline);

 private:
  OutsideSource& source_;
  std::deque<std::string> queue_;
  std::vector<std::string> batch_;
  bool closed_ = false;
  std::uint64_t received_ = 0, sent_ = 0, batches_ = 0;
};

}  // namespace vfsim::sim
