// `vfsim fs ls|cat|stat|put|get|mkdir|rm|ln|mv|write IMAGE ARGS...`: the
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
    char& x = s[static_cast<std::size_t>(3 + 3 * k)];
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
  return r.ok() ? kExitPass : report_errno(s, link, r.err());
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

// Each tool with the number of arguments after IMAGE it takes, checked
// before the image is opened (usage errors never reach the machine).
struct ToolSpec {
  Tool run;
  std::size_t min_args, max_args;
  const char* usage;
};

const std::map<std::string, ToolSpec, std::less<>>& tools() {
  constexpr std::size_t kMany = ~std::size_t{0};
  static const std::map<std::string, ToolSpec, std::less<>> kTools = {
      {"ls", {ls, 0, kMany, "[-R] [PATH...]"}},
      {"cat", {cat, 1, kMany, "PATH..."}},
      {"stat", {stat_tool, 1, kMany, "PATH..."}},
      {"put", {put, 2, 2, "HOSTPATH IMAGEPATH"}},
      {"get", {get, 2, 2, "IMAGEPATH HOSTPATH"}},
      {"mkdir", {mkdir_tool, 1, kMany, "PATH..."}},
      {"rm", {rm, 1, kMany, "PATH..."}},
      {"ln", {ln, 2, 3, "[-s] TARGET LINKPATH"}},
      {"mv", {mv, 2, 2, "FROM TO"}},
      {"write", {write_tool, 1, 1, "PATH (the data comes from stdin)"}},
  };
  return kTools;
}

}  // namespace

int fs_command(const ParsedArgs& args) {
  const auto& pos = args.positional;
  if (pos.empty())
    throw UsageError("needs a tool: ls cat stat put get mkdir rm ln mv write syscall");
  if (pos[0] == "syscall") return fs_syscall_command(args);
  auto it = tools().find(pos[0]);
  if (it == tools().end()) throw UsageError("unknown tool '" + pos[0] + "'");
  const ToolSpec& spec = it->second;
  const std::vector<std::string> rest(pos.begin() + std::min<std::size_t>(2, pos.size()),
                                      pos.end());
  const bool bad_ln =
      pos[0] == "ln" && !rest.empty() && (rest.size() == 3) != (rest.front() == "-s");
  if (pos.size() < 2 || rest.size() < spec.min_args || rest.size() > spec.max_args || bad_ln) {
    throw UsageError("usage: vfsim fs " + pos[0] + " IMAGE " + spec.usage);
  }
  ImageSession s;
  s.tool = "fs " + pos[0];
  s.image = pos[1];
  return with_image(s, [&](ukfs::Ukfs& fs) { return spec.run(s, fs, rest); });
}

}  // namespace vfsim::cli
