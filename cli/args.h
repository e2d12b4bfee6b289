// Command-line parsing shared by every vfsim subcommand: each command
// declares its options in a table, and bad usage becomes a UsageError whose
// message is the one line vfsim prints before exiting with status 2.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vfsim::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string_view name;        // without the leading "--"
  std::string_view value_name;  // empty: a flag without a value
  std::string_view help;
  std::string_view short_name = {};  // "o" lets "-o VALUE" stand for "--name VALUE"
};

class ParsedArgs {
 public:
  std::vector<std::string> positional;

  [[nodiscard]] bool flag(std::string_view name) const {
    return values_.count(std::string(name)) != 0;
  }
  [[nodiscard]] std::optional<std::string> value(std::string_view name) const;  // the last one
  [[nodiscard]] std::vector<std::string> all(std::string_view name) const;
  // The value as a number; UsageError naming the option when it is not one.
  [[nodiscard]] std::optional<std::uint64_t> number(std::string_view name) const;

  void add(std::string name, std::string value) {
    values_[std::move(name)].push_back(std::move(value));
  }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// Parses `args` (after the subcommand name) against `specs`. Accepts
// "--name value" and "--name=value", and "-x value" for an option whose
// short_name is "x"; "--" ends the options. Any other argument is
// positional.
[[nodiscard]] ParsedArgs parse_args(std::span<const std::string> args,
                                    std::span<const OptionSpec> specs);

// "  --schedules N   how many schedules" lines for help texts.
[[nodiscard]] std::string options_help(std::span<const OptionSpec> specs);

}  // namespace vfsim::cli
