// The puffs mount configuration: its one parser and its one check
// (puffs_config.h).
#include "fsdrivers/puffs/puffs_config.h"

#include <charconv>

namespace vfsim::puffs {

namespace {

constexpr std::int64_t kWorkersMax = 64;
constexpr std::int64_t kRetryMax = 100;
constexpr std::uint64_t kPerMillion = 1'000'000;

std::optional<std::uint64_t> decimal(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The options this type defines; every other key is the backend's.
bool is_puffs_option(std::string_view key) {
  for (std::string_view k :
       {"transport", "size_lock", "reclaim_nlookup", "timeout_ms", "retry", "workers", "framing",
        "rcvbuf_bytes", "rcvbuf_msgs", "server_latency_us", "req_drop_at", "reply_drop_at",
        "req_drop_ppm", "reply_drop_ppm", "server_crash_at", "backend"}) {
    if (key == k) return true;
  }
  return false;
}

// Reads one option into its field; the reason when the text is not valid.
std::optional<std::string> read_option(std::string_view key, const std::string& text,
                                       PuffsConfig* c) {
  const auto number = [&](std::uint64_t* out) -> std::optional<std::string> {
    auto v = decimal(text);
    if (!v) return "expected a number, got \"" + text + "\"";
    *out = *v;
    return std::nullopt;
  };
  const auto boolean = [&](bool* out) -> std::optional<std::string> {
    if (text == "true" || text == "1") *out = true;
    else if (text == "false" || text == "0") *out = false;
    else return "expected true or false, got \"" + text + "\"";
    return std::nullopt;
  };
  const auto list = [&](std::vector<std::uint64_t>* out) -> std::optional<std::string> {
    auto v = parse_message_list(text);
    if (!v) return "expected message numbers from 1 like \"3,5\", got \"" + text + "\"";
    *out = std::move(*v);
    return std::nullopt;
  };
  if (key == "transport") {
    auto t = sim::sock_type_from_name(text);
    if (!t) return "expected seqpacket, dgram or stream, got \"" + text + "\"";
    c->transport = *t;
    return std::nullopt;
  }
  if (key == "framing") {
    auto f = framing_from_name(text);
    if (!f) return "expected naive or reassemble, got \"" + text + "\"";
    c->framing = *f;
    return std::nullopt;
  }
  if (key == "retry") {
    if (text == "forever" || text == "-1") {
      c->retry = -1;
      return std::nullopt;
    }
    std::uint64_t n = 0;
    if (auto bad = number(&n)) return bad;
    c->retry = n > static_cast<std::uint64_t>(kRetryMax) ? kRetryMax + 1 : static_cast<int>(n);
    return std::nullopt;
  }
  if (key == "workers") {
    std::uint64_t n = 0;
    if (auto bad = number(&n)) return bad;
    c->workers =
        n > static_cast<std::uint64_t>(kWorkersMax) ? kWorkersMax + 1 : static_cast<int>(n);
    return std::nullopt;
  }
  if (key == "size_lock") return boolean(&c->size_lock);
  if (key == "reclaim_nlookup") return boolean(&c->reclaim_nlookup);
  if (key == "timeout_ms") return number(&c->timeout_ms);
  if (key == "rcvbuf_bytes") return number(&c->rcvbuf_bytes);
  if (key == "rcvbuf_msgs") return number(&c->rcvbuf_msgs);
  if (key == "server_latency_us") return number(&c->server_latency_us);
  if (key == "server_crash_at") return number(&c->server_crash_at);
  if (key == "req_drop_ppm") return number(&c->req_drop_ppm);
  if (key == "reply_drop_ppm") return number(&c->reply_drop_ppm);
  if (key == "req_drop_at") return list(&c->req_drop_at);
  if (key == "reply_drop_at") return list(&c->reply_drop_at);
  if (key == "backend") {
    if (text.empty()) return std::string("expected the name of a file-system type");
    c->backend = text;
    return std::nullopt;
  }
  return "unknown option";  // not reached: the caller asked is_puffs_option
}

}  // namespace

std::optional<Framing> framing_from_name(std::string_view name) {
  if (name == "naive") return Framing::naive;
  if (name == "reassemble") return Framing::reassemble;
  return std::nullopt;
}

std::optional<std::vector<std::uint64_t>> parse_message_list(std::string_view s) {
  std::vector<std::uint64_t> out;
  while (!s.empty()) {
    const std::size_t comma = std::min(s.find(','), s.size());
    auto n = decimal(s.substr(0, comma));
    if (!n || *n == 0) return std::nullopt;
    out.push_back(*n);
    s.remove_prefix(std::min(comma + 1, s.size()));
  }
  return out;
}

std::optional<OptionError> PuffsConfig::check() const {
  if (workers < 1 || workers > kWorkersMax) return OptionError{"workers", "must be 1 to 64"};
  if (retry < -1 || retry > kRetryMax) {
    return OptionError{"retry", "must be -1 (for ever) to 100"};
  }
  if (retry != 0 && timeout_ms == 0) {
    return OptionError{"retry", "resends need a request timeout (timeout_ms > 0)"};
  }
  if (req_drop_ppm > kPerMillion) return OptionError{"req_drop_ppm", "at most 1000000"};
  if (reply_drop_ppm > kPerMillion) return OptionError{"reply_drop_ppm", "at most 1000000"};
  for (const auto* list : {&req_drop_at, &reply_drop_at}) {
    for (std::uint64_t n : *list) {
      if (n == 0) {
        return OptionError{list == &req_drop_at ? "req_drop_at" : "reply_drop_at",
                           "message numbers start at 1"};
      }
    }
  }
  if (backend.empty()) return OptionError{"backend", "names no file-system type"};
  return std::nullopt;
}

std::optional<OptionError> parse_mount_options(const vn::MountArgs& args, PuffsConfig* out) {
  for (const auto& [key, text] : args) {
    if (!is_puffs_option(key)) {
      out->backend_args[key] = text;
      continue;
    }
    if (auto bad = read_option(key, text, out)) return OptionError{key, *bad};
  }
  return out->check();
}

}  // namespace vfsim::puffs
