#include "sim/trace_model.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace vfsim::sim {

std::string message_label(std::string_view detail) {
  if (detail.size() >= 2 && detail.back() == ')') {
    // The matching '(' of the final ')', so a tag may hold parentheses.
    int depth = 0;
    for (std::size_t i = detail.size(); i-- > 0;) {
      if (detail[i] == ')') ++depth;
      if (detail[i] == '(' && --depth == 0) {
        return std::string(detail.substr(i + 1, detail.size() - i - 2));
      }
    }
  }
  return std::string(detail);
}

TraceModel::TraceModel(const std::vector<TraceEvent>& events) : events_(events) {
  roles_.reserve(events.size());
  // Open spans per lwp, as indexes into spans_, innermost last.
  std::map<LwpId, std::vector<std::size_t>> open;
  // Sends waiting for their receive, by key (a key is used once per send;
  // a duplicate send of one key pairs in order).
  std::map<std::string, std::vector<std::size_t>, std::less<>> in_flight;
  auto close_all = [&](LwpId lwp, std::size_t at) {
    auto it = open.find(lwp);
    if (it == open.end()) return;
    for (auto s = it->second.rbegin(); s != it->second.rend(); ++s) spans_[*s].end = at;
    it->second.clear();
  };
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    const EventRole role = event_role(e.kind);
    roles_.push_back(role);
    switch (role) {
      case EventRole::begin: {
        auto& stack = open[e.lwp];
        Span s;
        s.lwp = e.lwp;
        s.begin = i;
        s.end = i;
        s.depth = static_cast<int>(stack.size());
        s.kind = e.kind;
        s.name = e.detail;
        stack.push_back(spans_.size());
        spans_.push_back(std::move(s));
        break;
      }
      case EventRole::end: {
        auto& stack = open[e.lwp];
        if (stack.empty()) break;  // an end with no begin kept: nothing to close
        Span& s = spans_[stack.back()];
        s.end = i;
        s.ended = true;
        s.result = e.detail;
        stack.pop_back();
        break;
      }
      case EventRole::send:
      case EventRole::drop: {
        Message m;
        m.send = i;
        m.dropped = role == EventRole::drop;
        m.key = e.key;
        m.label = message_label(e.detail);
        if (!m.dropped && !e.key.empty()) in_flight[e.key].push_back(messages_.size());
        messages_.push_back(std::move(m));
        break;
      }
      case EventRole::receive: {
        auto it = in_flight.find(e.key);
        if (it == in_flight.end() || it->second.empty()) break;
        messages_[it->second.front()].receive = i;
        it->second.erase(it->second.begin());
        break;
      }
      case EventRole::failure:
        if (!failure_) failure_ = i;
        break;
      case EventRole::exit: close_all(e.lwp, i); break;
      default: break;
    }
  }
  if (!events.empty()) {
    for (auto& [lwp, stack] : open) close_all(lwp, events.size() - 1);
  }
}

std::vector<long long> TraceModel::happened_before(std::size_t last, std::size_t lwp_count) const {
  std::vector<long long> cut(lwp_count, -1);
  if (events_.empty()) return cut;
  last = std::min(last, events_.size() - 1);
  // Edges into event j from an earlier event of another lwp: its receive's
  // send; for the first event of an lwp after a wake of it, the wake; for an
  // lwp's first event, its spawn (the n-th spawn makes lwp n).
  std::vector<std::vector<std::size_t>> from(events_.size());
  for (const Message& m : messages_) {
    if (m.receive) from[*m.receive].push_back(m.send);
  }
  std::vector<std::size_t> last_wake(lwp_count, events_.size());  // pending wake per lwp
  std::vector<bool> seen(lwp_count, false);
  std::size_t spawns = 0;
  std::vector<std::size_t> spawn_of(lwp_count, events_.size());
  std::vector<std::size_t> exit_of(lwp_count, events_.size());
  for (std::size_t i = 0; i < events_.size(); ++i) {
    const TraceEvent& e = events_[i];
    if (e.kind == "spawn") {
      if (spawns < lwp_count) spawn_of[spawns] = i;
      ++spawns;
    }
    if (e.lwp != kNoLwp && e.lwp < lwp_count) {
      if (!seen[e.lwp] && spawn_of[e.lwp] < i) from[i].push_back(spawn_of[e.lwp]);
      seen[e.lwp] = true;
      if (last_wake[e.lwp] < i) {
        from[i].push_back(last_wake[e.lwp]);
        last_wake[e.lwp] = events_.size();
      }
    }
    std::size_t id = 0;
    const bool has_id =
        std::from_chars(e.key.data(), e.key.data() + e.key.size(), id).ec == std::errc() &&
        id < lwp_count;
    if (roles_[i] == EventRole::exit && e.lwp < lwp_count) exit_of[e.lwp] = i;
    if (roles_[i] == EventRole::joined && has_id && exit_of[id] < i) from[i].push_back(exit_of[id]);
    if (roles_[i] == EventRole::wake && has_id && id != e.lwp) {
      last_wake[id] = i;
    }
  }
  const LwpId start = events_[last].lwp;
  if (start == kNoLwp || start >= lwp_count) return cut;
  cut[start] = static_cast<long long>(last);
  for (std::size_t i = last + 1; i-- > 0;) {
    const LwpId l = events_[i].lwp;
    if (l == kNoLwp || l >= lwp_count || cut[l] < static_cast<long long>(i)) continue;
    for (std::size_t j : from[i]) {
      const LwpId k = events_[j].lwp;
      if (k == kNoLwp || k >= lwp_count) continue;
      cut[k] = std::max(cut[k], static_cast<long long>(j));
    }
  }
  return cut;
}

}  // namespace vfsim::sim
