#include "fsdrivers/fuse/runtime/isolation.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <set>
#include <vector>

#include "fsdrivers/fuse/runtime/block_set.h"

// Bounds of the foreign code's writable sections, made by the linker for
// the renamed sections (weak: absent when no foreign code is linked).
// NOLINTBEGIN(bugprone-reserved-identifier): the names the linker gives them
extern "C" {
extern char __start_vfsim_fuse_data[] __attribute__((weak));
extern char __stop_vfsim_fuse_data[] __attribute__((weak));
extern char __start_vfsim_fuse_bss[] __attribute__((weak));
extern char __stop_vfsim_fuse_bss[] __attribute__((weak));
}
// NOLINTEND(bugprone-reserved-identifier)

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

// Copies foreign memory byte by byte, uninstrumented: under AddressSanitizer
// the ranges hold the redzones between instrumented globals (a C++ file
// system's), which no instrumented access or memcpy may touch. The bytes
// are volatile so the loop does not become a (checked) memcpy call.
#if defined(__SANITIZE_ADDRESS__)
#define VFSIM_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define VFSIM_NO_ASAN
#endif
VFSIM_NO_ASAN void copy_raw(char* dst, const char* src, std::size_t n) {
  volatile char* d = dst;
  const volatile char* s = src;
  for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
}

const Image& initial_image() {
  static const Image image = [] {
    Image i;
    const Range d = data_range(), b = bss_range();
    i.data.resize(d.size());
    i.bss.resize(b.size());
    copy_raw(i.data.data(), d.lo, d.size());
    copy_raw(i.bss.data(), b.lo, b.size());
    return i;
  }();
  return image;
}

void restore_image() {
  const Image& i = initial_image();
  const Range d = data_range(), b = bss_range();
  if (d.size() == i.data.size()) copy_raw(d.lo, i.data.data(), d.size());
  if (b.size() == i.bss.size()) copy_raw(b.lo, i.bss.data(), b.size());
}

// Who holds the foreign state: guarded by the mutex, because machines on
// other threads may ask. `heap` is touched only by the owner's thread while
// a daemon runs (the shim's allocations), and at release under the mutex.
struct Claims {
  std::mutex mu;
  const sim::Machine* owner = nullptr;
  std::multiset<std::string, std::less<>> file_systems;
  BlockSet heap;                                       // looked up only; freed all at once
  std::vector<std::pair<void*, std::size_t>> buffers;  // receive buffers kept for reuse

  Claims() = default;
  Claims(const Claims&) = delete;
  Claims& operator=(const Claims&) = delete;
  // At process exit: the kept receive buffers are ours, not a leak.
  ~Claims() {
    for (auto& [p, size] : buffers) std::free(p);
  }
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
  if (c.file_systems.empty()) {
    c.heap.free_all();  // the process exits: order does not matter
    c.owner = nullptr;
  }
}

void* foreign_track(void* p) {
  if (p != nullptr) claims().heap.insert(p);
  return p;
}

void foreign_untrack(void* p) {
  if (p != nullptr) claims().heap.erase(p);
}

std::size_t foreign_heap_blocks() { return claims().heap.size(); }

void* take_receive_buffer(std::size_t size) {
  Claims& c = claims();
  {
    std::lock_guard<std::mutex> g(c.mu);
    for (auto it = c.buffers.begin(); it != c.buffers.end(); ++it) {
      if (it->second == size) {
        void* p = it->first;
        c.buffers.erase(it);
        return p;
      }
    }
  }
  return std::malloc(size);
}

void give_receive_buffer(void* p, std::size_t size) {
  if (p == nullptr) return;
  constexpr std::size_t kKept = 16;  // more workers than that are rare: free the rest
  Claims& c = claims();
  std::lock_guard<std::mutex> g(c.mu);
  if (c.buffers.size() >= kKept) {
    std::free(p);
    return;
  }
  c.buffers.emplace_back(p, size);
}

std::size_t foreign_state_bytes() { return data_range().size() + bss_range().size(); }

}  // namespace vfsim::fuse
