// The configuration of one scenario run: typed knobs declared by modules,
// their values after the scenario file and --set overrides, and the processes
// the scenario declares. The engine gives none of it any meaning; a module
// reads the keys it declared.
//
// A Config is built once at load time and is immutable afterwards, so the
// worker threads of an exploration share it without locking.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vfsim::scenarios {

enum class KnobType : std::uint8_t {
  boolean,      // true / false ("true", "false", "1", "0" from --set)
  integer,      // a signed 64-bit integer
  string,       // any string
  enumeration,  // one of KnobSpec::choices
  json,         // any JSON value the module validates itself (mounts, images)
};

std::string_view knob_type_name(KnobType t);

// One configuration key a module understands. Keys are dotted, prefixed by
// the module that owns them ("puffs.size_lock"), except for machine-wide
// names such as "personality" that one module owns on behalf of all.
struct KnobSpec {
  std::string key;
  KnobType type = KnobType::boolean;
  nlohmann::json default_value;
  std::string doc;
  std::vector<std::string> choices;  // enumeration only

  [[nodiscard]] static KnobSpec boolean(std::string key, bool def, std::string doc);
  [[nodiscard]] static KnobSpec integer(std::string key, std::int64_t def, std::string doc);
  [[nodiscard]] static KnobSpec string(std::string key, std::string def, std::string doc);
  [[nodiscard]] static KnobSpec enumeration(std::string key, std::string def,
                                            std::vector<std::string> choices, std::string doc);
  [[nodiscard]] static KnobSpec json(std::string key, nlohmann::json def, std::string doc);

  // Checks that `v` has this knob's type; returns the reason when it does not.
  [[nodiscard]] std::optional<std::string> check(const nlohmann::json& v) const;
  // Parses a --set value ("false", "42", "netbsd", a JSON text for json).
  [[nodiscard]] std::optional<nlohmann::json> parse_text(std::string_view text,
                                                         std::string* why) const;
};

// A simulated process as the scenario declares it. Only modules that model
// processes (the VFS) give these fields a meaning; `raw` keeps the whole
// object so such a module can read fields of its own (cwd, root, ...).
struct ProcessSpec {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> groups;
  std::uint32_t umask = 022;
  nlohmann::json raw = nlohmann::json::object();
};

class Config {
 public:
  Config() = default;
  Config(std::map<std::string, nlohmann::json, std::less<>> values,
         std::vector<ProcessSpec> processes)
      : values_(std::move(values)), processes_(std::move(processes)) {}

  // Accessors for keys a module declared. Asking for an undeclared key, or
  // with the wrong type, is a bug in the module: they throw std::logic_error.
  [[nodiscard]] const nlohmann::json& get(std::string_view key) const;
  [[nodiscard]] bool get_bool(std::string_view key) const;
  [[nodiscard]] std::int64_t get_int(std::string_view key) const;
  [[nodiscard]] const std::string& get_string(std::string_view key) const;  // string, enum
  [[nodiscard]] bool has(std::string_view key) const;

  [[nodiscard]] const std::vector<ProcessSpec>& processes() const { return processes_; }
  [[nodiscard]] const ProcessSpec* process(std::string_view name) const;

  // Every key with its effective value, sorted by key: what a report records.
  [[nodiscard]] const std::map<std::string, nlohmann::json, std::less<>>& values() const {
    return values_;
  }
  [[nodiscard]] nlohmann::json to_json() const;

 private:
  std::map<std::string, nlohmann::json, std::less<>> values_;
  std::vector<ProcessSpec> processes_;
};

}  // namespace vfsim::scenarios
