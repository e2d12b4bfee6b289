// A structural scanner over valid JSON that records value positions.
#include "scenarios/json_locations.h"

#include <nlohmann/json.hpp>

namespace vfsim::scenarios {

TextPos text_pos(std::string_view text, std::size_t offset) {
  TextPos pos;
  const std::size_t end = offset < text.size() ? offset : text.size();
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

std::string pointer_escape(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

namespace {

constexpr int kMaxDepth = 256;

// Walks the text once; positions are recorded as byte offsets and turned
// into line:col incrementally, so indexing stays linear in the text size.
class Scanner {
 public:
  using PosMap = std::map<std::string, TextPos, std::less<>>;
  Scanner(std::string_view text, PosMap& values, PosMap& keys,
          std::optional<DuplicateKey>& duplicate)
      : text_(text), out_(values), keys_(keys), duplicate_(duplicate) {}

  void scan() {
    skip_ws();
    value("", 0);
  }

 private:
  void skip_ws() {
    while (i_ < text_.size() &&
           (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\n' || text_[i_] == '\r')) {
      advance();
    }
  }

  void advance() {
    if (text_[i_] == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else {
      ++pos_.column;
    }
    ++i_;
  }

  bool at(char c) const { return i_ < text_.size() && text_[i_] == c; }

  void value(const std::string& pointer, int depth) {
    out_.emplace(pointer, pos_);
    if (depth > kMaxDepth) {
      skip_rest_of_value();
      return;
    }
    if (at('{')) object(pointer, depth);
    else if (at('[')) array(pointer, depth);
    else if (at('"')) (void)string_token();
    else scalar();
  }

  void object(const std::string& pointer, int depth) {
    advance();  // {
    skip_ws();
    while (i_ < text_.size() && !at('}')) {
      const TextPos key_pos = pos_;
      const std::string raw = string_token();
      std::string key;
      auto parsed = nlohmann::json::parse(raw, nullptr, false);
      if (parsed.is_string()) key = parsed.get<std::string>();
      skip_ws();
      if (at(':')) advance();
      skip_ws();
      const std::string member = pointer + "/" + pointer_escape(key);
      auto [it, fresh] = keys_.emplace(member, key_pos);
      if (!fresh && !duplicate_) duplicate_ = DuplicateKey{member, key_pos, it->second};
      value(member, depth + 1);
      skip_ws();
      if (at(',')) advance();
      skip_ws();
    }
    if (at('}')) advance();
  }

  void array(const std::string& pointer, int depth) {
    advance();  // [
    skip_ws();
    std::size_t index = 0;
    while (i_ < text_.size() && !at(']')) {
      value(pointer + "/" + std::to_string(index++), depth + 1);
      skip_ws();
      if (at(',')) advance();
      skip_ws();
    }
    if (at(']')) advance();
  }

  // Returns the raw token including its quotes.
  std::string string_token() {
    const std::size_t start = i_;
    advance();  // opening quote
    while (i_ < text_.size() && !at('"')) {
      if (at('\\') && i_ + 1 < text_.size()) advance();
      advance();
    }
    if (at('"')) advance();
    return std::string(text_.substr(start, i_ - start));
  }

  void scalar() {
    while (i_ < text_.size() && !at(',') && !at('}') && !at(']') && text_[i_] != ' ' &&
           text_[i_] != '\n' && text_[i_] != '\t' && text_[i_] != '\r') {
      advance();
    }
  }

  // Past the depth limit: skip a nested value by bracket counting.
  void skip_rest_of_value() {
    int nest = 0;
    do {
      if (at('"')) {
        (void)string_token();
        continue;
      }
      if (at('{') || at('[')) ++nest;
      if (at('}') || at(']')) --nest;
      advance();
    } while (i_ < text_.size() && nest > 0);
  }

  std::string_view text_;
  PosMap& out_;
  PosMap& keys_;
  std::optional<DuplicateKey>& duplicate_;
  std::size_t i_ = 0;
  TextPos pos_;
};

}  // namespace

JsonLocations JsonLocations::index(std::string_view text) {
  JsonLocations loc;
  Scanner(text, loc.positions_, loc.key_positions_, loc.duplicate_).scan();
  return loc;
}

std::optional<TextPos> JsonLocations::find(std::string_view pointer) const {
  std::string_view p = pointer;
  for (;;) {
    auto it = positions_.find(p);
    if (it != positions_.end()) return it->second;
    if (p.empty()) return std::nullopt;
    const auto slash = p.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    p = p.substr(0, slash);
  }
}

std::optional<TextPos> JsonLocations::find_key(std::string_view pointer) const {
  auto it = key_positions_.find(pointer);
  if (it != key_positions_.end()) return it->second;
  return find(pointer);
}

}  // namespace vfsim::scenarios
