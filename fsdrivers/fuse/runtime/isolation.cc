#include "fsdrivers/fuse/runtime/isolation.h"

#include <cstring>
#include <mutex>
#include <set>
#include <vector>

// Bounds of the foreign code's writable sections, made by the linker for
// the renamed sections (weak: absent when no foreign code is linked).
extern "C" {
extern char __start_vfsim_fuse_data[] __attribute__((weak));
extern char __stop_vfsim_fuse_data[] __attribute__((weak));
extern char __start_vfsim_fuse_bss[] __attribute__((weak));
extern char __stop_vfsim_fuse_bss[] __attribute__((weak));
}

namespace vfsim::fuse {

namespace {

struct Range {
  char* lo;
  char* hi;
  std::size_t size() const { return lo == nullptr ? 0 : static_cast<std::size_t>(hi - lo); }
};

Range data_range() { return {__start_vfsim_fuse_data, __stop_vfsim_fuse_data}; }
Range bss_range() { return {__start_vfsim_fuse_bss, __stop_vfsim_fuse_bss}; }

// The image at process start, taken once before any foreign code runs in a
// machine; constant afterwards.
struct Image {
  std::vector<char> data, bss;
};

const Image& initial_image() {
  static const Image image = [] {
    Image i;
    const Range d = data_range(), b = bss_range();
    i.data.assign(d.lo, d.lo + d.size());
    i.bss.assign(b.lo, b.lo + b.size());
    return i;
  }();
  return image;
}

void restore_image() {
  const Image& i = initial_image();
  const Range d = data_range(), b = bss_range();
  if (d.size() == i.data.size() && d.size() > 0) std::memcpy(d.lo, i.data.data(), d.size());
  if (b.size() == i.bss.size() && b.size() > 0) std::memcpy(b.lo, i.bss.data(), b.size());
}

// Who holds the foreign state: guarded by the mutex, because machines on
// other threads may ask.
struct Claims {
  std::mutex mu;
  const sim::Machine* owner = nullptr;
  std::multiset<std::string, std::less<>> file_systems;
};

Claims& claims() {
  static Claims c;
  return c;
}

}  // namespace

std::string claim_foreign_state(sim::Machine& m, std::string_view fs) {
  (void)initial_image();  // before any foreign code runs in a machine
  Claims& c = claims();
  std::lock_guard<std::mutex> g(c.mu);
  if (c.owner != nullptr && c.owner != &m) {
    return "another machine in this process is running FUSE daemons; foreign globals cannot be "
           "shared: run FUSE scenarios one machine per process";
  }
  if (c.file_systems.count(fs) != 0) {
    return "FUSE file system '" + std::string(fs) +
           "' already has a daemon in this machine; its globals would be shared";
  }
  if (c.owner == nullptr) {
    restore_image();
    c.owner = &m;
  }
  c.file_systems.emplace(fs);
  return {};
}

void release_foreign_state(sim::Machine& m, std::string_view fs) {
  Claims& c = claims();
  std::lock_guard<std::mutex> g(c.mu);
  if (c.owner != &m) return;
  auto it = c.file_systems.find(fs);
  if (it != c.file_systems.end()) c.file_systems.erase(it);
  if (c.file_systems.empty()) c.owner = nullptr;
}

std::size_t foreign_state_bytes() { return data_range().size() + bss_range().size(); }

}  // namespace vfsim::fuse
