// Table-driven option parsing.
#include "cli/args.h"

#include <algorithm>
#include <charconv>

namespace vfsim::cli {

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::all(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<std::uint64_t> ParsedArgs::number(std::string_view name) const {
  auto v = value(name);
  if (!v) return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) {
    throw UsageError("--" + std::string(name) + ": expected a non-negative integer, got '" + *v +
                     "'");
  }
  return n;
}

namespace {

const OptionSpec* find_spec(std::span<const OptionSpec> specs, std::string_view name) {
  auto it =
      std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

}  // namespace

ParsedArgs parse_args(std::span<const std::string> args, std::span<const OptionSpec> specs) {
  ParsedArgs out;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!options_done && a.size() == 2 && a[0] == '-' && a[1] != '-') {
      const auto it = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) {
        return !s.short_name.empty() && s.short_name == a.substr(1);
      });
      if (it != specs.end()) {
        if (it->value_name.empty()) {
          out.add(std::string(it->name), "");
        } else if (i + 1 < args.size()) {
          out.add(std::string(it->name), args[++i]);
        } else {
          throw UsageError(a + ": needs a value (" + std::string(it->value_name) + ")");
        }
        continue;
      }
    }
    if (options_done || !a.starts_with("--")) {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    const auto eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const OptionSpec* spec = find_spec(specs, name);
    if (spec == nullptr) throw UsageError("--" + name + ": unknown option");
    if (spec->value_name.empty()) {
      if (eq != std::string::npos) throw UsageError("--" + name + ": takes no value");
      out.add(name, "");
    } else if (eq != std::string::npos) {
      out.add(name, a.substr(eq + 1));
    } else if (i + 1 < args.size()) {
      out.add(name, args[++i]);
    } else {
      throw UsageError("--" + name + ": needs a value (" + std::string(spec->value_name) + ")");
    }
  }
  return out;
}

std::string options_help(std::span<const OptionSpec> specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string left = s.short_name.empty() ? "  --" : "  -" + std::string(s.short_name) + ", --";
    left += std::string(s.name);
    if (!s.value_name.empty()) left += " " + std::string(s.value_name);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    out += left + std::string(s.help) + "\n";
  }
  return out;
}

}  // namespace vfsim::cli
