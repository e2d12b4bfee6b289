// `vfsim fs syscall IMAGE [-U umask] [-u uid] [-g gid1,gid2...]
//  [--personality netbsd|linux] SYSCALL ARGS... [: SYSCALL ARGS...]`
//
// Runs a chain of system calls in one simulated process with the given
// credentials (no host privileges needed) and prints what the pjdfstest
// helper prints, so that pjdfstest's suite can drive vfsim: "0" for a call
// that succeeded, the stat fields asked for, pathconf's value or pread's
// data; for a call that failed its errno name (ENOENT), and the chain ends
// with exit status 1. Descriptors are the indexes of the descriptors the
// chain opened (0 is the first), AT_FDCWD or BADFD. The image is synced and
// cleanly unmounted after the chain; its clock starts one second after the
// newest timestamp in the image (fs_image.cc).
//
// The kernel has no mknodat, mkfifoat, lchmod, fchmodat or fchownat yet:
// these resolve a relative path against the path the directory descriptor
// was opened with, and a mode change that must not follow a symlink answers
// EOPNOTSUPP on a symlink (as Linux's fchmodat does).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/fs_image.h"
#include "cli/fs_syscall.h"

namespace vfsim::cli {
namespace {

using pjd::Call;

struct BadArg {
  std::string message;
};

// A pointer argument that points nowhere (NULL, DEADCODE): the call answers
// EFAULT before it does anything.
struct Fault {};

// What one call answers: an errno, or the text to print (usually "0").
struct Answer {
  int err = 0;
  std::string text = "0";
};

Answer from(vn::Status s) { return {s.err(), "0"}; }
template <class T>
Answer from(const vn::Result<T>& r) {
  return {r.err(), "0"};
}

class Chain {
 public:
  explicit Chain(ukfs::Ukfs& fs) : k_(fs.kernel()), p_(fs.proc()) {}

  // Runs one call and prints its answer. 0: go on; 1: it failed (the errno
  // name was printed); 2: bad arguments (reported on stderr).
  int run(const Call& c) {
    args_ = &c;
    Answer a;
    try {
      a = dispatch(c.name);
    } catch (const Fault&) {
      a = {EFAULT, ""};
    } catch (const BadArg& e) {
      std::cerr << "vfsim fs syscall: " << c.name << ": " << e.message << "\n";
      return kExitBadInput;
    }
    if (a.err != 0) {
      std::cout << errno_name(a.err) << "\n";
      return kExitFailure;
    }
    std::cout << a.text << "\n";
    return kExitPass;
  }

 private:
  // --- arguments ---------------------------------------------------------
  const std::string& str(std::size_t i) const { return args_->args.at(i); }
  // A pointer argument (a path, a symlink target, a buffer): the pjdfstest
  // helper's tokens NULL and DEADCODE stand for a null and an unmapped
  // pointer, which the kernel's copyin answers with EFAULT.
  const std::string& ptr(std::size_t i) const {
    if (str(i) == "NULL" || str(i) == "DEADCODE") throw Fault{};
    return str(i);
  }
  std::int64_t num(std::size_t i) const {
    auto v = pjd::number(str(i));
    if (!v)
      throw BadArg{"argument " + std::to_string(i) + ": number expected, got '" + str(i) + "'"};
    return *v;
  }
  std::uint32_t mode(std::size_t i) const { return static_cast<std::uint32_t>(num(i)); }
  int fd(std::size_t i) const {
    if (str(i) == "AT_FDCWD") return AT_FDCWD;
    if (str(i) == "BADFD") return -1;
    const std::int64_t idx = num(i);
    if (idx < 0 || static_cast<std::size_t>(idx) >= fds_.size()) {
      throw BadArg{"invalid descriptor " + str(i)};
    }
    return fds_[static_cast<std::size_t>(idx)];
  }
  int flags(std::size_t i, bool open) const {
    auto f = open ? pjd::open_flags(str(i)) : pjd::at_flags(str(i));
    if (!f) throw BadArg{"unknown flag in '" + str(i) + "'"};
    return *f;
  }
  // A path relative to a directory descriptor, for the calls the kernel has
  // no *at form of.
  vn::Result<std::string> at_path(int dirfd, const std::string& path) const {
    if (dirfd == AT_FDCWD || (!path.empty() && path[0] == '/')) return path;
    auto it = fd_paths_.find(dirfd);
    if (it == fd_paths_.end()) return vn::Status(EBADF);
    auto st = k_.fstat(p_, dirfd);
    if (!st.ok()) return st.status();
    if ((st->mode & S_IFMT) != S_IFDIR) return vn::Status(ENOTDIR);
    return it->second + "/" + path;
  }
  void opened(const vn::Result<int>& r, std::string path) {
    if (!r.ok()) return;
    fds_.push_back(*r);
    fd_paths_[*r] = std::move(path);
  }

  Answer dispatch(const std::string& name);
  Answer open_call(bool at);
  Answer mknod_call(bool at);
  Answer chmod_nofollow(const std::string& path, std::uint32_t m);
  Answer stat_call(const vn::Result<vfs::Stat>& r, std::size_t fields_arg);
  Answer pathconf_call(const vn::Result<vfs::Stat>& st, const std::string& path,
                       std::string_view name);
  Answer utimensat_call();

  vfs::Kernel& k_;
  vfs::Proc& p_;
  const Call* args_ = nullptr;
  std::vector<int> fds_;                 // index -> kernel descriptor
  std::map<int, std::string> fd_paths_;  // kernel descriptor -> path it was opened with
};

Answer Chain::open_call(bool at) {
  const std::size_t b = at ? 1 : 0;
  const int dirfd = at ? fd(0) : AT_FDCWD;
  const int f = flags(b + 1, true);
  if ((f & O_CREAT) != 0 && args_->args.size() < b + 3) throw BadArg{"O_CREAT needs a mode"};
  if ((f & O_CREAT) == 0 && args_->args.size() > b + 2) throw BadArg{"too many arguments"};
  const std::uint32_t m = (f & O_CREAT) != 0 ? mode(b + 2) : 0;
  auto r = k_.openat(p_, dirfd, ptr(b), f, m);
  auto path = at_path(dirfd, str(b));
  opened(r, path.ok() ? *path : str(b));
  return from(r);
}

Answer Chain::mknod_call(bool at) {
  const std::size_t b = at ? 1 : 0;
  static const std::map<std::string, std::uint32_t, std::less<>> kTypes = {
      {"c", S_IFCHR}, {"b", S_IFBLK}, {"f", S_IFIFO}, {"d", S_IFDIR}, {"o", S_IFREG}};
  auto type = kTypes.find(str(b + 1));
  if (type == kTypes.end()) throw BadArg{"wrong argument 1"};
  auto path = at_path(at ? fd(0) : AT_FDCWD, ptr(b));
  if (!path.ok()) return from(path);
  const auto dev = makedev(static_cast<unsigned>(num(b + 3)), static_cast<unsigned>(num(b + 4)));
  return from(k_.mknod(p_, *path, type->second | mode(b + 2), dev));
}

// chmod that does not follow a final symlink: the mode of a symlink cannot
// be changed (EOPNOTSUPP), anything else is an ordinary chmod.
Answer Chain::chmod_nofollow(const std::string& path, std::uint32_t m) {
  auto st = k_.lstat(p_, path);
  if (!st.ok()) return from(st);
  if ((st->mode & S_IFMT) == S_IFLNK) return {EOPNOTSUPP, ""};
  return from(k_.chmod(p_, path, m));
}

Answer Chain::stat_call(const vn::Result<vfs::Stat>& r, std::size_t fields_arg) {
  if (!r.ok()) return from(r);
  return {0, pjd::stat_fields(*r, str(fields_arg))};
}

Answer Chain::pathconf_call(const vn::Result<vfs::Stat>& st, const std::string& path,
                            std::string_view name) {
  if (!st.ok()) return from(st);
  auto vfs_stat = k_.statvfs(p_, path.empty() ? "/" : path);
  const bool ext2 = vfs_stat.ok() && vfs_stat->fstypename == "ext2";
  if (name == "_PC_LINK_MAX") return {0, std::to_string(ext2 ? 32000 : vn::kLinkMax)};
  if (name == "_PC_NAME_MAX") return {0, std::to_string(vfs_stat.ok() ? vfs_stat->namemax : 255)};
  if (name == "_PC_PATH_MAX") return {0, std::to_string(vn::kPathMax)};
  if (name == "_PC_SYMLINK_MAX") {
    const std::uint64_t bs = vfs_stat.ok() ? vfs_stat->bsize : vn::kPathMax;
    return {0, std::to_string(std::min<std::uint64_t>(bs, vn::kPathMax) - 1)};
  }
  throw BadArg{"unknown name " + std::string(name)};
}

Answer Chain::utimensat_call() {
  vfs::Timespec times[2];
  for (int i = 0; i < 4; ++i) {
    auto v = pjd::time_number(str(static_cast<std::size_t>(2 + i)));
    if (!v) throw BadArg{"argument " + std::to_string(2 + i) + ": time expected"};
    (i % 2 == 0 ? times[i / 2].sec : times[i / 2].nsec) = *v;
  }
  return from(k_.utimensat(p_, fd(0), ptr(1), times, flags(6, false)));
}

Answer Chain::dispatch(const std::string& n) {
  using R = vn::Result<std::string>;
  if (n == "open") return open_call(false);
  if (n == "openat") return open_call(true);
  if (n == "create") {
    auto r = k_.open(p_, ptr(0), O_CREAT | O_EXCL | O_WRONLY, mode(1));
    if (r.ok()) (void)k_.close(p_, *r);
    return from(r);
  }
  if (n == "unlink") return from(k_.unlink(p_, ptr(0)));
  if (n == "unlinkat") return from(k_.unlinkat(p_, fd(0), ptr(1), flags(2, false)));
  if (n == "mkdir") return from(k_.mkdir(p_, ptr(0), mode(1)));
  if (n == "mkdirat") return from(k_.mkdirat(p_, fd(0), ptr(1), mode(2)));
  if (n == "rmdir") return from(k_.rmdir(p_, ptr(0)));
  if (n == "link") return from(k_.link(p_, ptr(0), ptr(1)));
  if (n == "linkat") return from(k_.linkat(p_, fd(0), ptr(1), fd(2), ptr(3), flags(4, false)));
  if (n == "symlink") return from(k_.symlink(p_, ptr(0), ptr(1)));
  if (n == "symlinkat") return from(k_.symlinkat(p_, ptr(0), fd(1), ptr(2)));
  if (n == "rename") return from(k_.rename(p_, ptr(0), ptr(1)));
  if (n == "renameat") return from(k_.renameat(p_, fd(0), ptr(1), fd(2), ptr(3)));
  if (n == "mkfifo") return from(k_.mkfifo(p_, ptr(0), mode(1)));
  if (n == "mkfifoat") {
    R path = at_path(fd(0), ptr(1));
    return path.ok() ? from(k_.mkfifo(p_, *path, mode(2))) : from(path);
  }
  if (n == "mknod") return mknod_call(false);
  if (n == "mknodat") return mknod_call(true);
  if (n == "chmod") return from(k_.chmod(p_, ptr(0), mode(1)));
  if (n == "fchmod") return from(k_.fchmod(p_, fd(0), mode(1)));
  if (n == "lchmod") return chmod_nofollow(ptr(0), mode(1));
  if (n == "fchmodat") {
    const bool nofollow = (flags(3, false) & AT_SYMLINK_NOFOLLOW) != 0;
    R path = at_path(fd(0), ptr(1));
    if (!path.ok()) return from(path);
    return nofollow ? chmod_nofollow(*path, mode(2)) : from(k_.chmod(p_, *path, mode(2)));
  }
  const auto id = [this](std::size_t i) { return static_cast<std::uint32_t>(num(i)); };
  if (n == "chown") return from(k_.chown(p_, ptr(0), id(1), id(2)));
  if (n == "fchown") return from(k_.fchown(p_, fd(0), id(1), id(2)));
  if (n == "lchown") return from(k_.lchown(p_, ptr(0), id(1), id(2)));
  if (n == "fchownat") {
    const bool nofollow = (flags(4, false) & AT_SYMLINK_NOFOLLOW) != 0;
    R path = at_path(fd(0), ptr(1));
    if (!path.ok()) return from(path);
    return from(nofollow ? k_.lchown(p_, *path, id(2), id(3)) : k_.chown(p_, *path, id(2), id(3)));
  }
  if (n == "truncate") return from(k_.truncate(p_, ptr(0), num(1)));
  if (n == "ftruncate") return from(k_.ftruncate(p_, fd(0), num(1)));
  if (n == "stat") return stat_call(k_.stat(p_, ptr(0)), 1);
  if (n == "lstat") return stat_call(k_.lstat(p_, ptr(0)), 1);
  if (n == "fstat") return stat_call(k_.fstat(p_, fd(0)), 1);
  if (n == "fstatat") return stat_call(k_.fstatat(p_, fd(0), ptr(1), flags(2, false)), 3);
  if (n == "pathconf") return pathconf_call(k_.stat(p_, ptr(0)), ptr(0), str(1));
  if (n == "lpathconf") return pathconf_call(k_.lstat(p_, ptr(0)), ptr(0), str(1));
  if (n == "fpathconf") {
    auto it = fd_paths_.find(fd(0));
    return pathconf_call(k_.fstat(p_, fd(0)), it == fd_paths_.end() ? "/" : it->second, str(1));
  }
  if (n == "pread") {
    auto r = k_.pread(p_, fd(0), static_cast<std::size_t>(num(1)), num(2));
    return r.ok() ? Answer{0, *r} : from(r);
  }
  if (n == "pwrite") return from(k_.pwrite(p_, fd(0), ptr(1), num(2)));
  if (n == "write") return from(k_.write(p_, fd(0), ptr(1)));
  if (n == "utimensat") return utimensat_call();
  if (n == "bind") return from(k_.bind_unix(p_, ptr(0)));
  if (n == "connect") return from(k_.connect_unix(p_, ptr(0)));
  throw BadArg{"not implemented"};
}

// Leading -U/-u/-g options of the pjdfstest helper, before the first call.
struct Creds {
  vn::Cred cred{};
  std::uint32_t umask = 0;  // pjdfstest's default
};

std::size_t parse_creds(const std::vector<std::string>& w, std::size_t i, Creds* c) {
  for (; i + 1 < w.size() && (w[i] == "-U" || w[i] == "-u" || w[i] == "-g"); i += 2) {
    const std::string& v = w[i + 1];
    if (w[i] == "-g") {
      c->cred.groups.clear();
      for (std::size_t at = 0; at <= v.size();) {
        const std::size_t cut = std::min(v.find(',', at), v.size());
        auto g = pjd::number(v.substr(at, cut - at));
        if (!g || *g < 0) throw UsageError("-g: invalid gid in '" + v + "'");
        c->cred.groups.push_back(static_cast<vn::Gid>(*g));
        at = cut + 1;
      }
      c->cred.gid = c->cred.groups.front();
      continue;
    }
    auto n = pjd::number(v);
    if (!n || *n < 0) throw UsageError(w[i] + ": number expected, got '" + v + "'");
    (w[i] == "-U" ? c->umask : c->cred.uid) = static_cast<std::uint32_t>(*n);
  }
  return i;
}

}  // namespace

int fs_syscall_command(const ParsedArgs& args) {
  const auto& w = args.positional;  // "syscall" IMAGE ...
  if (w.size() < 3)
    throw UsageError(
        "usage: vfsim fs syscall IMAGE [-U umask] [-u uid] "
        "[-g gid,...] SYSCALL ARGS... [: SYSCALL ARGS...]");
  Creds creds;
  const std::size_t first = parse_creds(w, 2, &creds);
  std::string error;
  const std::vector<Call> calls = pjd::split_chain(
      std::vector<std::string>(w.begin() + static_cast<std::ptrdiff_t>(first), w.end()), &error);
  if (calls.empty()) throw UsageError(error);
  ImageSession s;
  s.tool = "fs syscall";
  s.image = w[1];
  s.cred = creds.cred;
  s.umask = creds.umask & 0777;
  const std::string personality = args.value("personality").value_or("netbsd");
  if (personality == "linux") {
    s.personality = vfs::Personality::Linux;
  } else if (personality != "netbsd") {
    throw UsageError("--personality: netbsd or linux, got '" + personality + "'");
  }
  return with_image(s, [&](ukfs::Ukfs& fs) {
    Chain chain(fs);
    for (const Call& c : calls) {
      if (int rc = chain.run(c); rc != kExitPass) return rc;
    }
    return kExitPass;
  });
}

}  // namespace vfsim::cli
