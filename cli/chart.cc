#include "cli/chart.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "sim/trace_model.h"

namespace vfsim::cli {

namespace {

using sim::EventRole;
using sim::LwpId;
using sim::TraceEvent;
using sim::TraceModel;

constexpr int kColW = 150;
constexpr int kMargin = 24;
constexpr int kTop = 96;  // first row's y offset
constexpr int kRowH = 15;
constexpr int kBoxW = 128;
constexpr std::size_t kLabelChars = 22;
constexpr std::size_t kTitleLines = 40;

std::string xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab and newline.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += '?';
        else out += c;
    }
  }
  return out;
}

std::string shorten(std::string_view s, std::size_t n) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n - 1)) + "\u2026";
}

// An op's box label: the op and its arguments and result, without the
// place prefix ("lwp autoconf op 0 (write) fd=3 -> 4" -> "write fd=3 -> 4").
std::string op_label(const TraceModel::Span& s) {
  const std::string_view name = s.name;
  const auto open = name.rfind(" (");
  std::string op = open == std::string_view::npos || name.back() != ')'
                       ? std::string(name)
                       : std::string(name.substr(open + 2, name.size() - open - 3));
  if (s.ended && s.result.starts_with(s.name)) op += s.result.substr(s.name.size());
  return op;
}

struct Column {
  LwpId lwp = 0;
  std::string name;
  std::string group;
  int order = 0;  // 0 user, 1 kernel, 2.. servers
};

struct Box {
  std::size_t span = 0;  // into model.spans()
  std::size_t end = 0;   // event index, clamped to the chart's last event
  int depth = 0;
  bool failing = false;
};

struct Wake {
  std::size_t at = 0;     // the wake event
  std::size_t woken = 0;  // the woken lwp's next event
  LwpId to = 0;
};

class Chart {
 public:
  Chart(const sim::RunResult& r, const ChartOptions& o) : r_(r), o_(o), model_(r.events) {
    select();
    place();
  }
  std::string svg() const;

 private:
  void select();
  void select_spans();
  void select_wakes();
  void place();
  // In what the chart shows: up to the failure, and happened before it.
  bool in(std::size_t i) const {
    const LwpId l = ev()[i].lwp;
    return i <= last_ && l < r_.lwps.size() && static_cast<long long>(i) <= cut_[l];
  }
  // ... and between the setup and the checks, where messages, server ops and
  // wakes are drawn (setup and check ops are boxes only).
  bool in_detail(std::size_t i) const { return i >= start_ && i < checks_ && in(i); }
  std::optional<std::size_t> next_of(LwpId lwp, std::size_t after) const;
  const std::vector<TraceEvent>& ev() const { return r_.events; }
  int x(LwpId lwp) const { return kMargin + col_of_.at(lwp) * kColW + kColW / 2; }
  int y(std::size_t event) const;
  std::string line(std::size_t i) const;
  std::string lines(LwpId lwp, std::size_t from, std::size_t to) const;
  void draw_header(std::string& out) const;
  void draw_boxes(std::string& out) const;
  void draw_messages(std::string& out) const;
  void draw_marks(std::string& out) const;

  const sim::RunResult& r_;
  const ChartOptions& o_;
  TraceModel model_;
  std::size_t start_ = 0;   // first event after the setup ops
  std::size_t checks_ = 0;  // first event of the check ops
  std::size_t last_ = 0;
  std::vector<std::vector<std::size_t>> by_lwp_;  // event indexes per lwp
  std::vector<long long> cut_;
  std::optional<std::size_t> failure_;  // the failure event
  LwpId failure_lwp_ = sim::kNoLwp;     // whose it is (a hang's: the op's lwp)
  bool focused_ = false;
  std::vector<Box> boxes_;
  std::vector<std::size_t> messages_;  // into model.messages()
  std::vector<Wake> wakes_;
  std::vector<std::size_t> preempts_;  // event indexes
  std::vector<std::size_t> notices_;   // event indexes
  std::vector<std::size_t> lost_;      // messages never received, into model.messages()
  std::vector<Column> columns_;
  std::map<LwpId, int> col_of_;
  std::vector<std::size_t> rows_;  // sorted event indexes that have a row
  int width_ = 0;
  int height_ = 0;
  std::vector<std::string> failed_lines_;
};

void Chart::select() {
  const std::size_t n = r_.lwps.size();
  if (ev().empty()) return;
  by_lwp_.resize(n);
  for (std::size_t i = 0; i < ev().size(); ++i) {
    if (ev()[i].lwp < n) by_lwp_[ev()[i].lwp].push_back(i);
  }
  failure_ = model_.failure();
  last_ = failure_ ? *failure_ : ev().size() - 1;
  checks_ = last_ + 1;
  // The failing lwp: the failure event's, or (a hang found by the clock, a
  // deadlock) the one the run names, if any; what it did last is the anchor.
  std::optional<std::size_t> anchor;
  if (failure_ && ev()[*failure_].lwp < n) {
    failure_lwp_ = ev()[*failure_].lwp;
    anchor = failure_;
  } else if (failure_ && !r_.failure_lwp.empty()) {
    for (const auto& l : r_.lwps) {
      if (l.name != r_.failure_lwp || by_lwp_[l.id].empty()) continue;
      failure_lwp_ = l.id;
      const auto& mine = by_lwp_[l.id];
      const auto it = std::upper_bound(mine.begin(), mine.end(), *failure_);
      if (it != mine.begin()) anchor = *std::prev(it);
      break;
    }
  }
  focused_ = !o_.all && anchor.has_value();
  cut_ = focused_ ? model_.happened_before(*anchor, n) : std::vector<long long>(n, LLONG_MAX);
  if (!o_.all) {
    // The scenario's setup and check ops (runner.cc names them "setup op N
    // (...)" and "checks op N (...)") only observe and prepare.
    for (std::size_t i = 0; i <= last_; ++i) {
      const TraceEvent& e = ev()[i];
      if (model_.role(i) == EventRole::end && e.kind == "op" && e.detail.starts_with("setup op ")) {
        start_ = i + 1;
      }
      if (model_.role(i) == EventRole::begin && e.kind == "op_begin" &&
          e.detail.starts_with("checks op ") && checks_ > last_) {
        checks_ = i;
      }
    }
  }
  select_spans();
  for (std::size_t m = 0; m < model_.messages().size(); ++m) {
    const auto& msg = model_.messages()[m];
    if (msg.receive && in_detail(msg.send) && in_detail(*msg.receive) &&
        ev()[msg.send].lwp != ev()[*msg.receive].lwp) {
      messages_.push_back(m);
    }
  }
  for (std::size_t m = 0; m < model_.messages().size(); ++m) {
    const auto& msg = model_.messages()[m];
    if (!msg.receive && in_detail(msg.send)) lost_.push_back(m);
  }
  select_wakes();
  for (std::size_t i = 0; i <= last_; ++i) {
    if (model_.role(i) == EventRole::preempt && in(i)) preempts_.push_back(i);
    if (model_.role(i) == EventRole::notice && in_detail(i)) notices_.push_back(i);
  }

  std::set<LwpId> used;
  for (const Box& b : boxes_) used.insert(model_.spans()[b.span].lwp);
  for (std::size_t m : messages_) {
    used.insert(ev()[model_.messages()[m].send].lwp);
    used.insert(ev()[*model_.messages()[m].receive].lwp);
  }
  for (const Wake& w : wakes_) {
    used.insert(ev()[w.at].lwp);
    used.insert(w.to);
  }
  for (std::size_t p : preempts_) used.insert(ev()[p].lwp);
  for (std::size_t p : notices_) used.insert(ev()[p].lwp);
  for (std::size_t m : lost_) used.insert(ev()[model_.messages()[m].send].lwp);
  if (failure_lwp_ != sim::kNoLwp) used.insert(failure_lwp_);
  std::map<std::string, int> server_order;
  for (LwpId l : used) {
    const sim::LwpSummary& s = r_.lwps[l];
    Column c{l, s.name, s.group, 0};
    if (!s.group.empty()) {
      c.order =
          2 + server_order.emplace(s.group, static_cast<int>(server_order.size())).first->second;
    } else if (s.daemon) {
      c.order = 1;
      c.group = "kernel";
    } else {
      c.group = "user processes";
    }
    columns_.push_back(c);
  }
  std::stable_sort(columns_.begin(), columns_.end(), [](const Column& a, const Column& b) {
    return a.order != b.order ? a.order < b.order : a.lwp < b.lwp;
  });
  for (std::size_t k = 0; k < columns_.size(); ++k) col_of_[columns_[k].lwp] = static_cast<int>(k);
}

// Scenario ops over the whole run; server ops (and VOPs, when asked) where
// messages are drawn.
void Chart::select_spans() {
  std::map<LwpId, std::vector<std::size_t>> open;  // selected boxes' end per lwp
  for (std::size_t s = 0; s < model_.spans().size(); ++s) {
    const TraceModel::Span& span = model_.spans()[s];
    const bool op = span.kind == "op_begin";
    if (op ? !in(span.begin) : !in_detail(span.begin)) continue;
    if (!o_.vops && span.name.starts_with("VOP_")) continue;
    auto& stack = open[span.lwp];
    while (!stack.empty() && stack.back() < span.begin) stack.pop_back();
    Box b;
    b.span = s;
    b.end = std::min(span.end, last_);
    b.depth = static_cast<int>(stack.size());
    stack.push_back(b.end);
    boxes_.push_back(b);
  }
  // The failing op: the last scenario op its lwp began before the failure
  // (a check fails after its op's result is recorded).
  // Without a failing lwp (a deadlock), the ops the run ended inside.
  if (!failure_) return;
  Box* failing = nullptr;
  for (Box& b : boxes_) {
    const TraceModel::Span& span = model_.spans()[b.span];
    if (span.kind != "op_begin") continue;
    if (failure_lwp_ == sim::kNoLwp) {
      b.failing = !span.ended || span.end > *failure_;
    } else if (span.lwp == failure_lwp_ && span.begin <= *failure_) {
      failing = &b;
    }
  }
  if (failing != nullptr) failing->failing = true;
}

std::optional<std::size_t> Chart::next_of(LwpId lwp, std::size_t after) const {
  const auto& v = by_lwp_[lwp];
  const auto it = std::upper_bound(v.begin(), v.end(), after);
  if (it == v.end() || *it > last_) return std::nullopt;
  return *it;
}

// Wakes from one lwp to another, except those that end a wait for a message
// the same waker sent (the message's arrow already says it).
void Chart::select_wakes() {
  const std::size_t n = r_.lwps.size();
  std::map<std::size_t, std::size_t> by_receive;
  for (std::size_t m = 0; m < model_.messages().size(); ++m) {
    if (model_.messages()[m].receive) by_receive[*model_.messages()[m].receive] = m;
  }
  for (std::size_t i = start_; i < checks_ && i <= last_; ++i) {
    if (model_.role(i) != EventRole::wake || !in_detail(i)) continue;
    std::size_t to = 0;
    const std::string& key = ev()[i].key;
    if (std::from_chars(key.data(), key.data() + key.size(), to).ec != std::errc() || to >= n ||
        to == ev()[i].lwp) {
      continue;
    }
    const auto next = next_of(static_cast<LwpId>(to), i);
    if (!next || !in_detail(*next)) continue;
    bool by_message = false;
    for (auto j = next; j; j = next_of(static_cast<LwpId>(to), *j)) {
      if (model_.role(*j) == EventRole::block) break;
      if (model_.role(*j) != EventRole::receive) continue;
      const auto m = by_receive.find(*j);
      by_message =
          m != by_receive.end() && ev()[model_.messages()[m->second].send].lwp == ev()[i].lwp;
      break;
    }
    if (!by_message) wakes_.push_back(Wake{i, *next, static_cast<LwpId>(to)});
  }
}

void Chart::place() {
  std::set<std::size_t> rows;
  for (const Box& b : boxes_) {
    rows.insert(model_.spans()[b.span].begin);
    rows.insert(b.end);
  }
  for (std::size_t m : messages_) {
    rows.insert(model_.messages()[m].send);
    rows.insert(*model_.messages()[m].receive);
  }
  for (const Wake& w : wakes_) {
    rows.insert(w.at);
    rows.insert(w.woken);
  }
  rows.insert(preempts_.begin(), preempts_.end());
  rows.insert(notices_.begin(), notices_.end());
  for (std::size_t m : lost_) rows.insert(model_.messages()[m].send);
  if (failure_) rows.insert(*failure_);
  rows_.assign(rows.begin(), rows.end());
  // Room for the marks right of the last column, and for the headings.
  const std::size_t heading = std::max(o_.title.size(), o_.subtitle.size());
  width_ = std::max({2 * kMargin + static_cast<int>(columns_.size()) * kColW + 70, 640,
                     kMargin * 2 + static_cast<int>(heading) * 13 / 2});
  // The failure's message, wrapped to the chart's width (4 lines at most).
  if (r_.failed()) {
    const std::string outcome(sim::outcome_name(r_.outcome));
    std::string text =
        "FAILED: " +
        (r_.message.starts_with(outcome + ":") ? r_.message : outcome + ": " + r_.message);
    const std::size_t per_line = static_cast<std::size_t>((width_ - 2 * kMargin) * 10 / 70);
    while (!text.empty() && failed_lines_.size() < 4) {
      std::size_t cut = text.size();
      if (cut > per_line) {
        cut = text.rfind(' ', per_line);
        if (cut == std::string::npos || cut == 0) cut = per_line;
      }
      failed_lines_.push_back(failed_lines_.size() == 3 && cut < text.size()
                                  ? shorten(text, per_line)
                                  : text.substr(0, cut));
      text.erase(0, std::min(text.size(), cut + 1));
    }
  }
  height_ = kTop + static_cast<int>(rows_.size()) * kRowH + 96 +
            15 * static_cast<int>(failed_lines_.empty() ? 0 : failed_lines_.size() - 1);
}

int Chart::y(std::size_t event) const {
  const auto it = std::lower_bound(rows_.begin(), rows_.end(), event);
  return kTop + 20 + static_cast<int>(it - rows_.begin()) * kRowH;
}

std::string Chart::line(std::size_t i) const {
  const TraceEvent& e = ev()[i];
  std::string who = e.lwp < r_.lwps.size() ? r_.lwps[e.lwp].name : "machine";
  return "[" + std::to_string(e.step) + "] " + who + " " + e.kind + ": " + e.detail;
}

std::string Chart::lines(LwpId lwp, std::size_t from, std::size_t to) const {
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = from; i <= to && i < ev().size(); ++i) {
    if (ev()[i].lwp != lwp || ev()[i].kind == "sched" || ev()[i].kind == "decide") continue;
    if (++n > kTitleLines) {
      out += "...\n";
      break;
    }
    out += line(i) + "\n";
  }
  return out;
}

void Chart::draw_header(std::string& out) const {
  out += "<text x=\"" + std::to_string(kMargin) +
         "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">" + xml(o_.title) + "</text>\n";
  out += "<text x=\"" + std::to_string(kMargin) + "\" y=\"40\" fill=\"#444\">" + xml(o_.subtitle) +
         "</text>\n";
  // Group headings over runs of columns of one group.
  for (std::size_t k = 0; k < columns_.size();) {
    std::size_t e = k;
    while (e < columns_.size() && columns_[e].group == columns_[k].group) ++e;
    const int x0 = kMargin + static_cast<int>(k) * kColW + 4;
    const int w = static_cast<int>(e - k) * kColW - 8;
    out += "<g class=\"group\" data-group=\"" + xml(columns_[k].group) + "\"><rect x=\"" +
           std::to_string(x0) + "\" y=\"50\" width=\"" + std::to_string(w) +
           "\" height=\"16\" rx=\"3\" fill=\"#eee\"/><text x=\"" + std::to_string(x0 + w / 2) +
           "\" y=\"62\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">" +
           xml(columns_[k].group) + "</text></g>\n";
    k = e;
  }
  const int bottom =
      height_ - 80 - 15 * static_cast<int>(failed_lines_.empty() ? 0 : failed_lines_.size() - 1);
  for (const Column& c : columns_) {
    const int cx = x(c.lwp);
    out += "<g class=\"lwp\" data-lwp=\"" + xml(c.name) + "\" data-id=\"" + std::to_string(c.lwp) +
           "\"><title>lwp " + std::to_string(c.lwp) + " '" + xml(c.name) + "' (" + xml(c.group) +
           ")</title><rect x=\"" + std::to_string(cx - kBoxW / 2) + "\" y=\"70\" width=\"" +
           std::to_string(kBoxW) + "\" height=\"20\" rx=\"4\" fill=\"#333\"/><text x=\"" +
           std::to_string(cx) +
           "\" y=\"84\" text-anchor=\"middle\" fill=\"#fff\" font-weight=\"bold\">" +
           xml(shorten(c.name, kLabelChars)) + "</text><line x1=\"" + std::to_string(cx) +
           "\" y1=\"90\" x2=\"" + std::to_string(cx) + "\" y2=\"" + std::to_string(bottom) +
           "\" stroke=\"#bbb\" stroke-dasharray=\"3 3\"/></g>\n";
  }
}

void Chart::draw_boxes(std::string& out) const {
  for (const Box& b : boxes_) {
    const TraceModel::Span& s = model_.spans()[b.span];
    const bool op = s.kind == "op_begin";
    const bool vop = s.name.starts_with("VOP_");
    const int w = kBoxW - 12 * b.depth;
    const int y1 = y(s.begin) - 5;
    const int y2 = std::max(y(b.end) + 5, y1 + 12);
    std::string fill = op ? "#dbe8fb" : vop ? "#f4f4f4" : "#e1f3e1";
    std::string stroke = op ? "#4a78c2" : vop ? "#999" : "#3f8f3f";
    if (b.failing) {
      fill = "#fde0e0";
      stroke = "#d01010";
    }
    const std::string label = op ? op_label(s) : s.name;
    out += "<g class=\"" + std::string(op ? "op" : "span") + "\" data-lwp=\"" +
           xml(r_.lwps[s.lwp].name) + "\" data-name=\"" + xml(s.name) + "\"" +
           (b.failing ? " data-failing=\"true\"" : "") + "><title>" +
           xml(label + "\n" + lines(s.lwp, s.begin, b.end)) + "</title><rect x=\"" +
           std::to_string(x(s.lwp) - w / 2) + "\" y=\"" + std::to_string(y1) + "\" width=\"" +
           std::to_string(w) + "\" height=\"" + std::to_string(y2 - y1) + "\" rx=\"3\" fill=\"" +
           fill + "\" stroke=\"" + stroke + "\"" + (b.failing ? " stroke-width=\"2\"" : "") +
           "/><text x=\"" + std::to_string(x(s.lwp) - w / 2 + 4) + "\" y=\"" +
           std::to_string(y1 + 11) + "\" font-size=\"10\" fill=\"" +
           (b.failing ? "#a00000" : "#123") + "\">" +
           xml(shorten(label, kLabelChars - static_cast<std::size_t>(2 * b.depth))) +
           "</text></g>\n";
  }
}

void Chart::draw_messages(std::string& out) const {
  for (std::size_t m : messages_) {
    const TraceModel::Message& msg = model_.messages()[m];
    const std::size_t rcv = *msg.receive;
    const LwpId from = ev()[msg.send].lwp;
    const LwpId to = ev()[rcv].lwp;
    const int x1 = x(from);
    const int x2 = x(to);
    const int y1 = y(msg.send);
    const int y2 = y(rcv);
    const int lx = (x1 + x2) / 2;
    const int ly = (y1 + y2) / 2 - 3;
    out += "<g class=\"msg\" data-msg=\"" + xml(msg.label) + "\" data-key=\"" + xml(msg.key) +
           "\" data-from=\"" + xml(r_.lwps[from].name) + "\" data-to=\"" + xml(r_.lwps[to].name) +
           "\" data-send-step=\"" + std::to_string(ev()[msg.send].step) + "\" data-recv-step=\"" +
           std::to_string(ev()[rcv].step) + "\"><title>" +
           xml(msg.label + "\n" + line(msg.send) + "\n" + line(rcv)) + "</title><line x1=\"" +
           std::to_string(x1) + "\" y1=\"" + std::to_string(y1) + "\" x2=\"" + std::to_string(x2) +
           "\" y2=\"" + std::to_string(y2) +
           "\" stroke=\"#1b3a6b\" stroke-width=\"1.4\" marker-end=\"url(#arrow)\"/><text x=\"" +
           std::to_string(lx) + "\" y=\"" + std::to_string(ly) +
           "\" text-anchor=\"middle\" font-size=\"9.5\" fill=\"#1b3a6b\" stroke=\"#fff\" "
           "stroke-width=\"3\" paint-order=\"stroke\">" +
           xml(shorten(msg.label, 30)) + "</text></g>\n";
  }
  for (const Wake& w : wakes_) {
    const LwpId from = ev()[w.at].lwp;
    out += "<g class=\"wake\" data-from=\"" + xml(r_.lwps[from].name) + "\" data-to=\"" +
           xml(r_.lwps[w.to].name) + "\"><title>" + xml(line(w.at) + "\n" + line(w.woken)) +
           "</title><line x1=\"" + std::to_string(x(from)) + "\" y1=\"" + std::to_string(y(w.at)) +
           "\" x2=\"" + std::to_string(x(w.to)) + "\" y2=\"" + std::to_string(y(w.woken)) +
           "\" stroke=\"#888\" stroke-dasharray=\"4 3\" marker-end=\"url(#arrow-grey)\"/></g>\n";
  }
}

void Chart::draw_marks(std::string& out) const {
  for (std::size_t p : preempts_) {
    const LwpId l = ev()[p].lwp;
    const int cx = x(l) + kBoxW / 2 + 2;
    const int cy = y(p);
    out += "<g class=\"preempt\" data-lwp=\"" + xml(r_.lwps[l].name) + "\" data-step=\"" +
           std::to_string(ev()[p].step) + "\"><title>" + xml("preempted: " + line(p)) +
           "</title><polygon points=\"" + std::to_string(cx) + "," + std::to_string(cy - 6) + " " +
           std::to_string(cx - 5) + "," + std::to_string(cy + 1) + " " + std::to_string(cx) + "," +
           std::to_string(cy + 1) + " " + std::to_string(cx - 3) + "," + std::to_string(cy + 7) +
           " " + std::to_string(cx + 5) + "," + std::to_string(cy - 1) + " " + std::to_string(cx) +
           "," + std::to_string(cy - 1) + "\" fill=\"#e07b00\"/><text x=\"" +
           std::to_string(cx + 6) + "\" y=\"" + std::to_string(cy + 3) +
           "\" font-size=\"9\" fill=\"#b55f00\">preempted</text></g>\n";
  }
  for (std::size_t m : lost_) {
    const auto& msg = model_.messages()[m];
    const LwpId l = ev()[msg.send].lwp;
    const std::string text =
        shorten((msg.dropped ? "dropped: " : "never received: ") + msg.label, 48);
    const int cx = x(l) - kBoxW / 2 + 6;
    const int cy = y(msg.send);
    const int w = std::max(kBoxW - 10, static_cast<int>(text.size()) * 11 / 2 + 6);
    out += "<g class=\"lost\" data-lwp=\"" + xml(r_.lwps[l].name) + "\" data-msg=\"" +
           xml(msg.label) + "\"><title>" + xml(line(msg.send)) + "</title><rect x=\"" +
           std::to_string(cx - 2) + "\" y=\"" + std::to_string(cy - 6) + "\" width=\"" +
           std::to_string(w) + "\" height=\"12\" rx=\"2\" fill=\"#fde0e0\" " +
           "stroke=\"#d01010\" stroke-dasharray=\"3 2\"/><text x=\"" + std::to_string(cx) +
           "\" y=\"" + std::to_string(cy + 3) + "\" font-size=\"9\" fill=\"#a00000\">" + xml(text) +
           "</text></g>\n";
  }
  for (std::size_t p : notices_) {
    // A notice may run over into the next column: it is what the reader
    // should see, so it is drawn last but the failure, in full.
    const LwpId l = ev()[p].lwp;
    const std::string text = shorten(ev()[p].kind + ": " + ev()[p].detail, 48);
    const int cx = x(l) - kBoxW / 2 + 6;
    const int cy = y(p);
    const int w = std::max(kBoxW - 10, static_cast<int>(text.size()) * 11 / 2 + 6);
    out += "<g class=\"notice\" data-lwp=\"" + xml(r_.lwps[l].name) + "\" data-kind=\"" +
           xml(ev()[p].kind) + "\"><title>" + xml(line(p)) + "</title><rect x=\"" +
           std::to_string(cx - 2) + "\" y=\"" + std::to_string(cy - 6) + "\" width=\"" +
           std::to_string(w) + "\" height=\"12\" rx=\"2\" fill=\"#fff3b0\" " +
           "stroke=\"#c9a400\"/><text x=\"" + std::to_string(cx) + "\" y=\"" +
           std::to_string(cy + 3) + "\" font-size=\"9\" fill=\"#5a4a00\">" + xml(text) +
           "</text></g>\n";
  }
  if (failure_ && failure_lwp_ != sim::kNoLwp) {
    const LwpId l = failure_lwp_;
    const int cx = x(l);
    const int cy = y(*failure_);
    out += "<g class=\"failure\" data-lwp=\"" + xml(r_.lwps[l].name) + "\"><title>" +
           xml(line(*failure_)) + "</title><circle cx=\"" + std::to_string(cx) + "\" cy=\"" +
           std::to_string(cy) + "\" r=\"7\" fill=\"#d01010\"/><path d=\"M" +
           std::to_string(cx - 3) + " " + std::to_string(cy - 3) + " l6 6 m0 -6 l-6 6\" " +
           "stroke=\"#fff\" stroke-width=\"2\"/></g>\n";
  }
  for (std::size_t k = 0; k < failed_lines_.size(); ++k) {
    out += "<text class=\"failure-message\" x=\"" + std::to_string(kMargin) + "\" y=\"" +
           std::to_string(height_ - 58 - 15 * static_cast<int>(failed_lines_.size() - 1 - k)) +
           "\" fill=\"#d01010\" font-weight=\"bold\">" + xml(failed_lines_[k]) + "</text>\n";
  }
  // Legend.
  const int ly = height_ - 30;
  out += "<g class=\"legend\" font-size=\"10\" fill=\"#444\"><rect x=\"" + std::to_string(kMargin) +
         "\" y=\"" + std::to_string(ly - 9) +
         "\" width=\"14\" height=\"10\" fill=\"#dbe8fb\" stroke=\"#4a78c2\"/><text x=\"" +
         std::to_string(kMargin + 18) + "\" y=\"" + std::to_string(ly) +
         "\">scenario op</text><rect x=\"" + std::to_string(kMargin + 100) + "\" y=\"" +
         std::to_string(ly - 9) +
         "\" width=\"14\" height=\"10\" fill=\"#e1f3e1\" stroke=\"#3f8f3f\"/><text x=\"" +
         std::to_string(kMargin + 118) + "\" y=\"" + std::to_string(ly) +
         "\">server op</text><line x1=\"" + std::to_string(kMargin + 200) + "\" y1=\"" +
         std::to_string(ly - 4) + "\" x2=\"" + std::to_string(kMargin + 230) + "\" y2=\"" +
         std::to_string(ly - 4) + "\" stroke=\"#1b3a6b\" marker-end=\"url(#arrow)\"/><text x=\"" +
         std::to_string(kMargin + 236) + "\" y=\"" + std::to_string(ly) +
         "\">message</text><line x1=\"" + std::to_string(kMargin + 300) + "\" y1=\"" +
         std::to_string(ly - 4) + "\" x2=\"" + std::to_string(kMargin + 330) + "\" y2=\"" +
         std::to_string(ly - 4) +
         "\" stroke=\"#888\" stroke-dasharray=\"4 3\" marker-end=\"url(#arrow-grey)\"/><text x=\"" +
         std::to_string(kMargin + 336) + "\" y=\"" + std::to_string(ly) +
         "\">wakes</text><text x=\"" + std::to_string(kMargin + 390) + "\" y=\"" +
         std::to_string(ly) + "\" fill=\"#b55f00\">preempted: the schedule switched lwps</text>" +
         "<text x=\"" + std::to_string(kMargin) + "\" y=\"" + std::to_string(ly + 16) +
         "\">time goes down; one row per drawn event, in trace order" +
         std::string(focused_ ? "; only what the failure depends on" : "") +
         std::string(o_.all ? "" : "; messages between the setup and the checks") + "</text></g>\n";
}

std::string Chart::svg() const {
  std::string out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width_) +
      "\" height=\"" + std::to_string(height_) + "\" viewBox=\"0 0 " + std::to_string(width_) +
      " " + std::to_string(height_) +
      "\" font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"11\">\n";
  out +=
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
      "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0 L10 5 L0 10 z\" "
      "fill=\"#1b3a6b\"/></marker><marker id=\"arrow-grey\" viewBox=\"0 0 10 10\" refX=\"9\" "
      "refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path "
      "d=\"M0 0 L10 5 L0 10 z\" fill=\"#888\"/></marker></defs>\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  draw_header(out);
  draw_boxes(out);
  draw_messages(out);
  draw_marks(out);
  out += "</svg>\n";
  return out;
}

}  // namespace

std::string chart_svg(const sim::RunResult& r, const ChartOptions& o) { return Chart(r, o).svg(); }

std::string chart_html(const sim::RunResult& r, const ChartOptions& o) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + xml(o.title) +
      "</title>\n<style>body{margin:0;font-family:DejaVu Sans,Verdana,Arial,sans-serif}"
      "#chart{display:inline-block;vertical-align:top}"
      "#lines{position:fixed;top:0;right:0;width:38%;height:100%;overflow:auto;margin:0;"
      "padding:8px;box-sizing:border-box;background:#f7f7f7;border-left:1px solid #ccc;"
      "font:11px monospace;white-space:pre-wrap}"
      "g.op:hover rect,g.span:hover rect,g.msg:hover line,g.wake:hover line{stroke-width:3}"
      "</style></head><body>\n<div id=\"chart\">\n" +
      chart_svg(r, o) +
      "</div>\n<pre id=\"lines\">Hover over a box, an arrow or a mark to see its trace "
      "lines.</pre>\n<script>\n"
      "for (const g of document.querySelectorAll('#chart g')) {\n"
      "  const t = g.querySelector(':scope > title');\n"
      "  if (!t) continue;\n"
      "  g.addEventListener('mouseenter', () => {\n"
      "    document.getElementById('lines').textContent = t.textContent;\n"
      "  });\n"
      "}\n</script></body></html>\n";
  return out;
}

}  // namespace vfsim::cli
