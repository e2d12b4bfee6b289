// Internal to the loader: the file being loaded, how to blame a place in it,
// and small typed accessors that turn a wrong type into a ScenarioError.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "scenarios/json_locations.h"
#include "scenarios/loader.h"

namespace vfsim::scenarios::detail {

using Json = nlohmann::json;

class LoadContext {
 public:
  LoadContext(std::string path, JsonLocations locations, const Catalog& catalog)
      : path_(std::move(path)), locations_(std::move(locations)), catalog_(catalog) {}

  const std::string& path() const { return path_; }
  const Catalog& catalog() const { return catalog_; }

  // Throws the one-line diagnostic "FILE:LINE:COL: POINTER: reason".
  [[noreturn]] void fail(std::string_view pointer, std::string_view reason) const;
  // The same, placed at the member name rather than its value: for unknown
  // or misspelt field names.
  [[noreturn]] void fail_at_key(std::string_view pointer, std::string_view reason) const;

  // Rejects keys not in `allowed` ("comment" is always allowed).
  void check_keys(const Json& obj, const std::string& pointer,
                  std::initializer_list<std::string_view> allowed) const;

  const Json& require(const Json& obj, const std::string& pointer, std::string_view key) const;
  const Json& require_object(const Json& v, const std::string& pointer) const;
  const Json& require_array(const Json& v, const std::string& pointer) const;
  std::string require_string(const Json& v, const std::string& pointer) const;
  std::int64_t require_int(const Json& v, const std::string& pointer, std::int64_t min) const;
  std::uint64_t require_uint(const Json& v, const std::string& pointer, std::uint64_t min) const;

 private:
  [[noreturn]] void fail_at(std::optional<TextPos> pos, std::string_view pointer,
                            std::string_view reason) const;

  std::string path_;
  JsonLocations locations_;
  const Catalog& catalog_;
};

[[nodiscard]] std::string child(const std::string& pointer, std::string_view key);
[[nodiscard]] std::string child(const std::string& pointer, std::size_t index);
[[nodiscard]] std::string type_of(const Json& v);

// Parses a `bytes` literal: "text", {"hex": "..."} or {"fill": "ab", "size": N}.
[[nodiscard]] std::string parse_bytes(const LoadContext& cx, const Json& v,
                                      const std::string& pointer);

// A call's literal arguments (registers absent), for OpSpec::check and
// OpSpec::caveat.
[[nodiscard]] Args literal_args(const OpCall& call);

// The ops of a list (setup, an lwp, checks), with `when` applied.
[[nodiscard]] std::vector<OpCall> load_ops(const LoadContext& cx, const Json& list,
                                           const std::string& pointer, const Config& config);

// True when `when` (an object of key -> value or [values]) matches `config`.
[[nodiscard]] bool when_matches(const LoadContext& cx, const Json& when, const std::string& pointer,
                                const Config& config);

}  // namespace vfsim::scenarios::detail
