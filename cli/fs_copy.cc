// Host <-> image copies (fs_copy.h).
#include "cli/fs_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <vector>

namespace vfsim::cli {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

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

class CopyIn {
 public:
  explicit CopyIn(ukfs::Ukfs& fs) : k_(fs.kernel()), p_(fs.proc()) {}

  CopyError node(const std::string& host, const std::string& dst) {
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) return {host, errno};
    const auto key = std::pair(st.st_dev, st.st_ino);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto it = links_.find(key);
      if (it != links_.end()) return status(dst, k_.link(p_, it->second, dst));
      links_.emplace(key, dst);
    }
    CopyError e = make(host, dst, st);
    if (e.err == 0 && S_ISDIR(st.st_mode)) e = children(host, dst);
    if (e.err == 0) e = attributes(dst, st);
    return e;
  }

 private:
  static CopyError status(const std::string& what, vn::Status s) { return {what, s.err()}; }

  CopyError make(const std::string& host, const std::string& dst, const struct stat& st) {
    const std::uint32_t perm = st.st_mode & 07777;
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: return dst == "/" ? CopyError{} : status(dst, k_.mkdir(p_, dst, perm));
      case S_IFREG: return file(host, dst, perm);
      case S_IFLNK: {
        std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
        const ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
        if (n < 0) return {host, errno};
        target.resize(static_cast<std::size_t>(n));
        return status(dst, k_.symlink(p_, target, dst));
      }
      case S_IFIFO: return status(dst, k_.mkfifo(p_, dst, perm));
      default:  // devices and sockets
        return status(dst, k_.mknod(p_, dst, st.st_mode, st.st_rdev));
    }
  }

  // A write that comes back short (the image is full) is written on from
  // where it stopped, which answers the errno; a file that could not be
  // copied whole is removed, so no partial file is left behind.
  CopyError file(const std::string& host, const std::string& dst, std::uint32_t perm) {
    std::ifstream in(host, std::ios::binary);
    if (!in) return {host, errno != 0 ? errno : EIO};
    auto fd = k_.open(p_, dst, O_WRONLY | O_CREAT | O_TRUNC, perm);
    if (!fd.ok()) return {dst, fd.err()};
    std::string buf(kChunk, '\0');
    CopyError e;
    while (e.err == 0 && in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      std::string_view rest(buf.data(), static_cast<std::size_t>(in.gcount()));
      while (e.err == 0 && !rest.empty()) {
        auto n = k_.write(p_, *fd, rest);
        if (!n.ok()) e = {dst, n.err()};
        else rest.remove_prefix(*n);
      }
    }
    vn::Status c = k_.close(p_, *fd);
    if (e.err == 0 && !c.ok()) e = {dst, c.err()};
    if (e.err != 0) (void)k_.unlink(p_, dst);
    return e;
  }

  CopyError children(const std::string& host, const std::string& dst) {
    int err = 0;
    for (const std::string& name : host_entries(host, &err)) {
      CopyError e = node(host + "/" + name, join(dst, name));
      if (e.err != 0) return e;
    }
    return {host, err};
  }

  // Owner, exact permissions (no umask) and times, after the contents: the
  // times of a directory would move again with every entry added to it.
  CopyError attributes(const std::string& dst, const struct stat& st) {
    vn::Status s = k_.lchown(p_, dst, st.st_uid, st.st_gid);
    if (s.ok() && !S_ISLNK(st.st_mode)) s = k_.chmod(p_, dst, st.st_mode & 07777);
    const vfs::Timespec times[2] = {{st.st_atim.tv_sec, st.st_atim.tv_nsec},
                                    {st.st_mtim.tv_sec, st.st_mtim.tv_nsec}};
    if (s.ok()) s = k_.utimensat(p_, AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW);
    return status(dst, s);
  }

  vfs::Kernel& k_;
  vfs::Proc& p_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // host hard link -> image path
};

class CopyOut {
 public:
  explicit CopyOut(ukfs::Ukfs& fs) : fs_(fs) {}

  CopyError node(const std::string& src, const std::string& host) {
    auto st = fs_.lstat(src);
    if (!st.ok()) return {src, st.err()};
    switch (st->mode & S_IFMT) {
      case S_IFDIR: return dir(src, host, st->mode & 07777);
      case S_IFLNK: {
        auto target = fs_.readlink(src);
        if (!target.ok()) return {src, target.err()};
        if (::symlink(target->c_str(), host.c_str()) != 0) return {host, errno};
        return {};
      }
      case S_IFREG: return file(src, host, st->mode & 07777);
      default: return {src, EOPNOTSUPP};  // device nodes stay in the image
    }
  }

 private:
  CopyError dir(const std::string& src, const std::string& host, std::uint32_t perm) {
    if (::mkdir(host.c_str(), 0700) != 0 && errno != EEXIST) return {host, errno};
    auto names = fs_.list(src);
    if (!names.ok()) return {src, names.err()};
    std::sort(names->begin(), names->end());
    for (const std::string& n : *names) {
      CopyError e = node(join(src, n), host + "/" + n);
      if (e.err != 0) return e;
    }
    ::chmod(host.c_str(), perm);
    return {};
  }

  CopyError file(const std::string& src, const std::string& host, std::uint32_t perm) {
    std::ofstream out(host, std::ios::binary | std::ios::trunc);
    if (!out) return {host, errno != 0 ? errno : EIO};
    for (std::uint64_t off = 0;; off += kChunk) {
      auto chunk = fs_.read(src, off, kChunk);
      if (!chunk.ok()) return {src, chunk.err()};
      out.write(chunk->data(), static_cast<std::streamsize>(chunk->size()));
      if (chunk->size() < kChunk) break;
    }
    out.close();
    if (!out) return {host, EIO};
    ::chmod(host.c_str(), perm);
    return {};
  }

  ukfs::Ukfs& fs_;
};

}  // namespace

CopyError copy_in(ukfs::Ukfs& fs, const std::string& host, const std::string& image_path) {
  return CopyIn(fs).node(host, image_path);
}

CopyError copy_out(ukfs::Ukfs& fs, const std::string& image_path, const std::string& host) {
  return CopyOut(fs).node(image_path, host);
}

}  // namespace vfsim::cli
