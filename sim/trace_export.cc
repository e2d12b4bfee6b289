#include "sim/trace_export.h"

#include <cstdio>
#include <map>

#include "sim/trace_model.h"

namespace vfsim::sim {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  std::uint32_t min = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  std::uint32_t cp = c & (0xff >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// Nanoseconds as microseconds with three decimals.
std::string micros(std::uint64_t ns) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ns / 1000),
                static_cast<unsigned long long>(ns % 1000));
  return buf;
}

constexpr int kUserPid = 1;
constexpr int kKernelPid = 2;

// Processes and tracks: which pid an lwp's track belongs to.
class Layout {
 public:
  explicit Layout(const std::vector<LwpSummary>& lwps) {
    for (const LwpSummary& l : lwps) {
      int pid = l.daemon ? kKernelPid : kUserPid;
      if (!l.group.empty()) {
        auto [it, added] =
            groups_.emplace(l.group, kKernelPid + 1 + static_cast<int>(groups_.size()));
        if (added) names_.emplace_back(it->second, l.group);
        pid = it->second;
      }
      pid_.push_back(pid);
    }
  }
  int pid(LwpId lwp) const { return lwp < pid_.size() ? pid_[lwp] : kKernelPid; }
  static int tid(LwpId lwp) { return lwp == kNoLwp ? 0 : static_cast<int>(lwp) + 1; }
  const std::vector<std::pair<int, std::string>>& groups() const { return names_; }

 private:
  std::vector<int> pid_;
  std::map<std::string, int> groups_;
  std::vector<std::pair<int, std::string>> names_;
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // Starts one event object with its common fields; the caller adds more
  // with field() and ends it with close().
  void open(std::string_view ph, std::string_view name, int pid, int tid, std::string_view ts) {
    out_ += first_ ? "\n" : ",\n";
    first_ = false;
    out_ += "{\"ph\":" + json_quote(ph) + ",\"name\":" + json_quote(name) +
            ",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
            ",\"ts\":" + std::string(ts);
  }
  void field(std::string_view key, std::string_view raw_json) {
    out_ += "," + json_quote(key) + ":" + std::string(raw_json);
  }
  void close() { out_ += "}"; }

 private:
  std::string& out_;
  bool first_ = true;
};

std::string step_args(const TraceEvent& e, std::string_view extra = {}) {
  std::string a = "{\"step\":" + std::to_string(e.step) + ",\"vtime_ns\":" + std::to_string(e.time);
  if (!extra.empty()) a += "," + std::string(extra);
  return a + "}";
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (const std::size_t n = c >= 0x80 ? utf8_length(s, i) : 0; n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    }
    ++i;
  }
  return out + "\"";
}

std::string chrome_trace_json(const RunResult& r,
                              const std::vector<std::pair<std::string, std::string>>& metadata) {
  const std::vector<TraceEvent>& events = r.events;
  const TraceModel model(events);
  const Layout layout(r.lwps);
  std::map<std::size_t, std::size_t> by_receive;  // receive event -> message
  for (std::size_t m = 0; m < model.messages().size(); ++m) {
    if (model.messages()[m].receive) by_receive[*model.messages()[m].receive] = m;
  }

  std::string out = "{\"displayTimeUnit\":\"ns\",\"otherData\":{";
  for (std::size_t i = 0; i < metadata.size(); ++i) {
    out += (i ? "," : "") + json_quote(metadata[i].first) + ":" + json_quote(metadata[i].second);
  }
  out += "},\"traceEvents\":[";
  Writer w(out);
  auto meta = [&](std::string_view what, int pid, int tid, std::string_view value_json) {
    w.open("M", what, pid, tid, "0");
    w.field(
        "args",
        "{\"" +
            std::string(what == "process_name" || what == "thread_name" ? "name" : "sort_index") +
            "\":" + std::string(value_json) + "}");
    w.close();
  };
  meta("process_name", kUserPid, 0, json_quote("user processes"));
  meta("process_name", kKernelPid, 0, json_quote("kernel"));
  meta("thread_name", kKernelPid, 0, json_quote("machine (scheduler, clock)"));
  for (const auto& [pid, name] : layout.groups()) meta("process_name", pid, 0, json_quote(name));
  for (int pid = kUserPid; pid <= kKernelPid + static_cast<int>(layout.groups().size()); ++pid) {
    meta("process_sort_index", pid, 0, std::to_string(pid));
  }
  for (const LwpSummary& l : r.lwps) {
    meta("thread_name", layout.pid(l.id), Layout::tid(l.id), json_quote(l.name));
    meta("thread_sort_index", layout.pid(l.id), Layout::tid(l.id), std::to_string(l.id + 1));
  }

  std::map<LwpId, int> depth;  // open spans per lwp
  auto end_span = [&](const TraceEvent& e, int pid, int tid, const std::string& ts,
                      std::string_view result) {
    w.open("E", "", pid, tid, ts);
    w.field("args", step_args(e, result.empty() ? "" : "\"result\":" + json_quote(result)));
    w.close();
  };
  auto instant = [&](const TraceEvent& e, int pid, int tid, const std::string& ts,
                     const std::string& name, std::string_view scope) {
    w.open("i", name, pid, tid, ts);
    w.field("s", json_quote(scope));
    w.field("cat", json_quote(e.kind));
    w.field("args", step_args(e, "\"detail\":" + json_quote(e.detail)));
    w.close();
  };
  auto mark = [&](const TraceEvent& e, int pid, int tid, const std::string& ts,
                  const std::string& name, const TraceModel::Message& m, std::size_t id,
                  std::string_view flow_ph) {
    w.open("X", name, pid, tid, ts);
    w.field("dur", "0.001");
    w.field("cat", "\"message\"");
    w.field("args",
            step_args(e, "\"key\":" + json_quote(m.key) + ",\"detail\":" + json_quote(e.detail)));
    w.close();
    w.open(flow_ph, m.label, pid, tid, ts);
    w.field("cat", "\"message\"");
    w.field("id", std::to_string(id));
    if (flow_ph == "f") w.field("bp", "\"e\"");
    w.close();
  };

  std::size_t next_message = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    const int pid = e.lwp == kNoLwp ? kKernelPid : layout.pid(e.lwp);
    const int tid = Layout::tid(e.lwp);
    const std::string ts = micros(trace_tick_ns(e, i));
    switch (model.role(i)) {
      case EventRole::begin:
        w.open("B", e.detail, pid, tid, ts);
        w.field("cat", json_quote(e.kind == "op_begin" ? "op" : "span"));
        w.field("args", step_args(e));
        w.close();
        ++depth[e.lwp];
        break;
      case EventRole::end:
        if (depth[e.lwp] == 0) break;
        --depth[e.lwp];
        end_span(e, pid, tid, ts, e.detail);
        break;
      case EventRole::send:
      case EventRole::drop: {
        const std::size_t m = next_message++;
        const TraceModel::Message& msg = model.messages()[m];
        if (msg.receive) {
          mark(e, pid, tid, ts, "send: " + msg.label, msg, m, "s");
        } else {
          instant(e, pid, tid, ts,
                  (msg.dropped ? "dropped: " : "sent, never received: ") + msg.label, "t");
        }
        break;
      }
      case EventRole::receive: {
        auto it = by_receive.find(i);
        if (it == by_receive.end()) {
          instant(e, pid, tid, ts, "received: " + e.detail, "t");
          break;
        }
        const TraceModel::Message& msg = model.messages()[it->second];
        mark(e, pid, tid, ts, "recv: " + msg.label, msg, it->second, "f");
        break;
      }
      case EventRole::failure: instant(e, pid, tid, ts, "FAILED: " + e.detail, "g"); break;
      case EventRole::exit:
        for (; depth[e.lwp] > 0; --depth[e.lwp]) end_span(e, pid, tid, ts, "");
        instant(e, pid, tid, ts, "exit", "t");
        break;
      default:
        if (e.kind == "sched" || e.kind == "decide") break;
        instant(e, pid, tid, ts, e.kind + ": " + e.detail, "t");
        break;
    }
  }
  if (!events.empty()) {
    const std::string ts = micros(trace_tick_ns(events.back(), events.size()));
    for (auto& [lwp, d] : depth) {
      for (; d > 0; --d) end_span(events.back(), layout.pid(lwp), Layout::tid(lwp), ts, "");
    }
  }
  out += "\n]}\n";
  return out;
}

}  // namespace vfsim::sim
