// The pjdfstest helper's vocabulary (fs_syscall.h).
#include "cli/fs_syscall.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <map>

namespace vfsim::cli::pjd {

const std::vector<CallSpec>& call_specs() {
  static const std::vector<CallSpec> kSpecs = {
      {"open", "ss?n"},    {"openat", "dss?n"},   {"create", "sn"},         {"unlink", "s"},
      {"unlinkat", "dss"}, {"mkdir", "sn"},       {"mkdirat", "dsn"},       {"rmdir", "s"},
      {"link", "ss"},      {"linkat", "dsdss"},   {"symlink", "ss"},        {"symlinkat", "sds"},
      {"rename", "ss"},    {"renameat", "dsds"},  {"mkfifo", "sn"},         {"mkfifoat", "dsn"},
      {"mknod", "ssnnn"},  {"mknodat", "dssnnn"}, {"chmod", "sn"},          {"fchmod", "dn"},
      {"lchmod", "sn"},    {"fchmodat", "dsns"},  {"chown", "snn"},         {"fchown", "dnn"},
      {"lchown", "snn"},   {"fchownat", "dsnns"}, {"truncate", "sn"},       {"ftruncate", "dn"},
      {"stat", "ss"},      {"fstat", "ds"},       {"lstat", "ss"},          {"fstatat", "dsss"},
      {"pathconf", "ss"},  {"fpathconf", "ds"},   {"lpathconf", "ss"},      {"pread", "dnn"},
      {"pwrite", "dsn"},   {"write", "ds"},       {"utimensat", "dsnnnns"}, {"bind", "s"},
      {"connect", "s"},
  };
  return kSpecs;
}

const CallSpec* find_call(std::string_view name) {
  for (const CallSpec& c : call_specs()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

// Argument count range of a spec: before and after the optional marker.
std::pair<std::size_t, std::size_t> arg_range(std::string_view spec) {
  const std::size_t opt = spec.find('?');
  if (opt == std::string_view::npos) return {spec.size(), spec.size()};
  return {opt, spec.size() - 1};
}

std::optional<int> flags_in(const std::map<std::string_view, int>& table, std::string_view text) {
  if (text == "none" || text == "0") return 0;
  int flags = 0;
  while (!text.empty()) {
    const std::size_t cut = text.find_first_of(",|");
    const std::string_view name = text.substr(0, cut);
    auto it = table.find(name);
    if (it == table.end()) return std::nullopt;
    flags |= it->second;
    text = cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1);
  }
  return flags;
}

}  // namespace

std::vector<Call> split_chain(const std::vector<std::string>& words, std::string* error) {
  std::vector<Call> calls;
  for (std::size_t i = 0; i < words.size();) {
    Call c{words[i], {}};
    for (++i; i < words.size() && words[i] != ":"; ++i) c.args.push_back(words[i]);
    if (i < words.size()) ++i;  // the ":"
    const CallSpec* spec = find_call(c.name);
    if (spec == nullptr) {
      *error = "syscall '" + c.name + "' not supported";
      return {};
    }
    auto [lo, hi] = arg_range(spec->args);
    if (c.args.size() < lo || c.args.size() > hi) {
      *error = c.name + ": expected " + std::to_string(lo) +
               (lo == hi ? "" : "-" + std::to_string(hi)) + " arguments, got " +
               std::to_string(c.args.size());
      return {};
    }
    calls.push_back(std::move(c));
  }
  if (calls.empty()) *error = "no syscall given";
  return calls;
}

std::optional<int> open_flags(std::string_view text) {
  static const std::map<std::string_view, int> kOpen = {
      {"O_RDONLY", O_RDONLY},     {"O_WRONLY", O_WRONLY},       {"O_RDWR", O_RDWR},
      {"O_NONBLOCK", O_NONBLOCK}, {"O_APPEND", O_APPEND},       {"O_CREAT", O_CREAT},
      {"O_TRUNC", O_TRUNC},       {"O_EXCL", O_EXCL},           {"O_DIRECT", O_DIRECT},
      {"O_FSYNC", O_FSYNC},       {"O_SYNC", O_SYNC},           {"O_NOFOLLOW", O_NOFOLLOW},
      {"O_NOCTTY", O_NOCTTY},     {"O_DIRECTORY", O_DIRECTORY},
  };
  return flags_in(kOpen, text);
}

std::optional<int> at_flags(std::string_view text) {
  static const std::map<std::string_view, int> kAt = {
      {"AT_REMOVEDIR", AT_REMOVEDIR},
      {"AT_SYMLINK_FOLLOW", AT_SYMLINK_FOLLOW},
      {"AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW},
  };
  return flags_in(kAt, text);
}

std::optional<std::int64_t> number(std::string_view text) {
  const std::string s(text);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 0);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(v);
}

std::optional<std::int64_t> time_number(std::string_view text) {
  if (text == "UTIME_NOW") return UTIME_NOW;
  if (text == "UTIME_OMIT") return UTIME_OMIT;
  return number(text);
}

namespace {

std::string type_name(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFIFO: return "fifo";
    case S_IFCHR: return "char";
    case S_IFDIR: return "dir";
    case S_IFBLK: return "block";
    case S_IFREG: return "regular";
    case S_IFLNK: return "symlink";
    case S_IFSOCK: return "socket";
    default: return "unknown";
  }
}

std::string octal(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", v);
  return buf;
}

std::string field(const vfs::Stat& st, std::string_view f) {
  const auto sec = [](sim::VTime t) { return std::to_string(t / sim::kSecond); };
  const auto nsec = [](sim::VTime t) { return std::to_string(t % sim::kSecond); };
  if (f == "mode") return octal(st.mode & 07777);
  if (f == "inode") return std::to_string(st.ino);
  if (f == "nlink") return std::to_string(st.nlink);
  if (f == "uid") return std::to_string(st.uid);
  if (f == "gid") return std::to_string(st.gid);
  if (f == "size") return std::to_string(st.size);
  if (f == "blocks") return std::to_string(st.blocks);
  if (f == "atime") return sec(st.atime);
  if (f == "mtime") return sec(st.mtime);
  if (f == "ctime") return sec(st.ctime);
  if (f == "birthtime") return sec(st.birthtime);
  if (f == "atime_ns") return nsec(st.atime);  // the tv_nsec parts, as pjdfstest's helper
  if (f == "mtime_ns") return nsec(st.mtime);
  if (f == "ctime_ns") return nsec(st.ctime);
  if (f == "birthtime_ns") return nsec(st.birthtime);
  if (f == "flags") return "none";  // no chflags(2) in vfsim
  if (f == "major") return std::to_string(major(static_cast<dev_t>(st.rdev)));
  if (f == "minor") return std::to_string(minor(static_cast<dev_t>(st.rdev)));
  if (f == "type") return type_name(st.mode);
  return "unknown";
}

}  // namespace

std::string stat_fields(const vfs::Stat& st, std::string_view fields) {
  std::string out;
  while (!fields.empty()) {
    const std::size_t cut = fields.find(',');
    if (!out.empty()) out += ",";
    out += field(st, fields.substr(0, cut));
    fields = cut == std::string_view::npos ? std::string_view{} : fields.substr(cut + 1);
  }
  return out;
}

}  // namespace vfsim::cli::pjd
