// Host <-> image copies (fs_copy.h).
#include "cli/fs_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <vector>

namespace vfsim::cli {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Host directory entries in name order, so an image's layout depends only
// on the tree, not on the host's directory order.
std::vector<std::string> host_entries(const std::string& dir, int* err) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    *err = errno;
    return names;
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Every node is reached through its directory's descriptor (openat,
// mkdirat, fstatat...), so a copy walks each path once, not once per system
// call; and through the directory's order of creation, so each lookup in a
// large directory finds its name where the last one did.
class CopyIn {
 public:
  explicit CopyIn(ukfs::Ukfs& fs) : k_(fs.kernel()), p_(fs.proc()) {}

  // `dst` is the node's image path (for messages, hard links and the calls
  // that have no *at form); `dirfd` + `name` reach it.
  CopyError node(const std::string& host, int dirfd, const std::string& name,
                 const std::string& dst) {
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) return {host, errno};
    const auto key = std::pair(st.st_dev, st.st_ino);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto it = links_.find(key);
      if (it != links_.end())
        return status(dst, k_.linkat(p_, AT_FDCWD, it->second, dirfd, name, 0));
      links_.emplace(key, dst);
    }
    CopyError e;
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: e = dir(host, dirfd, name, dst, st); break;
      case S_IFREG: e = file(host, dirfd, name, dst, st); break;
      case S_IFLNK: e = symlink(host, dirfd, name, dst, st); break;
      case S_IFIFO: e = status(dst, k_.mkfifo(p_, dst, st.st_mode & 07777)); break;
      default:  // devices and sockets
        e = status(dst, k_.mknod(p_, dst, st.st_mode, st.st_rdev));
        break;
    }
    if (e.err == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
      e = status(dst, k_.lchown(p_, dst, st.st_uid, st.st_gid));
      if (e.err == 0) e = status(dst, k_.chmod(p_, dst, st.st_mode & 07777));
    }
    if (e.err == 0) e = times(dirfd, name, dst, st);
    return e;
  }

 private:
  static CopyError status(const std::string& what, vn::Status s) { return {what, s.err()}; }

  // Owner and exact permissions (no umask) on an open descriptor, after the
  // contents (a non-root write would clear set-id bits; a read-only
  // directory could not take its entries).
  CopyError owner_mode(int fd, const std::string& dst, const struct stat& st) {
    vn::Status s = k_.fchown(p_, fd, st.st_uid, st.st_gid);
    if (s.ok()) s = k_.fchmod(p_, fd, st.st_mode & 07777);
    return status(dst, s);
  }

  // Times last: a directory's would move again with every entry added.
  CopyError times(int dirfd, const std::string& name, const std::string& dst,
                  const struct stat& st) {
    const vfs::Timespec t[2] = {{st.st_atim.tv_sec, st.st_atim.tv_nsec},
                                {st.st_mtim.tv_sec, st.st_mtim.tv_nsec}};
    return status(dst, k_.utimensat(p_, dirfd, name, t, AT_SYMLINK_NOFOLLOW));
  }

  CopyError dir(const std::string& host, int dirfd, const std::string& name, const std::string& dst,
                const struct stat& st) {
    if (dst != "/") {
      if (vn::Status s = k_.mkdirat(p_, dirfd, name, st.st_mode & 07777); !s.ok())
        return status(dst, s);
    }
    auto fd = k_.openat(p_, dirfd, name, O_RDONLY | O_DIRECTORY);
    if (!fd.ok()) return {dst, fd.err()};
    int err = 0;
    CopyError e;
    for (const std::string& child : host_entries(host, &err)) {
      e = node(host + "/" + child, *fd, child, join(dst, child));
      if (e.err != 0) break;
    }
    if (e.err == 0 && err != 0) e = {host, err};
    if (e.err == 0) e = owner_mode(*fd, dst, st);
    vn::Status c = k_.close(p_, *fd);
    if (e.err == 0 && !c.ok()) e = status(dst, c);
    return e;
  }

  CopyError symlink(const std::string& host, int dirfd, const std::string& name,
                    const std::string& dst, const struct stat& st) {
    std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
    const ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
    if (n < 0) return {host, errno};
    target.resize(static_cast<std::size_t>(n));
    if (vn::Status s = k_.symlinkat(p_, target, dirfd, name); !s.ok()) return status(dst, s);
    return status(dst, k_.lchown(p_, dst, st.st_uid, st.st_gid));  // the kernel has no fchownat
  }

  // The data regions of the host file (SEEK_DATA/SEEK_HOLE) are written at
  // their offsets and the size set at the end, so a hole stays a hole. A
  // write that comes back short (the image is full) is written on from
  // where it stopped, which answers the errno; a file that could not be
  // copied whole is removed, so no partial file is left behind.
  CopyError file(const std::string& host, int dirfd, const std::string& name,
                 const std::string& dst, const struct stat& st) {
    const int in = ::open(host.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return {host, errno};
    auto fd = k_.openat(p_, dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
    if (!fd.ok()) {
      ::close(in);
      return {dst, fd.err()};
    }
    CopyError e = data(in, host, *fd, dst, st.st_size);
    ::close(in);
    if (e.err == 0) e = owner_mode(*fd, dst, st);
    vn::Status c = k_.close(p_, *fd);
    if (e.err == 0 && !c.ok()) e = status(dst, c);
    if (e.err != 0) (void)k_.unlinkat(p_, dirfd, name, 0);
    return e;
  }

  CopyError data(int in, const std::string& host, int fd, const std::string& dst, off_t size) {
    std::string& buf = buf_;
    off_t off = 0;
    while (off < size) {
      off_t start = ::lseek(in, off, SEEK_DATA);
      if (start < 0) {
        if (errno == ENXIO) break;  // only a hole is left
        start = off;                // no SEEK_DATA here: copy everything
      }
      off_t end = ::lseek(in, start, SEEK_HOLE);
      if (end < 0) end = size;
      for (off = start; off < end;) {
        const ssize_t n = ::pread(
            in, buf.data(),
            static_cast<std::size_t>(std::min<off_t>(end - off, static_cast<off_t>(kChunk))), off);
        if (n < 0) return {host, errno};
        if (n == 0) return {host, EIO};  // the file shrank under us
        std::string_view rest(buf.data(), static_cast<std::size_t>(n));
        while (!rest.empty()) {
          auto w = k_.pwrite(p_, fd, rest, off);
          if (!w.ok()) return {dst, w.err()};
          rest.remove_prefix(*w);
          off += static_cast<off_t>(*w);
        }
      }
    }
    return status(dst, k_.ftruncate(p_, fd, size));
  }

  vfs::Kernel& k_;
  vfs::Proc& p_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // host hard link -> image path
  std::string buf_ = std::string(kChunk, '\0');           // one copy buffer for every file
};

// The host side likewise: each host node is made through its parent's
// descriptor (mkdirat, openat, symlinkat) and its mode set on a descriptor.
struct HostAt {
  int dirfd;         // the parent directory, or AT_FDCWD
  std::string name;  // the name in it (the whole path under AT_FDCWD)
  std::string path;  // for messages
};

class CopyOut {
 public:
  explicit CopyOut(ukfs::Ukfs& fs) : k_(fs.kernel()), p_(fs.proc()) {}

  CopyError node(int dirfd, const std::string& name, const std::string& src, const HostAt& host) {
    auto st = k_.fstatat(p_, dirfd, name, AT_SYMLINK_NOFOLLOW);
    if (!st.ok()) return {src, st.err()};
    switch (st->mode & S_IFMT) {
      case S_IFDIR: return dir(dirfd, name, src, host, st->mode & 07777);
      case S_IFLNK: {
        auto target = k_.readlinkat(p_, dirfd, name, 4096);
        if (!target.ok()) return {src, target.err()};
        if (::symlinkat(target->c_str(), host.dirfd, host.name.c_str()) != 0)
          return {host.path, errno};
        return {};
      }
      case S_IFREG: return file(dirfd, name, src, host, st->mode & 07777);
      default: return {src, EOPNOTSUPP};  // device nodes stay in the image
    }
  }

 private:
  // The entries in the directory's own order: each lookup then finds its
  // name where the previous one stopped.
  CopyError dir(int dirfd, const std::string& name, const std::string& src, const HostAt& host,
                std::uint32_t perm) {
    if (::mkdirat(host.dirfd, host.name.c_str(), 0700) != 0 && errno != EEXIST)
      return {host.path, errno};
    const int hfd =
        ::openat(host.dirfd, host.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (hfd < 0) return {host.path, errno};
    auto fd = k_.openat(p_, dirfd, name, O_RDONLY | O_DIRECTORY);
    CopyError e;
    if (!fd.ok()) e = {src, fd.err()};
    for (bool more = fd.ok(); more && e.err == 0;) {
      auto ents = k_.getdents(p_, *fd, 256);
      if (!ents.ok()) {
        e = {src, ents.err()};
        break;
      }
      more = !ents->empty();
      for (const vn::Dirent& d : *ents) {
        if (d.name == "." || d.name == "..") continue;
        e = node(*fd, d.name, join(src, d.name), {hfd, d.name, host.path + "/" + d.name});
        if (e.err != 0) break;
      }
    }
    if (fd.ok()) (void)k_.close(p_, *fd);  // a directory opened for reading closes without error
    if (e.err == 0 && ::fchmod(hfd, perm) != 0) e = {host.path, errno};
    ::close(hfd);
    return e;
  }

  CopyError file(int dirfd, const std::string& name, const std::string& src, const HostAt& host,
                 std::uint32_t perm) {
    auto fd = k_.openat(p_, dirfd, name, O_RDONLY);
    if (!fd.ok()) return {src, fd.err()};
    const int out =
        ::openat(host.dirfd, host.name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CopyError e;
    if (out < 0) e = {host.path, errno};
    while (e.err == 0) {
      auto chunk = k_.read(p_, *fd, kChunk);
      if (!chunk.ok()) {
        e = {src, chunk.err()};
        break;
      }
      if (chunk->empty()) break;
      for (std::string_view rest = *chunk; !rest.empty() && e.err == 0;) {
        const ssize_t n = ::write(out, rest.data(), rest.size());
        if (n < 0) e = {host.path, errno};
        else rest.remove_prefix(static_cast<std::size_t>(n));
      }
    }
    (void)k_.close(p_, *fd);
    if (out >= 0) {
      if (e.err == 0 && ::fchmod(out, perm) != 0) e = {host.path, errno};
      if (::close(out) != 0 && e.err == 0) e = {host.path, errno};
    }
    return e;
  }

  vfs::Kernel& k_;
  vfs::Proc& p_;
};

}  // namespace

CopyError copy_in(ukfs::Ukfs& fs, const std::string& host, const std::string& image_path) {
  return CopyIn(fs).node(host, AT_FDCWD, image_path, image_path);
}

CopyError copy_out(ukfs::Ukfs& fs, const std::string& image_path, const std::string& host) {
  return CopyOut(fs).node(AT_FDCWD, image_path, image_path, {AT_FDCWD, host, host});
}

}  // namespace vfsim::cli
