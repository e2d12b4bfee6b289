// Op specs, resolved arguments, the op/errno registry and the module catalog.
#include "scenarios/registry.h"

#include <cerrno>
#include <stdexcept>

namespace vfsim::scenarios {

std::string_view arg_type_name(ArgType t) {
  switch (t) {
    case ArgType::integer: return "int";
    case ArgType::fd: return "fd";
    case ArgType::boolean: return "bool";
    case ArgType::string: return "string";
    case ArgType::bytes: return "bytes";
    case ArgType::flags: return "flags";
    case ArgType::enumeration: return "enum";
    case ArgType::json: return "json";
    case ArgType::octal: return "octal";
  }
  return "?";
}

namespace {

ArgSpec make_arg(std::string name, ArgType type, std::string doc, NameTable names = {}) {
  return ArgSpec{std::move(name),  type,      std::move(doc), true, nullptr,
                 std::move(names), INT64_MIN, INT64_MAX};
}

}  // namespace

ArgSpec ArgSpec::integer(std::string name, std::string doc) {
  return make_arg(std::move(name), ArgType::integer, std::move(doc));
}
ArgSpec ArgSpec::fd(std::string name, std::string doc) {
  return make_arg(std::move(name), ArgType::fd, std::move(doc));
}
ArgSpec ArgSpec::boolean(std::string name, std::string doc) {
  return make_arg(std::move(name), ArgType::boolean, std::move(doc));
}
ArgSpec ArgSpec::string(std::string name, std::string doc) {
  return make_arg(std::move(name), ArgType::string, std::move(doc));
}
ArgSpec ArgSpec::bytes(std::string name, std::string doc) {
  return make_arg(std::move(name), ArgType::bytes, std::move(doc));
}
ArgSpec ArgSpec::flags(std::string name, std::string doc, NameTable names) {
  return make_arg(std::move(name), ArgType::flags, std::move(doc), std::move(names));
}
ArgSpec ArgSpec::enumeration(std::string name, std::string doc, NameTable names) {
  return make_arg(std::move(name), ArgType::enumeration, std::move(doc), std::move(names));
}
ArgSpec ArgSpec::json(std::string name, std::string doc) {
  return make_arg(std::move(name), ArgType::json, std::move(doc));
}

ArgSpec ArgSpec::octal(std::string name, std::string doc, std::int64_t max) {
  ArgSpec a = make_arg(std::move(name), ArgType::octal, std::move(doc));
  a.min = 0;
  a.max = max;
  return a;
}

ArgSpec ArgSpec::at_least(std::int64_t least) && {
  min = least;
  return std::move(*this);
}

ArgSpec ArgSpec::optional(nlohmann::json def) && {
  required = false;
  default_value = std::move(def);
  return std::move(*this);
}

// --- Args -------------------------------------------------------------------

const Args::Value& Args::find(std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return v;
  }
  throw std::logic_error("op asked for argument '" + std::string(name) + "' it never declared");
}

bool Args::has(std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return !std::holds_alternative<std::monostate>(v);
  }
  return false;
}

std::int64_t Args::integer(std::string_view name) const {
  const auto* p = std::get_if<std::int64_t>(&find(name));
  if (p == nullptr) throw std::logic_error("argument '" + std::string(name) + "' is no integer");
  return *p;
}

bool Args::boolean(std::string_view name) const {
  const auto* p = std::get_if<bool>(&find(name));
  if (p == nullptr) throw std::logic_error("argument '" + std::string(name) + "' is no bool");
  return *p;
}

const std::string& Args::string(std::string_view name) const {
  const auto* p = std::get_if<std::string>(&find(name));
  if (p == nullptr) throw std::logic_error("argument '" + std::string(name) + "' is no string");
  return *p;
}

const nlohmann::json& Args::json(std::string_view name) const {
  const auto* p = std::get_if<nlohmann::json>(&find(name));
  if (p == nullptr) throw std::logic_error("argument '" + std::string(name) + "' is no json");
  return *p;
}

// --- OpRegistry -----------------------------------------------------------------

OpRegistry::OpRegistry() {
  // The standard names with this host's values. Scenario files and reports
  // use the names; the numbers only matter inside one process. Where two names
  // share a value, the first one listed is the one printed.
  static constexpr std::pair<const char*, int> kStandard[] = {
      {"EPERM", EPERM},
      {"ENOENT", ENOENT},
      {"ESRCH", ESRCH},
      {"EINTR", EINTR},
      {"EIO", EIO},
      {"ENXIO", ENXIO},
      {"E2BIG", E2BIG},
      {"ENOEXEC", ENOEXEC},
      {"EBADF", EBADF},
      {"ECHILD", ECHILD},
      {"EAGAIN", EAGAIN},
      {"EWOULDBLOCK", EWOULDBLOCK},
      {"ENOMEM", ENOMEM},
      {"EACCES", EACCES},
      {"EFAULT", EFAULT},
      {"EBUSY", EBUSY},
      {"EEXIST", EEXIST},
      {"EXDEV", EXDEV},
      {"ENODEV", ENODEV},
      {"ENOTDIR", ENOTDIR},
      {"EISDIR", EISDIR},
      {"EINVAL", EINVAL},
      {"ENFILE", ENFILE},
      {"EMFILE", EMFILE},
      {"ENOTTY", ENOTTY},
      {"ETXTBSY", ETXTBSY},
      {"EFBIG", EFBIG},
      {"ENOSPC", ENOSPC},
      {"ESPIPE", ESPIPE},
      {"EROFS", EROFS},
      {"EMLINK", EMLINK},
      {"EPIPE", EPIPE},
      {"EDOM", EDOM},
      {"ERANGE", ERANGE},
      {"EDEADLK", EDEADLK},
      {"ENAMETOOLONG", ENAMETOOLONG},
      {"ENOLCK", ENOLCK},
      {"ENOSYS", ENOSYS},
      {"ENOTEMPTY", ENOTEMPTY},
      {"ELOOP", ELOOP},
      {"EOPNOTSUPP", EOPNOTSUPP},
      {"ENOTSUP", ENOTSUP},
      {"ETIMEDOUT", ETIMEDOUT},
      {"ENODATA", ENODATA},
      {"ENOATTR", ENODATA},
      {"EOVERFLOW", EOVERFLOW},
      {"ENOTCONN", ENOTCONN},
      {"ECONNRESET", ECONNRESET},
      {"ECONNREFUSED", ECONNREFUSED},
      {"EMSGSIZE", EMSGSIZE},
      {"ENOBUFS", ENOBUFS},
      {"EDQUOT", EDQUOT},
      {"ESTALE", ESTALE},
      {"ECANCELED", ECANCELED},
      {"EBADMSG", EBADMSG},
      {"EPROTO", EPROTO},
      {"EILSEQ", EILSEQ},
      {"ENOTBLK", ENOTBLK},
      {"EUCLEAN", EUCLEAN},
  };
  for (const auto& [name, value] : kStandard) add_errno(name, value);
}

void OpRegistry::add(OpSpec spec) {
  if (spec.name.empty() || !spec.run) {
    throw std::logic_error("op '" + spec.name + "' needs a name and a handler");
  }
  for (std::size_t i = 0; i < spec.args.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.args[i].name == spec.args[j].name) {
        throw std::logic_error("op '" + spec.name + "' declares argument '" + spec.args[i].name +
                               "' twice");
      }
    }
  }
  if (ops_.count(spec.name) != 0) {
    throw std::logic_error("op '" + spec.name + "' registered by both '" +
                           ops_.at(spec.name).module + "' and '" + current_module_ + "'");
  }
  spec.module = current_module_;
  auto name = spec.name;
  ops_.emplace(std::move(name), std::move(spec));
}

void OpRegistry::add_errno(std::string name, int value) {
  errno_by_value_.emplace(value, name);  // keeps the first name of a value
  errno_by_name_[std::move(name)] = value;
}

const OpSpec* OpRegistry::find(std::string_view name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

std::optional<int> OpRegistry::errno_value(std::string_view name) const {
  auto it = errno_by_name_.find(name);
  if (it == errno_by_name_.end()) return std::nullopt;
  return it->second;
}

std::string OpRegistry::errno_name(int value) const {
  auto it = errno_by_value_.find(value);
  return it == errno_by_value_.end() ? "E" + std::to_string(value) : it->second;
}

// --- Catalog --------------------------------------------------------------------

Catalog::Catalog(ModuleList modules) : modules_(std::move(modules)) {
  for (const auto& m : modules_) {
    registry_.set_current_module(std::string(m->name()));
    m->register_ops(registry_);
    for (auto& k : m->knobs()) {
      if (knobs_.count(k.key) != 0) {
        throw std::logic_error("knob '" + k.key + "' declared twice (module " +
                               std::string(m->name()) + ")");
      }
      if (auto bad = k.check(k.default_value)) {
        throw std::logic_error("default of knob '" + k.key + "': " + *bad);
      }
      auto key = k.key;
      knobs_.emplace(std::move(key), std::move(k));
    }
  }
  registry_.set_current_module("");
}

const KnobSpec* Catalog::knob(std::string_view key) const {
  auto it = knobs_.find(key);
  return it == knobs_.end() ? nullptr : &it->second;
}

std::size_t Catalog::module_index(std::string_view name) const {
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    if (modules_[i]->name() == name) return i;
  }
  return static_cast<std::size_t>(-1);
}

}  // namespace vfsim::scenarios
