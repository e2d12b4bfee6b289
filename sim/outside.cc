// The channel to the outside world (outside.h).
#include "sim/outside.h"

namespace vfsim::sim {

Outside::Outside(Machine& m, OutsideSource& source, std::string name)
    : Resource(m, std::move(name), ResourceKind::channel), source_(source) {
  m.attach_outside(this);
}

Outside::~Outside() { machine_.detach_outside(this); }

std::optional<std::string> Outside::receive() {
  machine_.sched_point("outside_receive");
  while (queue_.empty()) {
    if (closed_) return std::nullopt;
    wait_here("outside request");
  }
  std::string msg = std::move(queue_.front());
  queue_.pop_front();
  ++received_;
  return msg;
}

void Outside::send(std::string_view bytes) {
  machine_.sched_point("outside_send");
  ++sent_;
  Trace& t = machine_.trace();
  t.mix(0x5e4d);
  t.mix(bytes);
  source_.send(machine_, bytes);
}

bool Outside::idle(VTime deadline) {
  batch_.clear();
  VTime at = machine_.now();
  const OutsideSource::Wake w = source_.wait(machine_.now(), deadline, &batch_, &at);
  if (w == OutsideSource::Wake::deadline) return false;
  machine_.outside_time(w == OutsideSource::Wake::arrived ? std::min(at, deadline) : at);
  if (w == OutsideSource::Wake::closed) {
    closed_ = true;
    machine_.event("outside_closed", name_);
    wake_all();
    return true;
  }
  ++batches_;
  Trace& t = machine_.trace();
  std::uint64_t bytes = 0;
  for (const std::string& m : batch_) {
    t.mix(m);
    bytes += m.size();
  }
  machine_.event("outside_arrival", std::to_string(batch_.size()) + " messages, " +
                                        std::to_string(bytes) + " bytes at " +
                                        std::to_string(machine_.now()));
  for (std::string& m : batch_) queue_.push_back(std::move(m));
  wake_all();
  return true;
}

}  // namespace vfsim::sim
