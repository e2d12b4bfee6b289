// Knob declarations and the immutable run configuration.
#include "scenarios/config.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace vfsim::scenarios {

std::string_view knob_type_name(KnobType t) {
  switch (t) {
    case KnobType::boolean: return "bool";
    case KnobType::integer: return "int";
    case KnobType::string: return "string";
    case KnobType::enumeration: return "enum";
    case KnobType::json: return "json";
  }
  return "?";
}

KnobSpec KnobSpec::boolean(std::string key, bool def, std::string doc) {
  return KnobSpec{std::move(key), KnobType::boolean, def, std::move(doc), {}};
}
KnobSpec KnobSpec::integer(std::string key, std::int64_t def, std::string doc) {
  return KnobSpec{std::move(key), KnobType::integer, def, std::move(doc), {}};
}
KnobSpec KnobSpec::string(std::string key, std::string def, std::string doc) {
  return KnobSpec{std::move(key), KnobType::string, std::move(def), std::move(doc), {}};
}
KnobSpec KnobSpec::enumeration(std::string key, std::string def, std::vector<std::string> choices,
                               std::string doc) {
  return KnobSpec{std::move(key), KnobType::enumeration, std::move(def), std::move(doc),
                  std::move(choices)};
}
KnobSpec KnobSpec::json(std::string key, nlohmann::json def, std::string doc) {
  return KnobSpec{std::move(key), KnobType::json, std::move(def), std::move(doc), {}};
}

namespace {

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

std::optional<std::string> KnobSpec::check(const nlohmann::json& v) const {
  switch (type) {
    case KnobType::boolean:
      if (!v.is_boolean()) return "expected a bool for '" + key + "', got " + v.dump();
      return std::nullopt;
    case KnobType::integer:
      if (!v.is_number_integer()) return "expected an int for '" + key + "', got " + v.dump();
      return std::nullopt;
    case KnobType::string:
      if (!v.is_string()) return "expected a string for '" + key + "', got " + v.dump();
      return std::nullopt;
    case KnobType::enumeration: {
      if (v.is_string() &&
          std::find(choices.begin(), choices.end(), v.get<std::string>()) != choices.end()) {
        return std::nullopt;
      }
      return "expected one of " + join(choices, ", ") + " for '" + key + "', got " + v.dump();
    }
    case KnobType::json: return std::nullopt;
  }
  return "unknown knob type";
}

std::optional<nlohmann::json> KnobSpec::parse_text(std::string_view text, std::string* why) const {
  nlohmann::json v;
  switch (type) {
    case KnobType::boolean:
      if (text == "true" || text == "1" || text == "on") v = true;
      else if (text == "false" || text == "0" || text == "off") v = false;
      else v = std::string(text);  // check() below names the problem
      break;
    case KnobType::integer: {
      std::int64_t n = 0;
      const auto* end = text.data() + text.size();
      auto [p, ec] = std::from_chars(text.data(), end, n);
      if (ec == std::errc() && p == end) v = n;
      else v = std::string(text);
      break;
    }
    case KnobType::string:
    case KnobType::enumeration: v = std::string(text); break;
    case KnobType::json:
      v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (v.is_discarded()) {
        *why = "value of '" + key + "' is not valid JSON: " + std::string(text);
        return std::nullopt;
      }
      break;
  }
  if (auto bad = check(v)) {
    *why = *bad;
    return std::nullopt;
  }
  return v;
}

const nlohmann::json& Config::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    throw std::logic_error("config key '" + std::string(key) + "' was never declared as a knob");
  }
  return it->second;
}

bool Config::get_bool(std::string_view key) const {
  const auto& v = get(key);
  if (!v.is_boolean()) throw std::logic_error("config key '" + std::string(key) + "' is no bool");
  return v.get<bool>();
}

std::int64_t Config::get_int(std::string_view key) const {
  const auto& v = get(key);
  if (!v.is_number_integer()) {
    throw std::logic_error("config key '" + std::string(key) + "' is no int");
  }
  return v.get<std::int64_t>();
}

const std::string& Config::get_string(std::string_view key) const {
  const auto& v = get(key);
  if (!v.is_string()) {
    throw std::logic_error("config key '" + std::string(key) + "' is no string");
  }
  return v.get_ref<const std::string&>();
}

bool Config::has(std::string_view key) const { return values_.find(key) != values_.end(); }

const ProcessSpec* Config::process(std::string_view name) const {
  for (const auto& p : processes_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

nlohmann::json Config::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : values_) out[k] = v;
  return out;
}

}  // namespace vfsim::scenarios
