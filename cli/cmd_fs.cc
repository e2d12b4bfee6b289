// `vfsim fs ls|cat|stat|put|get|mkdir|rm|ln|mv|write|xattr IMAGE ARGS...`: the
// fs-utils of the rump paper (§4.3) — file utilities that work on an image
// file without mounting it on the host, through the same kernel code and
// ext2 driver a scenario uses (ukfs). `put`/`get` copy across the
// host/image boundary; `write` puts its standard input into a file, as
// fsu_write does. `vfsim fs syscall` is in cmd_fs_syscall.cc.
#include <sys/stat.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "cli/fs_copy.h"
#include "cli/fs_image.h"
#include "cli/fs_syscall.h"

namespace vfsim::cli {

std::span<const OptionSpec> fs_options() {
  static constexpr OptionSpec kOptions[] = {
      {"personality", "netbsd|linux", "system-call semantics (fs syscall; default netbsd)"},
  };
  return kOptions;
}

namespace {

using Tool = int (*)(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args);

char type_char(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return 'd';
    case S_IFLNK: return 'l';
    case S_IFIFO: return 'p';
    case S_IFCHR: return 'c';
    case S_IFBLK: return 'b';
    case S_IFSOCK: return 's';
    default: return '-';
  }
}

// As ls(1) prints it: setuid and setgid show as s/S in the owner's and the
// group's execute place (S: without execute), sticky as t/T in the others'.
std::string mode_string(std::uint32_t mode) {
  std::string s(1, type_char(mode));
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (mode & (0400u >> i)) != 0 ? rwx[i] : '-';
  const std::pair<std::uint32_t, char> special[] = {{S_ISUID, 's'}, {S_ISGID, 's'}, {S_ISVTX, 't'}};
  for (int k = 0; k < 3; ++k) {
    if ((mode & special[k].first) == 0) continue;
    char& x = s[std::size_t{3} + std::size_t{3} * static_cast<std::size_t>(k)];
    x = x == '-' ? static_cast<char>(special[k].second - 'a' + 'A') : special[k].second;
  }
  return s;
}

// One `ls -l` line; every entry is stat'ed, so a corrupt entry is reported.
int ls_line(const ImageSession& s, ukfs::Ukfs& fs, const std::string& path,
            const std::string& shown, std::ostream& out) {
  auto st = fs.lstat(path);
  if (!st.ok()) return report_errno(s, path, st.err());
  out << mode_string(st->mode) << std::setw(4) << st->nlink << " " << std::setw(5) << st->uid << " "
      << std::setw(5) << st->gid << " " << std::setw(9) << st->size << " " << shown;
  if ((st->mode & S_IFMT) == S_IFLNK) {
    auto target = fs.readlink(path);
    if (!target.ok()) return report_errno(s, path, target.err());
    out << " -> " << *target;
  }
  out << "\n";
  return kExitPass;
}

std::string join_path(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// The entries of one directory, stat'ed in the directory's own order (each
// lookup then starts where the last one found its name) and printed sorted
// by name. With `recursive`, the subdirectories follow, each under its path,
// as ls -R prints them.
int ls_dir(const ImageSession& s, ukfs::Ukfs& fs, const std::string& path, bool header,
           bool recursive) {
  auto names = fs.list(path);
  if (!names.ok()) return report_errno(s, path, names.err());
  std::map<std::string, std::string> lines;
  std::vector<std::string> subdirs;
  for (const std::string& n : *names) {
    const std::string child = join_path(path, n);
    std::ostringstream line;
    if (int rc = ls_line(s, fs, child, n, line); rc != kExitPass) return rc;
    lines.emplace(n, line.str());
    if (recursive && line.str()[0] == 'd') subdirs.push_back(child);
  }
  if (header) std::cout << path << ":\n";
  for (const auto& [name, line] : lines) std::cout << line;
  std::sort(subdirs.begin(), subdirs.end());
  for (const std::string& d : subdirs) {
    std::cout << "\n";
    if (int rc = ls_dir(s, fs, d, true, true); rc != kExitPass) return rc;
  }
  return kExitPass;
}

// ls [-R] [PATH...]
int ls(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  std::vector<std::string> paths = args;
  const bool recursive = !paths.empty() && paths.front() == "-R";
  if (recursive) paths.erase(paths.begin());
  if (paths.empty()) paths.push_back("/");
  for (const std::string& path : paths) {
    auto st = fs.lstat(path);
    if (!st.ok()) return report_errno(s, path, st.err());
    if ((st->mode & S_IFMT) != S_IFDIR) {
      if (int rc = ls_line(s, fs, path, path, std::cout); rc != kExitPass) return rc;
      continue;
    }
    if (int rc = ls_dir(s, fs, path, paths.size() > 1 || recursive, recursive); rc != kExitPass)
      return rc;
  }
  return kExitPass;
}

int cat(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  for (const std::string& path : args) {
    // A fifo, socket or device node has no data in the image, and reading a
    // fifo no one writes would wait forever: refuse them as `get` does.
    auto st = fs.stat(path);
    if (!st.ok()) return report_errno(s, path, st.err());
    const std::uint32_t type = st->mode & S_IFMT;
    if (type != S_IFREG && type != S_IFDIR) return report_errno(s, path, EOPNOTSUPP);
    auto data = fs.read_file(path);
    if (!data.ok()) return report_errno(s, path, data.err());
    std::cout << *data;
  }
  return kExitPass;
}

int stat_tool(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  for (const std::string& path : args) {
    auto st = fs.lstat(path);
    if (!st.ok()) return report_errno(s, path, st.err());
    std::cout << path << ": " << mode_string(st->mode) << " ino " << st->ino << " nlink "
              << st->nlink << " uid " << st->uid << " gid " << st->gid << " size " << st->size
              << " blocks " << st->blocks << " atime " << st->atime / sim::kSecond << " mtime "
              << st->mtime / sim::kSecond << " ctime " << st->ctime / sim::kSecond << "\n";
  }
  return kExitPass;
}

int copy_status(const ImageSession& s, const CopyError& e) {
  return e.err == 0 ? kExitPass : report_errno(s, e.what, e.err);
}

int put(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  return copy_status(s, copy_in(fs, args[0], args[1]));
}

int get(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  return copy_status(s, copy_out(fs, args[0], args[1]));
}

int mkdir_tool(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  for (const std::string& path : args) {
    if (auto st = fs.mkdir(path, 0777); !st.ok()) return report_errno(s, path, st.err());
  }
  return kExitPass;
}

// Removes files and empty directories.
int rm(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  for (const std::string& path : args) {
    auto st = fs.lstat(path);
    if (!st.ok()) return report_errno(s, path, st.err());
    vn::Status r = (st->mode & S_IFMT) == S_IFDIR ? fs.rmdir(path) : fs.remove(path);
    if (!r.ok()) return report_errno(s, path, r.err());
  }
  return kExitPass;
}

// ln [-s] TARGET LINK
int ln(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  const bool sym = args.size() == 3;  // "-s" checked before the image was opened
  const std::string& target = args[sym ? 1 : 0];
  const std::string& link = args[sym ? 2 : 1];
  vn::Status r = sym ? fs.symlink(target, link) : fs.link(target, link);
  if (r.ok()) return kExitPass;
  // A hard link's ENOENT names what is missing: the target, unless the
  // target is there (then the new name's directory is missing). A symlink's
  // target is not resolved, so its errors are the new name's.
  const bool target_missing = !sym && r.err() == ENOENT && !fs.lstat(target).ok();
  return report_errno(s, target_missing ? target : link, r.err());
}

int mv(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  vn::Status r = fs.rename(args[0], args[1]);
  return r.ok() ? kExitPass : report_errno(s, args[0], r.err());
}

// write PATH: standard input becomes the file's content (fsu_write).
int write_tool(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  const std::string data((std::istreambuf_iterator<char>(std::cin)), {});
  vn::Status r = fs.write_file(args[0], data);
  if (r.ok()) return kExitPass;
  (void)fs.remove(args[0]);  // no partial file left behind
  return report_errno(s, args[0], r.err());
}

// xattr get|set|list|rm PATH [NAME [VALUE]]: the Linux names with their
// namespace prefix (user.NAME, trusted.NAME...), as getfattr/setfattr take
// them. get prints the value as stored (no newline added); list prints one
// name a line, sorted.
int xattr_tool(const ImageSession& s, ukfs::Ukfs& fs, const std::vector<std::string>& args) {
  vfs::Kernel& k = fs.kernel();
  vfs::Proc& p = fs.proc();
  const std::string& op = args[0];
  const std::string& path = args[1];
  const std::string what = args.size() > 2 ? path + ": " + args[2] : path;
  if (op == "get") {
    auto v = k.getxattr(p, path, args[2], 0, false);
    if (!v.ok()) return report_errno(s, what, v.err());
    std::cout << *v;
  } else if (op == "set") {
    vn::Status r = k.setxattr(p, path, args[2], args[3], 0, false);
    if (!r.ok()) return report_errno(s, what, r.err());
  } else if (op == "list") {
    auto names = k.listxattr(p, path, 0, false);
    if (!names.ok()) return report_errno(s, what, names.err());
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) std::cout << n << "\n";
  } else {  // rm
    vn::Status r = k.removexattr(p, path, args[2], false);
    if (!r.ok()) return report_errno(s, what, r.err());
  }
  return kExitPass;
}

bool xattr_args_ok(const std::vector<std::string>& a) {
  if (a.empty()) return false;
  const std::map<std::string, std::size_t, std::less<>> kCount = {
      {"get", 3}, {"set", 4}, {"list", 2}, {"rm", 3}};
  auto it = kCount.find(a[0]);
  return it != kCount.end() && it->second == a.size();
}

bool ln_args_ok(const std::vector<std::string>& a) {
  return (a.size() == 3) == (a.front() == "-s");
}

bool ls_args_ok(const std::vector<std::string>& a) {
  return std::find(a.begin() + (a.empty() ? 0 : 1), a.end(), "-R") == a.end();
}

// Each tool with the number of arguments after IMAGE it takes (and a
// further check of their shape), checked before the image is opened (usage
// errors never reach the machine), and its line of `vfsim help fs`.
struct ToolSpec {
  Tool run;
  std::size_t min_args, max_args;
  const char* usage;
  const char* summary;
  bool (*args_ok)(const std::vector<std::string>&) = nullptr;
};

constexpr std::size_t kMany = ~std::size_t{0};

// In the order `vfsim help fs` lists them.
const std::vector<std::pair<std::string, ToolSpec>>& tool_list() {
  static const std::vector<std::pair<std::string, ToolSpec>> kTools = {
      {"ls",
       {ls, 0, kMany, "[-R] [PATH...]",
        "long listing of files and directories (default /), sorted; -R: subdirectories too",
        ls_args_ok}},
      {"cat", {cat, 1, kMany, "PATH...", "the contents of regular files"}},
      {"stat", {stat_tool, 1, kMany, "PATH...", "mode, inode, links, owner, size, blocks, times"}},
      {"put",
       {put, 2, 2, "HOSTPATH IMAGEPATH",
        "copy a host file or tree in (modes, owners, times, hard links, holes)"}},
      {"get",
       {get, 2, 2, "IMAGEPATH HOSTPATH",
        "copy a file or tree out (modes, symlinks kept; device nodes refused)"}},
      {"mkdir", {mkdir_tool, 1, kMany, "PATH...", "make directories (mode 0777 & ~022)"}},
      {"rm", {rm, 1, kMany, "PATH...", "remove files, symlinks and empty directories"}},
      {"ln",
       {ln, 2, 3, "[-s] TARGET LINKPATH", "hard link, or with -s a symbolic link", ln_args_ok}},
      {"mv", {mv, 2, 2, "FROM TO", "rename(2)"}},
      {"write",
       {write_tool, 1, 1, "PATH", "standard input becomes the file's content (fsu_write)"}},
      {"xattr",
       {xattr_tool, 2, 4, "get PATH NAME | set PATH NAME VALUE | list PATH | rm PATH NAME",
        "extended attributes by their Linux names (user.x, trusted.x, security.x)", xattr_args_ok}},
  };
  return kTools;
}

const ToolSpec* find_tool(std::string_view name) {
  for (const auto& [n, spec] : tool_list()) {
    if (n == name) return &spec;
  }
  return nullptr;
}

}  // namespace

std::string fs_help() {
  std::ostringstream out;
  out << "tools (IMAGE is an ext2 image file; paths in the image are absolute):\n";
  for (const auto& [name, spec] : tool_list()) {
    out << "  vfsim fs " << name << " IMAGE " << spec.usage << "\n      " << spec.summary << "\n";
  }
  out << "  vfsim fs syscall IMAGE [-U umask] [-u uid] [-g gid,...] SYSCALL ARGS... [: SYSCALL "
         "ARGS...]\n"
         "      the pjdfstest helper: one process runs the chain, printing 0, the stat fields\n"
         "      asked for or an errno name per call (see docs/ext2.md); calls:\n       ";
  std::size_t col = 7;
  for (const pjd::CallSpec& c : pjd::call_specs()) {
    if (col + c.name.size() + 1 > 79) {
      out << "\n       ";
      col = 7;
    }
    out << " " << c.name;
    col += c.name.size() + 1;
  }
  out << "\n\nExit status: 0 done, 1 an errno (printed as \"vfsim fs TOOL: IMAGE: PATH: "
         "reason\"),\n2 bad usage or an image that does not mount or is corrupt.\n";
  return out.str();
}

int fs_command(const ParsedArgs& args) {
  const auto& pos = args.positional;
  if (pos.empty()) {
    std::string names;
    for (const auto& [name, spec] : tool_list()) names += name + " ";
    throw UsageError("needs a tool: " + names + "syscall (vfsim help fs)");
  }
  if (pos[0] == "syscall") return fs_syscall_command(args);
  const ToolSpec* spec = find_tool(pos[0]);
  if (spec == nullptr) throw UsageError("unknown tool '" + pos[0] + "' (vfsim help fs)");
  const std::vector<std::string> rest(pos.begin() + std::min<std::size_t>(2, pos.size()),
                                      pos.end());
  if (pos.size() < 2 || rest.size() < spec->min_args || rest.size() > spec->max_args ||
      (spec->args_ok != nullptr && !spec->args_ok(rest))) {
    throw UsageError("usage: vfsim fs " + pos[0] + " IMAGE " + spec->usage);
  }
  ImageSession s;
  s.tool = "fs " + pos[0];
  s.image = pos[1];
  return with_image(s, [&](ukfs::Ukfs& fs) { return spec->run(s, fs, rest); });
}

}  // namespace vfsim::cli
