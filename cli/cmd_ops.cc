// `vfsim ops`: what scenario files may use — every op with its arguments and
// every config knob, from the modules in scenarios/modules.cc.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "scenarios/modules.h"

namespace vfsim::cli {

std::span<const OptionSpec> ops_options() {
  static constexpr OptionSpec kOptions[] = {kJsonOption};
  return kOptions;
}

namespace {

nlohmann::json arg_json(const scenarios::ArgSpec& a) {
  nlohmann::json j = {{"name", a.name},
                      {"type", std::string(scenarios::arg_type_name(a.type))},
                      {"required", a.required},
                      {"doc", a.doc}};
  if (!a.default_value.is_null()) j["default"] = a.default_value;
  if (a.min != INT64_MIN) j["min"] = a.min;
  if (a.max != INT64_MAX) j["max"] = a.max;
  if (!a.names.empty()) {
    j["names"] = nlohmann::json::object();
    for (const auto& [n, v] : a.names) j["names"][n] = v;
  }
  return j;
}

nlohmann::json catalog_json(const scenarios::Catalog& c) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& [name, spec] : c.registry().ops()) {
    nlohmann::json args = nlohmann::json::array();
    for (const auto& a : spec.args) args.push_back(arg_json(a));
    ops.push_back({{"op", name}, {"module", spec.module}, {"doc", spec.doc}, {"args", args}});
  }
  nlohmann::json knobs = nlohmann::json::array();
  for (const auto& [key, k] : c.knobs()) {
    knobs.push_back({{"key", key},
                     {"type", std::string(scenarios::knob_type_name(k.type))},
                     {"default", k.default_value},
                     {"choices", k.choices},
                     {"doc", k.doc}});
  }
  return {{"ops", ops}, {"knobs", knobs}};
}

}  // namespace

int ops_command(const ParsedArgs& args) {
  if (!args.positional.empty()) throw UsageError("takes no arguments");
  const auto& catalog = scenarios::default_catalog();
  if (args.flag("json")) {
    std::cout << catalog_json(catalog).dump(2) << "\n";
    return kExitPass;
  }
  std::cout << "ops:\n";
  for (const auto& [name, spec] : catalog.registry().ops()) {
    std::cout << "  " << name << " (" << spec.module << "): " << spec.doc << "\n";
    for (const auto& a : spec.args) {
      std::cout << "      " << a.name << ": " << scenarios::arg_type_name(a.type)
                << (a.required ? "" : ", optional")
                << (a.min == INT64_MIN ? "" : ", at least " + std::to_string(a.min))
                << (a.max == INT64_MAX ? "" : ", at most " + std::to_string(a.max))
                << (a.default_value.is_null() ? "" : ", default " + a.default_value.dump()) << "  "
                << a.doc << "\n";
    }
  }
  std::cout << "config knobs:\n";
  for (const auto& [key, k] : catalog.knobs()) {
    std::cout << "  " << key << ": " << scenarios::knob_type_name(k.type) << ", default "
              << k.default_value.dump() << "  " << k.doc << "\n";
  }
  return kExitPass;
}

}  // namespace vfsim::cli
