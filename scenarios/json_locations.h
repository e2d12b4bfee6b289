// Where each value of a JSON text starts, by JSON pointer. nlohmann::json
// keeps no positions on its values, so after a successful parse we scan the
// (now known to be valid) text once more, structurally, and record the line
// and column of every value. Load errors then name FILE:LINE:COL.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vfsim::scenarios {

struct TextPos {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes
};

// Line and column of byte `offset` (0-based) of `text`.
[[nodiscard]] TextPos text_pos(std::string_view text, std::size_t offset);

// Escapes one reference token of a JSON pointer (RFC 6901: ~ and /).
[[nodiscard]] std::string pointer_escape(std::string_view token);

// A member name given twice in one object: JSON parsers disagree on which
// value wins (nlohmann keeps the last), so a scenario must not have one.
struct DuplicateKey {
  std::string pointer;  // of the second occurrence
  TextPos pos;          // where the second occurrence's name is
  TextPos first;        // where the first one's is
};

class JsonLocations {
 public:
  // Indexes `text`, which must be valid JSON (parse it first). Nesting deeper
  // than a few hundred levels is not indexed; lookups then fall back to the
  // deepest indexed ancestor.
  [[nodiscard]] static JsonLocations index(std::string_view text);

  // The position of the value at `pointer`, or of its nearest ancestor that
  // exists (a missing field is reported at the object that lacks it).
  [[nodiscard]] std::optional<TextPos> find(std::string_view pointer) const;

  // The position of the member name of `pointer` (its key in the parent
  // object) when there is one: where an unknown field is best blamed.
  [[nodiscard]] std::optional<TextPos> find_key(std::string_view pointer) const;

  // The first member name repeated within one object, in text order.
  [[nodiscard]] const std::optional<DuplicateKey>& duplicate() const { return duplicate_; }

 private:
  std::map<std::string, TextPos, std::less<>> positions_;
  std::map<std::string, TextPos, std::less<>> key_positions_;
  std::optional<DuplicateKey> duplicate_;
};

}  // namespace vfsim::scenarios
