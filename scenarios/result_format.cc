// Expectation matching and result text.
#include "scenarios/result_format.h"

namespace vfsim::scenarios {

namespace {

// True when every field of `want` is in `have` with the same value
// (recursively for objects): a stat expectation names only what it cares for.
bool json_subset(const nlohmann::json& want, const nlohmann::json& have) {
  if (!want.is_object() || !have.is_object()) return want == have;
  for (const auto& [key, v] : want.items()) {
    auto it = have.find(key);
    if (it == have.end() || !json_subset(v, *it)) return false;
  }
  return true;
}

bool alt_holds(const ExpectAlt& a, const OpResult& r) {
  if (a.any) return true;
  if (a.ok && r.err != 0) return false;
  if (a.value && (r.err != 0 || r.value != *a.value)) return false;
  if (a.err && r.err != *a.err) return false;
  if (a.data && r.data != a.data) return false;
  if (a.record && (!r.record || !json_subset(*a.record, *r.record))) return false;
  return true;
}

// Data as a JSON string, cut short: messages stay one line.
std::string quote_data(const std::string& data, std::size_t max = 64) {
  const bool cut = data.size() > max;
  std::string shown = nlohmann::json(cut ? data.substr(0, max) : data)
                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (cut) shown += "...(" + std::to_string(data.size()) + " bytes)";
  return shown;
}

std::string value_text(const OpResult& r, const OpRegistry& registry) {
  return r.err != 0 ? registry.errno_name(r.err) : std::to_string(r.value);
}

std::string arg_text(const Args::Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "-";
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&v)) return quote_data(*s, 32);
  return std::get<nlohmann::json>(v).dump().substr(0, 64);
}

// FNV-1a of data, so a trace tells two reads of the same length apart.
std::string data_digest(const std::string& data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) out += kHex[(h >> (60 - 4 * i)) & 0xf];
  return out;
}

}  // namespace

bool expectation_holds(const Expectation& e, const OpResult& r) {
  for (const auto& a : e.alternatives) {
    if (alt_holds(a, r)) return true;
  }
  return false;
}

std::string describe_result(const OpResult& r, const Expectation& e, const OpRegistry& registry) {
  std::string out = value_text(r, registry);
  bool data = false;
  bool record = false;
  for (const auto& a : e.alternatives) {
    data = data || a.data.has_value();
    record = record || a.record.has_value();
  }
  if (data) out += " data " + (r.data ? quote_data(*r.data) : std::string("none"));
  if (record) out += " record " + (r.record ? r.record->dump() : std::string("none"));
  return out;
}

std::string format_call(const std::string& place, const Args& args, const OpResult& r,
                        const OpRegistry& registry) {
  std::string out = place;
  for (const auto& [name, v] : args.all()) out += " " + name + "=" + arg_text(v);
  out += " -> " + value_text(r, registry);
  if (r.data) {
    out += " data[" + std::to_string(r.data->size()) + ":" + data_digest(*r.data) + "]";
  }
  if (r.record) out += " record " + r.record->dump();
  return out;
}

}  // namespace vfsim::scenarios
