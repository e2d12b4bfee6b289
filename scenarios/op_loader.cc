// Loading op lists: op names, typed arguments, registers, expectations.
#include <algorithm>

#include "scenarios/load_context.h"

namespace vfsim::scenarios::detail {

namespace {

// The names of a table for an error message, cut short for a big table so
// the message stays one short line.
std::string known_names(const NameTable& names) {
  constexpr std::size_t kShown = 24;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) {
    out += (out.empty() ? "" : ", ") + names[i].first;
  }
  if (names.size() > kShown) out += ", ... " + std::to_string(names.size()) + " in all";
  return out;
}

std::optional<std::int64_t> lookup(const NameTable& names, std::string_view name) {
  for (const auto& [n, v] : names) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

struct ArgPlace {
  const LoadContext& cx;
  const ArgSpec& spec;
  const std::string& op;
  const std::string& pointer;

  [[noreturn]] void fail(const std::string& reason) const { cx.fail(pointer, reason); }
  [[noreturn]] void wrong_type(const Json& v, std::string_view expected) const {
    fail("argument '" + spec.name + "' of op '" + op + "' expects " + std::string(expected) +
         ", got " + type_of(v));
  }
};

std::int64_t flag_value(const ArgPlace& at, std::string_view name, const std::string& pointer) {
  auto v = lookup(at.spec.names, trim(name));
  if (!v) {
    at.cx.fail(pointer, "unknown flag '" + std::string(trim(name)) + "' for op '" + at.op +
                            "' (known: " + known_names(at.spec.names) + ")");
  }
  return *v;
}

std::int64_t parse_flags(const ArgPlace& at, const Json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  std::int64_t bits = 0;
  if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) at.wrong_type(v[i], "flag names");
      bits |= flag_value(at, v[i].get<std::string>(), child(at.pointer, i));
    }
    return bits;
  }
  if (!v.is_string()) at.wrong_type(v, "flag names (\"A,B\", [\"A\", \"B\"]) or an integer");
  std::string_view rest = v.get_ref<const std::string&>();
  while (!trim(rest).empty()) {
    const auto cut = rest.find_first_of(",|");
    bits |= flag_value(at, rest.substr(0, cut), at.pointer);
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
  }
  return bits;
}

std::int64_t parse_enum(const ArgPlace& at, const Json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (!v.is_string()) at.wrong_type(v, "one of " + known_names(at.spec.names));
  auto value = lookup(at.spec.names, v.get<std::string>());
  if (!value) {
    at.fail("unknown value '" + v.get<std::string>() + "' for argument '" + at.spec.name +
            "' of op '" + at.op + "' (known: " + known_names(at.spec.names) + ")");
  }
  return *value;
}

// An integer literal inside the argument's declared range.
std::int64_t in_range(const ArgPlace& at, std::int64_t v) {
  if (v < at.spec.min) {
    at.fail("argument '" + at.spec.name + "' of op '" + at.op + "' must be at least " +
            std::to_string(at.spec.min) + ", got " + std::to_string(v));
  }
  if (v > at.spec.max) {
    at.fail("argument '" + at.spec.name + "' of op '" + at.op + "' must be at most " +
            std::to_string(at.spec.max) + ", got " + std::to_string(v));
  }
  return v;
}

// Octal text: digits 0-7 only, at most 22 of them (no overflow of int64).
std::optional<std::int64_t> octal_value(std::string_view s) {
  if (s.empty() || s.size() > 21) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + (c - '0');
  }
  return v;
}

std::string octal_text(std::int64_t v) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('0' + (v & 7)));
    v >>= 3;
  } while (v != 0);
  return "0" + out;
}

std::int64_t parse_octal(const ArgPlace& at, const Json& v) {
  const std::string expected =
      "an octal mode like \"0644\" (0 to " + octal_text(at.spec.max) + ") or an integer";
  std::optional<std::int64_t> value;
  if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)) {
    value = v.get<std::int64_t>();
  } else if (v.is_string()) {
    value = octal_value(v.get_ref<const std::string&>());
  }
  if (!value || *value < at.spec.min || *value > at.spec.max) at.wrong_type(v, expected);
  return *value;
}

bool is_register_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
  });
}

LoadedArg parse_value(const ArgPlace& at, const Json& v) {
  LoadedArg arg;
  arg.spec = &at.spec;
  switch (at.spec.type) {
    case ArgType::integer:
    case ArgType::fd:
      if (v.is_string() && v.get_ref<const std::string&>().starts_with("$")) {
        const std::string name = v.get<std::string>().substr(1);
        if (!is_register_name(name)) at.fail("bad register name '" + v.get<std::string>() + "'");
        arg.reg = name;
      } else if (v.is_number_integer() &&
                 !(v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)) {
        arg.value = in_range(at, v.get<std::int64_t>());
      } else {
        at.wrong_type(v, "an integer or \"$register\"");
      }
      break;
    case ArgType::boolean:
      if (!v.is_boolean()) at.wrong_type(v, "a bool");
      arg.value = v.get<bool>();
      break;
    case ArgType::string:
      if (!v.is_string()) at.wrong_type(v, "a string");
      arg.value = v.get<std::string>();
      break;
    case ArgType::bytes: arg.value = parse_bytes(at.cx, v, at.pointer); break;
    case ArgType::flags: arg.value = parse_flags(at, v); break;
    case ArgType::enumeration: arg.value = parse_enum(at, v); break;
    case ArgType::json: arg.value = v; break;
    case ArgType::octal: arg.value = parse_octal(at, v); break;
  }
  return arg;
}

std::vector<LoadedArg> load_args(const LoadContext& cx, const OpSpec& spec, const Json* args,
                                 const std::string& pointer) {
  const std::string args_ptr = child(pointer, "args");
  if (args != nullptr) {
    cx.require_object(*args, args_ptr);
    for (const auto& item : args->items()) {
      const std::string& key = item.key();  // not a structured binding: a lambda uses it
      const bool known = std::any_of(spec.args.begin(), spec.args.end(),
                                     [&](const ArgSpec& a) { return a.name == key; });
      if (!known) {
        std::string names;
        for (const auto& a : spec.args) names += (names.empty() ? "" : ", ") + a.name;
        cx.fail_at_key(child(args_ptr, key),
                       "unknown argument '" + key + "' for op '" + spec.name +
                           "' (expected: " + (names.empty() ? "none" : names) + ")");
      }
    }
  }
  std::vector<LoadedArg> out;
  for (const auto& a : spec.args) {
    const std::string p = child(args_ptr, a.name);
    const ArgPlace at{cx, a, spec.name, p};
    if (args != nullptr && args->contains(a.name)) {
      out.push_back(parse_value(at, (*args)[a.name]));
    } else if (a.required) {
      cx.fail(args != nullptr ? args_ptr : pointer,
              "missing argument '" + a.name + "' for op '" + spec.name + "'");
    } else if (a.default_value.is_null()) {
      out.push_back(LoadedArg{&a, std::monostate{}, std::nullopt});
    } else {
      out.push_back(parse_value(at, a.default_value));
    }
  }
  return out;
}

ExpectAlt parse_errno_or_word(const LoadContext& cx, const std::string& s,
                              const std::string& pointer) {
  ExpectAlt alt;
  if (s == "any") {
    alt.any = true;
  } else if (s == "ok") {
    alt.ok = true;
  } else if (auto e = cx.catalog().registry().errno_value(s)) {
    alt.err = *e;
  } else {
    cx.fail(pointer, "unknown errno name '" + s + "' (or use \"ok\", \"any\", a number)");
  }
  return alt;
}

ExpectAlt parse_alt(const LoadContext& cx, const Json& v, const std::string& pointer) {
  if (v.is_number_integer()) return ExpectAlt{.value = v.get<std::int64_t>()};
  if (v.is_string()) return parse_errno_or_word(cx, v.get<std::string>(), pointer);
  if (!v.is_object()) {
    cx.fail(pointer,
            "expected an expectation (number, errno name, \"ok\", \"any\" or "
            "object), got " +
                type_of(v));
  }
  cx.check_keys(v, pointer, {"value", "errno", "data", "record", "any", "ok"});
  ExpectAlt alt;
  if (v.contains("value"))
    alt.value = cx.require_int(v["value"], child(pointer, "value"), INT64_MIN);
  if (v.contains("errno")) {
    const auto p = child(pointer, "errno");
    alt.err = parse_errno_or_word(cx, cx.require_string(v["errno"], p), p).err;
    if (!alt.err) cx.fail(p, "expected an errno name");
  }
  if (v.contains("data")) alt.data = parse_bytes(cx, v["data"], child(pointer, "data"));
  if (v.contains("record")) alt.record = cx.require_object(v["record"], child(pointer, "record"));
  if (v.contains("any")) {
    if (!v["any"].is_boolean()) cx.fail(child(pointer, "any"), "expected a bool");
    alt.any = v["any"].get<bool>();
  }
  if (v.contains("ok")) {
    if (!v["ok"].is_boolean()) cx.fail(child(pointer, "ok"), "expected a bool");
    alt.ok = v["ok"].get<bool>();
  }
  return alt;
}

Expectation parse_expect(const LoadContext& cx, const Json& v, const std::string& pointer) {
  Expectation e;
  e.text = v.dump();
  if (v.is_array()) {
    if (v.empty()) cx.fail(pointer, "an expectation list needs at least one alternative");
    for (std::size_t i = 0; i < v.size(); ++i) {
      e.alternatives.push_back(parse_alt(cx, v[i], child(pointer, i)));
    }
  } else {
    e.alternatives.push_back(parse_alt(cx, v, pointer));
  }
  return e;
}

OpCall load_op(const LoadContext& cx, const Json& op, const std::string& pointer,
               std::size_t index) {
  cx.require_object(op, pointer);
  cx.check_keys(op, pointer, {"op", "args", "save", "expect", "when", "repeat", "budget_ms"});
  const std::string name = cx.require_string(cx.require(op, pointer, "op"), child(pointer, "op"));
  const OpSpec* spec = cx.catalog().registry().find(name);
  if (spec == nullptr) cx.fail(child(pointer, "op"), "unknown op '" + name + "'");
  OpCall call;
  call.spec = spec;
  call.module_index = cx.catalog().module_index(spec->module);
  call.index = index;
  call.pointer = pointer;
  call.args = load_args(cx, *spec, op.contains("args") ? &op["args"] : nullptr, pointer);
  if (spec->check) {
    if (auto issue = spec->check(literal_args(call))) {
      const std::string args_ptr = child(pointer, "args");
      const bool given = op.contains("args") && op["args"].contains(issue->arg);
      cx.fail(given ? child(args_ptr, issue->arg) : pointer,
              "op '" + spec->name + "': " + issue->reason);
    }
  }
  if (op.contains("save")) {
    const auto p = child(pointer, "save");
    std::string reg = cx.require_string(op["save"], p);
    if (reg.starts_with("$")) reg.erase(0, 1);
    if (!is_register_name(reg)) cx.fail(p, "bad register name '" + reg + "'");
    call.save = reg;
  }
  if (op.contains("expect")) call.expect = parse_expect(cx, op["expect"], child(pointer, "expect"));
  if (op.contains("repeat")) {
    constexpr std::uint64_t kMaxRepeat = 1'000'000;
    const auto p = child(pointer, "repeat");
    const std::uint64_t n = cx.require_uint(op["repeat"], p, 1);
    if (n > kMaxRepeat) cx.fail(p, "must be at most " + std::to_string(kMaxRepeat));
    call.repeat = static_cast<std::uint32_t>(n);
  }
  if (op.contains("budget_ms")) {
    call.budget =
        cx.require_uint(op["budget_ms"], child(pointer, "budget_ms"), 1) * sim::kMillisecond;
  }
  return call;
}

}  // namespace

Args literal_args(const OpCall& call) {
  Args out;
  for (const LoadedArg& a : call.args) out.set(a.spec->name, a.reg ? Args::Value{} : a.value);
  return out;
}

std::vector<OpCall> load_ops(const LoadContext& cx, const Json& list, const std::string& pointer,
                             const Config& config) {
  cx.require_array(list, pointer);
  std::vector<OpCall> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = child(pointer, i);
    OpCall call = load_op(cx, list[i], p, i);  // checked even when `when` drops it
    if (list[i].contains("when") && !when_matches(cx, list[i]["when"], child(p, "when"), config)) {
      continue;
    }
    out.push_back(std::move(call));
  }
  return out;
}

}  // namespace vfsim::scenarios::detail
