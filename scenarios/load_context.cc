// Blaming places in a scenario file, typed field access, byte literals and
// `when` conditions.
#include "scenarios/load_context.h"

#include <algorithm>

namespace vfsim::scenarios::detail {

void LoadContext::fail(std::string_view pointer, std::string_view reason) const {
  fail_at(locations_.find(pointer), pointer, reason);
}

void LoadContext::fail_at_key(std::string_view pointer, std::string_view reason) const {
  fail_at(locations_.find_key(pointer), pointer, reason);
}

void LoadContext::fail_at(std::optional<TextPos> pos, std::string_view pointer,
                          std::string_view reason) const {
  std::string msg = path_;
  if (pos) msg += ":" + std::to_string(pos->line) + ":" + std::to_string(pos->column);
  // An empty pointer with no known position is a place outside the file
  // (a --set override): the path already names it.
  if (pos || !pointer.empty()) {
    msg += ": ";
    msg += pointer.empty() ? std::string_view("/") : pointer;
  }
  msg += ": ";
  msg += reason;
  throw ScenarioError(msg);
}

void LoadContext::check_keys(const Json& obj, const std::string& pointer,
                             std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : obj.items()) {
    if (key == "comment") continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (auto a : allowed) {
        known += known.empty() ? "" : ", ";
        known += a;
      }
      fail_at_key(child(pointer, key),
                  "unknown field '" + key + "' (expected one of: " + known + ")");
    }
  }
}

const Json& LoadContext::require(const Json& obj, const std::string& pointer,
                                 std::string_view key) const {
  auto it = obj.find(key);
  if (it == obj.end()) fail(pointer, "missing field '" + std::string(key) + "'");
  return *it;
}

const Json& LoadContext::require_object(const Json& v, const std::string& pointer) const {
  if (!v.is_object()) fail(pointer, "expected an object, got " + type_of(v));
  return v;
}

const Json& LoadContext::require_array(const Json& v, const std::string& pointer) const {
  if (!v.is_array()) fail(pointer, "expected an array, got " + type_of(v));
  return v;
}

std::string LoadContext::require_string(const Json& v, const std::string& pointer) const {
  if (!v.is_string()) fail(pointer, "expected a string, got " + type_of(v));
  return v.get<std::string>();
}

std::int64_t LoadContext::require_int(const Json& v, const std::string& pointer,
                                      std::int64_t min) const {
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)) {
    fail(pointer, "expected an integer, got " + type_of(v));
  }
  const auto n = v.get<std::int64_t>();
  if (n < min) fail(pointer, "must be at least " + std::to_string(min) + ", got " + v.dump());
  return n;
}

std::uint64_t LoadContext::require_uint(const Json& v, const std::string& pointer,
                                        std::uint64_t min) const {
  if (!v.is_number_unsigned()) {
    fail(pointer, "expected a non-negative integer, got " + type_of(v));
  }
  const auto n = v.get<std::uint64_t>();
  if (n < min) fail(pointer, "must be at least " + std::to_string(min) + ", got " + v.dump());
  return n;
}

std::string child(const std::string& pointer, std::string_view key) {
  return pointer + "/" + pointer_escape(key);
}

std::string child(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

std::string type_of(const Json& v) {
  if (v.is_number_integer()) return "an integer " + v.dump();
  if (v.is_number_float()) return "a number " + v.dump();
  if (v.is_string()) return "a string " + v.dump();
  if (v.is_boolean()) return "a bool";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

namespace {

// Bad input must not make us allocate without bound.
constexpr std::uint64_t kMaxBytesLiteral = 64ull << 20;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string parse_hex(const LoadContext& cx, const std::string& hex, const std::string& pointer) {
  if (hex.size() % 2 != 0) cx.fail(pointer, "hex data needs an even number of digits");
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_digit(hex[i]);
    const int lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) cx.fail(pointer, "not a hex digit in '" + hex + "'");
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace

std::string parse_bytes(const LoadContext& cx, const Json& v, const std::string& pointer) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_object()) {
    cx.fail(pointer,
            "expected data: a string, {\"hex\": ...} or {\"fill\": ..., \"size\": N}, "
            "got " +
                type_of(v));
  }
  cx.check_keys(v, pointer, {"hex", "fill", "size"});
  if (v.contains("hex")) {
    return parse_hex(cx, cx.require_string(v["hex"], child(pointer, "hex")), child(pointer, "hex"));
  }
  const std::string fill =
      cx.require_string(cx.require(v, pointer, "fill"), child(pointer, "fill"));
  const std::uint64_t size =
      cx.require_uint(cx.require(v, pointer, "size"), child(pointer, "size"), 0);
  if (fill.empty()) cx.fail(child(pointer, "fill"), "fill pattern is empty");
  if (size > kMaxBytesLiteral) cx.fail(child(pointer, "size"), "data larger than 64 MiB");
  std::string out;
  out.reserve(size);
  while (out.size() < size) out += fill.substr(0, size - out.size());
  return out;
}

bool when_matches(const LoadContext& cx, const Json& when, const std::string& pointer,
                  const Config& config) {
  cx.require_object(when, pointer);
  bool all = true;
  // Every key is checked, even after a mismatch, so typos never hide.
  for (const auto& [key, wanted] : when.items()) {
    const std::string p = child(pointer, key);
    const KnobSpec* knob = cx.catalog().knob(key);
    if (knob == nullptr) cx.fail_at_key(p, "unknown config key '" + key + "' in when");
    const Json alternatives =
        wanted.is_array() && knob->type != KnobType::json ? wanted : Json::array({wanted});
    bool any = false;
    for (std::size_t i = 0; i < alternatives.size(); ++i) {
      if (auto bad = knob->check(alternatives[i])) {
        cx.fail(wanted.is_array() ? child(p, i) : p, *bad);
      }
      any = any || alternatives[i] == config.get(key);
    }
    all = all && any;
  }
  return all;
}

}  // namespace vfsim::scenarios::detail
