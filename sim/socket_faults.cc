#include "sim/socket_faults.h"

#include <algorithm>

namespace vfsim::sim {

std::string_view sock_fault_name(SockFault f) {
  switch (f) {
    case SockFault::drop: return "drop";
    case SockFault::delay: return "delay";
    case SockFault::duplicate: return "duplicate";
    case SockFault::reorder: return "reorder";
  }
  return "?";
}

std::optional<SockFault> sock_fault_from_name(std::string_view name) {
  for (SockFault f :
       {SockFault::drop, SockFault::delay, SockFault::duplicate, SockFault::reorder}) {
    if (sock_fault_name(f) == name) return f;
  }
  return std::nullopt;
}

FaultySocket::FaultySocket(Machine& m, Socket& inner, std::vector<SockFaultRule> rules)
    : machine_(m), inner_(inner), rules_(std::move(rules)) {
  for (const SockFaultRule& r : rules_) {
    active_.push_back(m.rng().chance(r.active_per_million, 1'000'000));
  }
}

// The first active rule that fires for message number `n`, or none.
const SockFaultRule* FaultySocket::pick(std::uint64_t n) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (!active_[i]) continue;
    const SockFaultRule& r = rules_[i];
    const bool by_step =
        std::find(r.at_messages.begin(), r.at_messages.end(), n) != r.at_messages.end();
    if (by_step || (r.per_million > 0 && machine_.rng().chance(r.per_million, 1'000'000))) {
      return &r;
    }
  }
  return nullptr;
}

// The message number is hashed; the tag (which callers may leave empty when
// the trace is not kept) only goes to a kept trace's text.
void FaultySocket::note(SockFault kind, std::uint64_t n, std::string_view tag) {
  ++faults_;
  const std::string k = "sock_fault_" + std::string(sock_fault_name(kind));
  machine_.event(k, inner_.name() + " message " + std::to_string(n));
  if (!tag.empty() && machine_.trace().keeping()) {
    machine_.trace().note(machine_.steps(), machine_.now(), machine_.current_id(), k,
                          "  tagged " + std::string(tag));
  }
}

IoResult FaultySocket::send_held() {
  if (!held_) return {};
  auto [bytes, tag] = std::move(*held_);
  held_.reset();
  return inner_.send(bytes, tag);
}

IoResult FaultySocket::send(std::string_view bytes, std::string_view tag) {
  const std::uint64_t n = ++count_;
  const SockFaultRule* rule = pick(n);
  if (rule == nullptr) {
    IoResult r = inner_.send(bytes, tag);
    if (r.ok() && held_) (void)send_held();  // the held one now arrives late
    return r;
  }
  note(rule->kind, n, tag);
  switch (rule->kind) {
    case SockFault::drop:
      machine_.sched_point("sock_send");  // a send is a scheduling point even when lost
      return {kOk, bytes.size()};
    case SockFault::duplicate: {
      IoResult r = inner_.send(bytes, tag);
      if (r.ok()) (void)inner_.send(bytes, tag);
      return r;
    }
    case SockFault::reorder:
      if (held_) (void)send_held();  // one message held at a time
      held_.emplace(std::string(bytes), std::string(tag));
      machine_.sched_point("sock_send");
      return {kOk, bytes.size()};
    case SockFault::delay: {
      // A courier lwp carries the message so the sender does not wait; it is
      // a daemon, so a run does not wait for messages still in flight.
      Socket& inner = inner_;
      machine_.spawn(
          "courier " + inner_.name() + " #" + std::to_string(n),
          [&m = machine_, &inner, b = std::string(bytes), t = std::string(tag), d = rule->delay] {
            m.sleep_for(d);
            (void)inner.send(b, t);
          },
          /*daemon=*/true);
      machine_.sched_point("sock_send");
      return {kOk, bytes.size()};
    }
  }
  return {kOk, bytes.size()};
}

void FaultySocket::close() {
  if (held_ && !inner_.closed()) (void)send_held();
  inner_.close();
}

void FaultySocket::crash() {
  if (held_) {
    machine_.event("sock_fault_crash", inner_.name() + " loses a held message");
    held_.reset();
  }
  machine_.event("sock_crash", inner_.name());
  inner_.close();
}

std::vector<SockFaultRule> drop_rules(const std::vector<std::uint64_t>& at, std::uint64_t ppm) {
  std::vector<SockFaultRule> rules;
  if (at.empty() && ppm == 0) return rules;
  SockFaultRule r;
  r.kind = SockFault::drop;
  r.at_messages = at;
  r.per_million = static_cast<std::uint32_t>(ppm);
  rules.push_back(r);
  return rules;
}

}  // namespace vfsim::sim
