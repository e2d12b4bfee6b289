// Fault model of the socket transport.
//
// What may fail: a message (one send; one write on a stream) leaving an end
// may be dropped, delayed by virtual time, duplicated, or reordered behind the
// next message; and an end may crash (close abruptly, leaving a peer that sees
// EOF, ECONNRESET or EPIPE). Each rule fires either with a probability per
// message or on given message numbers ("the 3rd message"), and each rule is
// switched on once per run with its own probability (FoundationDB's Buggify):
// so one seed has a fixed fault plan and different seeds explore different
// ones. All draws come from the machine's RNG, so a seed replays its faults.
//
// Why the layers above must survive it: a userspace file server is another
// process. Its messages can be lost (NetBSD's local SOCK_DGRAM drops under
// congestion, as PERFUSE found), arrive late or twice (a server that retries),
// or stop for good (the server crashed). The puffs kernel stub must turn each
// of these into an errno, a timeout and retry, or a forced unmount — never a
// panic, and never a syscall that waits forever unnoticed.
//
// FaultySocket wraps a real end (CONVENTIONS §2) and forwards everything it
// does not change; only the sending direction of the wrapped end is faulted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/socket.h"

namespace vfsim::sim {

enum class SockFault : std::uint8_t {
  drop,       // the message never arrives
  delay,      // the message arrives `delay` later (a courier lwp carries it)
  duplicate,  // the message arrives twice
  reorder,    // the message is held and sent right after the next one
};

std::string_view sock_fault_name(SockFault f);
std::optional<SockFault> sock_fault_from_name(std::string_view name);

struct SockFaultRule {
  SockFault kind = SockFault::drop;
  std::uint32_t per_million = 0;                 // chance per message
  std::vector<std::uint64_t> at_messages;        // or exactly these (1-based) messages
  std::uint32_t active_per_million = 1'000'000;  // chance the rule is on this run
  VTime delay = kMillisecond;                    // for `delay`
};

// The rules of a knob pair "drop these messages / drop this many per
// million" (puffs.req_drop_at, ...): none when both are unset, else one
// drop rule.
std::vector<SockFaultRule> drop_rules(const std::vector<std::uint64_t>& at, std::uint64_t ppm);

class FaultySocket final : public Socket {
 public:
  FaultySocket(Machine& m, Socket& inner, std::vector<SockFaultRule> rules);

  IoResult send(std::string_view bytes, std::string_view tag = {}) override;
  IoResult recv(std::string* out, std::size_t max, VTime timeout = 0) override {
    return inner_.recv(out, max, timeout);
  }
  // An orderly close: a held (reordered) message goes out first.
  void close() override;
  // A crash: whatever is held is lost, then the end closes.
  void crash();
  SockType type() const override { return inner_.type(); }
  const std::string& name() const override { return inner_.name(); }
  bool closed() const override { return inner_.closed(); }

  std::uint64_t messages() const { return count_; }
  std::uint64_t faults() const { return faults_; }

 private:
  const SockFaultRule* pick(std::uint64_t n);
  void note(SockFault kind, std::uint64_t n, std::string_view tag);
  IoResult send_held();

  Machine& machine_;
  Socket& inner_;
  std::vector<SockFaultRule> rules_;
  std::vector<bool> active_;  // per rule, decided once at construction
  std::uint64_t count_ = 0;   // messages sent through this wrapper
  std::uint64_t faults_ = 0;
  std::optional<std::pair<std::string, std::string>> held_;  // bytes, tag
};

}  // namespace vfsim::sim
