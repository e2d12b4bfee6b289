// Host image files under many runs (host_images.h).
#include "sim/host_images.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/sha256.h"

namespace vfsim::sim {

namespace {

// What identifies a host file's content without reading it.
struct Identity {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const Identity&) const = default;
};

bool identity_of(const std::string& path, Identity* out, std::string* reason) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *reason = path + ": " + std::strerror(errno);
    return false;
  }
  out->dev = static_cast<std::uint64_t>(st.st_dev);
  out->ino = static_cast<std::uint64_t>(st.st_ino);
  out->size = static_cast<std::uint64_t>(st.st_size);
  out->mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  out->ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return true;
}

}  // namespace

struct HostImages::Entry {
  std::string path;  // as first written
  std::string resolved;
  Identity identity;
  std::string sha256;
  std::shared_ptr<const ReadOnlyFile> file;  // for private views
};

HostImages::HostImages(std::string base_dir, Mode mode)
    : base_dir_(std::move(base_dir)), mode_(mode) {}

HostImages::~HostImages() = default;

void HostImages::set_mode(Mode mode) {
  std::lock_guard<std::mutex> lk(mu_);
  mode_ = mode;
}

std::string HostImages::resolve(const std::string& path) const {
  namespace fs = std::filesystem;
  fs::path p(path);
  if (p.is_relative()) p = fs::path(base_dir_.empty() ? "." : base_dir_) / p;
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

std::shared_ptr<HostImages::Entry> HostImages::entry(const std::string& path, std::string* reason) {
  const std::string resolved = resolve(path);
  std::lock_guard<std::mutex> lk(mu_);
  auto it = entries_.find(resolved);
  if (it != entries_.end()) return it->second;
  auto e = std::make_shared<Entry>();
  e->path = path;
  e->resolved = resolved;
  // The identity before and after reading the content must agree, or the
  // digest may be of a file in the middle of a change.
  Identity after;
  if (!identity_of(resolved, &e->identity, reason)) return nullptr;
  e->file = ReadOnlyFile::open(resolved, reason);
  if (!e->file || !sha256_file(resolved, &e->sha256, reason)) return nullptr;
  if (!identity_of(resolved, &after, reason)) return nullptr;
  if (!(after == e->identity) || e->file->size() != e->identity.size) {
    *reason = path + ": the image changed on the host while vfsim read it";
    return nullptr;
  }
  entries_.emplace(resolved, e);
  return e;
}

std::unique_ptr<BlockDevice> HostImages::open(Machine& m, const std::string& path,
                                              BlockDevOptions options, std::string* reason) {
  if (options.name == "disk") options.name = path;
  auto e = entry(path, reason);
  if (!e) return nullptr;
  if (mode_ == Mode::write_back) {
    auto disk = FileDisk::open(m, e->resolved, std::move(options), reason);
    return disk;
  }
  Identity now;
  std::string why;
  if (!identity_of(e->resolved, &now, &why) || !(now == e->identity)) {
    *reason = path + ": the image changed on the host during the exploration (" + e->resolved +
              "); its runs no longer see one image";
    std::lock_guard<std::mutex> lk(mu_);
    if (changed_.empty()) changed_ = *reason;
    return nullptr;
  }
  return OverlayDisk::make(m, e->file, std::move(options), reason);
}

bool HostImages::snapshot(const std::string& path, std::string* sha256, std::string* reason) {
  auto e = entry(path, reason);
  if (!e) return false;
  *sha256 = e->sha256;
  return true;
}

std::vector<HostImages::Image> HostImages::images() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::map<std::string, Image> by_path;
  for (const auto& [resolved, e] : entries_) by_path[e->path] = Image{e->path, resolved, e->sha256};
  std::vector<Image> out;
  for (auto& [path, image] : by_path) out.push_back(std::move(image));
  return out;
}

std::string HostImages::verify() const {
  std::lock_guard<std::mutex> lk(mu_);
  if (mode_ == Mode::write_back) return "";
  if (!changed_.empty()) return changed_;
  for (const auto& [resolved, e] : entries_) {
    Identity now;
    std::string why;
    if (!identity_of(resolved, &now, &why) || !(now == e->identity)) {
      return e->path + ": the image changed on the host during the exploration (" + resolved +
             "); its runs no longer see one image";
    }
  }
  return "";
}

}  // namespace vfsim::sim
