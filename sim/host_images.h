// Host image files as the runs of one exploration see them.
//
// A scenario mounts an ext2 image by naming a host file. Every run must see
// that image as it was on the host when the exploration began: a run that
// saw an earlier run's writes would fail (or pass) because of the tool, a
// replay elsewhere would not reproduce, and N worker threads would write one
// file at once. So every machine gets a private copy-on-write view
// (OverlayDisk, sim/blockdev.h): reads come from the host file unless the
// machine wrote the block, and nothing a run writes reaches the host. Only
// the blocks a run writes are copied, so a large image costs little per run.
//
// The host file must not change while runs read it. Its identity (device,
// inode, size, modification and change times) and the SHA-256 of its content
// are taken when the exploration first opens it; every later open compares
// the identity, and verify() compares it once more after the runs, so a
// change is a one-line error rather than a verdict about a different image.
// The digest goes into failure reports, and replay checks it.
//
// Mode::write_back (only `vfsim run --write-image`, one machine) hands the
// machine the host file itself (FileDisk), so the run edits the image.
//
// Relative paths are relative to `base_dir` (the scenario file's directory),
// so a scenario and its image move together. Threading: one HostImages is
// shared by every worker of an exploration; all of it is safe to call from
// several threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sim/blockdev.h"

namespace vfsim::sim {

class HostImages {
 public:
  enum class Mode : std::uint8_t {
    private_views,  // each machine its own copy-on-write view; the host file never changes
    write_back,     // the machine writes the host file (vfsim run --write-image)
  };

  explicit HostImages(std::string base_dir, Mode mode = Mode::private_views);
  ~HostImages();
  HostImages(const HostImages&) = delete;
  HostImages& operator=(const HostImages&) = delete;

  // Set before the first run.
  void set_mode(Mode mode);
  Mode mode() const { return mode_; }

  // `path` as the scenario wrote it, made absolute against base_dir.
  [[nodiscard]] std::string resolve(const std::string& path) const;

  // The disk for one machine: the private view (or, in write_back mode, the
  // host file). nullptr with a one-line reason naming the image when it
  // cannot be opened or changed on the host. options.name defaults to `path`
  // as written, so traces do not depend on where the image lives.
  [[nodiscard]] std::unique_ptr<BlockDevice> open(Machine& m, const std::string& path,
                                                  BlockDevOptions options, std::string* reason);

  // Takes the image's identity now, as the first open would; its SHA-256 in
  // *sha256, or false with a reason.
  [[nodiscard]] bool snapshot(const std::string& path, std::string* sha256, std::string* reason);

  struct Image {
    std::string path;      // as the scenario wrote it
    std::string resolved;  // absolute
    std::string sha256;    // of the content when first opened
  };
  // Every image opened so far, by path.
  [[nodiscard]] std::vector<Image> images() const;

  // "" when every image opened is still the file it was; else a one-line
  // error naming the first that changed. Always "" in write_back mode (the
  // run changed it on purpose).
  [[nodiscard]] std::string verify() const;

 private:
  struct Entry;
  // The entry of `path`, made (identity, digest, shared read-only file) on
  // first use; nullptr with a reason.
  std::shared_ptr<Entry> entry(const std::string& path, std::string* reason);

  std::string base_dir_;
  Mode mode_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // by resolved path; guarded by mu_
  std::string changed_;  // the first change seen at an open; guarded by mu_
};

}  // namespace vfsim::sim
