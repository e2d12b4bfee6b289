// libFuzzer harness for ext2. Each input is mounted twice:
//  1. through the whole machine (EXT2_FUZZ_MACHINE, the default inside the
//     vfsim tree): a fresh Machine, the VFS and the ext2 VOP driver on an
//     in-memory disk, walked and written with system calls
//     (ext2_machine_harness.h); a run that does not pass is a finding;
//  2. through the core library alone, which is cheap and reaches the
//     Volume API directly: mounts the bytes (a private copy), walks the tree,
//     reads every file, link and attribute, then runs a short write workload.
// With VFSIM_EXT2_FUZZ_MODE=puffs, each input is mounted once instead, by a
// puffs server (ext2_machine_harness.h, fuzz_ext2_puffs): a driver panic
// kills only the server, and a finding is an input the kernel did not
// survive.
// Every errno is tolerated; the only failures are crashes, sanitizer
// reports, hangs and leaks - and a failed kernel assertion (VFSIM_ASSERT in
// the core, VFSIM_KASSERT in the machine), which signals a bug in our code,
// not in the image. A finding aborts with its message.
//
// Built with -DEXT2_FUZZ_STRUCTURED the harness also defines
// LLVMFuzzerCustomMutator, which edits metadata fields of a valid image
// (superblock, group descriptors, inodes, directory entries, indirect and
// xattr blocks) instead of flipping raw bytes, so that mutants get past the
// mount checks and reach the deeper parsers.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fsdrivers/ext2/volume.h"

#ifdef EXT2_FUZZ_MACHINE
#include "fuzz/ext2_machine_harness.h"
#endif

using namespace vfsim::ext2;

namespace {

constexpr size_t kMaxImageBytes = 16u << 20;  // larger inputs are ignored
constexpr int kMaxDepth = 8;
constexpr size_t kMaxVisits = 2000;
constexpr size_t kMaxFileRead = size_t{256} * 1024;
constexpr int64_t kNow = 1700000000;

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

class Walker {
 public:
  explicit Walker(Volume& v) : v_(v) {}

  void visit_dir(uint32_t dir, int depth) {
    if (depth > kMaxDepth || !seen_.insert(dir).second) return;
    uint64_t cookie = 0;
    for (int batch = 0; batch < 64 && visits_ < kMaxVisits; ++batch) {
      auto r = v_.readdir(dir, cookie, 32);
      if (!r.ok()) return;
      for (const auto& e : r->entries) {
        if (++visits_ > kMaxVisits) return;
        if (e.name == "." || e.name == "..") continue;
        auto ino = v_.lookup(dir, e.name);
        if (ino.ok()) visit_node(*ino, depth);
      }
      if (r->eof || r->next_cookie <= cookie) return;
      cookie = r->next_cookie;
    }
  }

 private:
  void visit_node(uint32_t ino, int depth) {
    auto a = v_.getattr(ino);
    if (!a.ok()) return;
    visit_xattrs(ino);
    switch (a->type) {
      case FileType::Directory: visit_dir(ino, depth + 1); break;
      case FileType::Symlink: (void)v_.readlink(ino); break;
      case FileType::Regular: read_file(ino, a->size); break;
      default: break;
    }
  }

  void read_file(uint32_t ino, uint64_t size) {
    std::vector<std::byte> buf(8192);
    for (uint64_t off = 0; off < size && off < kMaxFileRead; off += buf.size()) {
      if (!v_.read(ino, off, buf).ok()) return;
    }
    if (size > kMaxFileRead) (void)v_.read(ino, size - 100, buf);  // the far end of a sparse file
  }

  void visit_xattrs(uint32_t ino) {
    auto names = v_.listextattr(ino);
    if (!names.ok()) return;
    for (const auto& n : *names) (void)v_.getextattr(ino, n);
  }

  Volume& v_;
  std::set<uint32_t> seen_;
  size_t visits_ = 0;
};

void write_workload(Volume& v) {
  const uint32_t root = Volume::root();
  std::vector<std::byte> data(5000, std::byte{0xA5});
  auto f = v.create(root, "fz", 0644, 0, 0, kNow);
  if (f.ok()) {
    (void)v.write(*f, 0, data, kNow);
    (void)v.write(*f, 70000, data, kNow);
    (void)v.setextattr(*f, "user.fuzz", bytes_of("value"), kNow);
    SetAttr sa;
    sa.size = 3000;
    (void)v.setattr(*f, sa, kNow);
  }
  auto d = v.mkdir(root, "fzd", 0755, 0, 0, kNow);
  if (d.ok()) {
    (void)v.rename(root, "fz", *d, "fz2", kNow);
    (void)v.symlink(*d, "ln", std::string(80, 's'), 0, 0, kNow);
    (void)v.remove(*d, "fz2", kNow);
    (void)v.remove(*d, "ln", kNow);
    (void)v.rmdir(root, "fzd", kNow);
  }
  // Also touch something that was already on the image.
  auto r = v.readdir(root, 0, 8);
  if (r.ok()) {
    for (const auto& e : r->entries) {
      if (e.name == "." || e.name == ".." || e.name == "lost+found") continue;
      if (e.type == FileType::Directory) {
        (void)v.rename(root, e.name, root, e.name + ".r", kNow);
      } else {
        (void)v.link(root, e.name + ".l", e.ino, kNow);
        (void)v.remove(root, e.name, kNow);
      }
      break;
    }
  }
  (void)v.statvfs();
  (void)v.sync();
  (void)v.unmount();
}

}  // namespace

namespace {

void fuzz_core(const uint8_t* data, size_t size) {
  std::vector<std::byte> image(size);
  if (size != 0) std::memcpy(image.data(), data, size);
  MemBlockIo io(std::move(image));
  MountOptions opts;
  opts.cache_blocks = 16;  // small, so eviction paths run too
  auto m = Volume::mount(io, opts);
  if (!m.volume) return;
  Walker(*m.volume).visit_dir(Volume::root(), 0);
  write_workload(*m.volume);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxImageBytes) return 0;
#ifdef EXT2_FUZZ_MACHINE
  // The puffs mode (VFSIM_EXT2_FUZZ_MODE=puffs): the image is served by a
  // puffs server, and the only finding is one the kernel did not survive.
  static const bool puffs_mode = [] {
    const char* mode = std::getenv("VFSIM_EXT2_FUZZ_MODE");
    return mode != nullptr && std::string(mode) == "puffs";
  }();
  if (puffs_mode) {
    const auto r = vfsim::fuzz::fuzz_ext2_puffs(data, size);
    if (r.finding) {
      std::fprintf(stderr, "ext2 puffs fuzz finding (the kernel did not survive): %s\n",
                   r.message.c_str());
      std::abort();
    }
    return 0;
  }
  const auto r = vfsim::fuzz::fuzz_ext2_machine(data, size);
  if (r.finding) {
    std::fprintf(stderr, "ext2 machine fuzz finding: %s\n", r.message.c_str());
    std::abort();
  }
#endif
  try {
    fuzz_core(data, size);
  } catch (const vfsim::sim::PanicError& p) {
    std::fprintf(stderr, "ext2 core fuzz finding: %s\n", p.message.c_str());
    std::abort();
  }
  return 0;
}

#ifdef EXT2_FUZZ_STRUCTURED
#include "structured_mutator.h"
#endif
