// `vfsim makefs -t ext2 [-s SIZE] IMAGE DIR`: an image from a host directory
// tree through the kernel's own ext2 driver — the rump paper's makefs (§4.4):
//   1. scan the source tree;
//   2. size the image from the scan (unless -s gives the size);
//   3. make the empty file system with the external mke2fs;
//   4. put the tree in through the driver (fs_copy.cc, as fsu_put does),
//      keeping modes, owners, times, hard links, symlinks and device nodes.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/fs_copy.h"
#include "cli/fs_image.h"

extern char** environ;

namespace vfsim::cli {

std::span<const OptionSpec> makefs_options() {
  static constexpr OptionSpec kOptions[] = {
      {"type", "ext2", "file-system type (also -t; only ext2)"},
      {"size", "SIZE", "image size in bytes, or with k/m/g (also -s; default: from the tree)"},
  };
  return kOptions;
}

namespace {

struct Scan {
  std::uint64_t data_kib = 0;  // file data and directories, rounded to 4 KiB blocks
  std::uint64_t inodes = 0;
};

// Phase 1: what the tree needs. Hard links count once.
Scan scan_tree(const std::string& dir, std::string* error) {
  Scan s;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  auto add = [&](const std::filesystem::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !seen.insert({st.st_dev, st.st_ino}).second) return;
    ++s.inodes;
    s.data_kib += (static_cast<std::uint64_t>(st.st_size) + 4095) / 4096 * 4;
    if (S_ISDIR(st.st_mode)) s.data_kib += 4;
  };
  add(dir);
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    add(it->path());
  }
  if (ec) *error = dir + ": " + ec.message();
  return s;
}

// Phase 2: room for the data with a margin for indirect blocks and
// directories, the inode tables and the fixed metadata; at least 1 MiB.
std::uint64_t image_kib(const Scan& s) {
  const std::uint64_t kib = s.data_kib + s.data_kib / 8 + s.inodes / 2 + 1024;
  return std::max<std::uint64_t>(kib, 1024);
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
  std::size_t used = 0;
  const std::uint64_t n = std::stoull(text, &used);
  const std::string unit = text.substr(used);
  if (unit.empty()) return n;
  if (unit == "k" || unit == "K") return n << 10;
  if (unit == "m" || unit == "M") return n << 20;
  if (unit == "g" || unit == "G") return n << 30;
  return std::nullopt;
}

// Phase 3: mke2fs, as a child process, its output and errors thrown away:
// vfsim says in one line what went wrong.
int run_mke2fs(const std::string& image, std::uint64_t kib, std::uint64_t inodes) {
  std::vector<std::string> argv = {"mke2fs",
                                   "-q",
                                   "-F",
                                   "-t",
                                   "ext2",
                                   "-N",
                                   std::to_string(inodes + 32),
                                   image,
                                   std::to_string(kib) + "k"};
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::string path = "PATH=/sbin:/usr/sbin:/bin:/usr/bin";
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, "mke2fs", &quiet, nullptr, cargv.data(), environ);
  if (spawned != 0) {
    char* env[] = {path.data(), nullptr};
    spawned = posix_spawn(&pid, "/sbin/mke2fs", &quiet, nullptr, cargv.data(), env);
  }
  posix_spawn_file_actions_destroy(&quiet);
  if (spawned != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct MakefsArgs {
  std::string image, dir;
  std::optional<std::uint64_t> size_bytes;
};

// Accepts the makefs(8) spellings -t TYPE and -s SIZE among the positionals.
MakefsArgs parse_makefs(const ParsedArgs& args) {
  MakefsArgs m;
  std::string type = args.value("type").value_or("ext2");
  std::optional<std::string> size = args.value("size");
  std::vector<std::string> rest;
  const auto& pos = args.positional;
  for (std::size_t i = 0; i < pos.size(); ++i) {
    if ((pos[i] == "-t" || pos[i] == "-s") && i + 1 < pos.size()) {
      (pos[i] == "-t" ? type : size.emplace()) = pos[i + 1];
      ++i;
    } else {
      rest.push_back(pos[i]);
    }
  }
  if (type != "ext2") throw UsageError("-t: only ext2 is supported, got '" + type + "'");
  if (rest.size() != 2) throw UsageError("usage: vfsim makefs -t ext2 [-s SIZE] IMAGE DIR");
  if (size) {
    m.size_bytes = parse_size(*size);
    if (!m.size_bytes || *m.size_bytes < 65536) throw UsageError("-s: bad size '" + *size + "'");
  }
  m.image = rest[0];
  m.dir = rest[1];
  return m;
}

}  // namespace

int makefs_command(const ParsedArgs& args) {
  const MakefsArgs m = parse_makefs(args);
  struct stat st {};
  if (::stat(m.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::cerr << "vfsim makefs: " << m.dir << ": not a directory\n";
    return kExitBadInput;
  }
  std::string error;
  const Scan scan = scan_tree(m.dir, &error);
  if (!error.empty()) {
    std::cerr << "vfsim makefs: " << error << "\n";
    return kExitBadInput;
  }
  const std::uint64_t kib = m.size_bytes ? *m.size_bytes / 1024 : image_kib(scan);
  // From here on a failure leaves no image behind, empty or partial.
  const auto remove_image = [&] {
    std::error_code ignored;
    std::filesystem::remove(m.image, ignored);
  };
  if (int rc = run_mke2fs(m.image, kib, scan.inodes); rc != 0) {
    remove_image();
    std::cerr << "vfsim makefs: " << m.image << ": mke2fs could not make an ext2 file system of "
              << kib << " KiB for " << scan.inodes << " inodes"
              << (m.size_bytes ? " (-s too small?)" : "") << " (status " << rc << ")\n";
    return kExitFailure;
  }
  // mke2fs need not write the image's last blocks (they read as zeros):
  // the image file gets its whole size, as a sparse tail.
  std::error_code ec;
  if (std::filesystem::file_size(m.image, ec) < kib * 1024 && !ec) {
    std::filesystem::resize_file(m.image, kib * 1024, ec);
  }
  if (ec) {
    remove_image();
    std::cerr << "vfsim makefs: " << m.image << ": " << ec.message() << "\n";
    return kExitFailure;
  }
  ImageSession s;
  s.tool = "makefs";
  s.image = m.image;
  s.umask = 0;
  const int status = with_image(s, [&](ukfs::Ukfs& fs) {
    const CopyError e = copy_in(fs, m.dir, "/");
    if (e.err == ENOSPC && m.size_bytes) {
      std::cerr << "vfsim makefs: " << m.image << ": an image of " << *m.size_bytes
                << " bytes is too small for " << m.dir << " (no space left for " << e.what << ")\n";
      return kExitFailure;
    }
    return e.err == 0 ? kExitPass : report_errno(s, e.what, e.err);
  });
  if (status != kExitPass) remove_image();
  return status;
}

}  // namespace vfsim::cli
