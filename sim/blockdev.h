// The block-device model: the disk under an on-disk file system (ext2).
//
// A BlockDevice reads and writes bytes at offsets of a fixed-size medium.
// Every read, write and flush is a scheduling point of the machine (a disk
// request is where a kernel lwp sleeps and another runs), and may take
// virtual time. Three media exist:
//   - MemDisk:     the image in memory (tests, the fuzzer);
//   - FileDisk:    a host image file, read with pread and written with pwrite
//     as each request arrives (an unbuffered backend in the rump paper's
//     terms, §3.1); flush() makes the host file durable with fsync. The image
//     tools (vfsim fs, makefs) edit images this way, and `vfsim run
//     --write-image`;
//   - OverlayDisk: a private copy-on-write view of a host image file (one per
//     machine): reads come from the host file unless this disk wrote the
//     block, writes stay in the disk's memory and never reach the host.
//     Scenario runs see their images this way (sim/host_images.h), so no run
//     sees another's writes and the host file is never changed.
// These and host_images.cc are the only places in vfsim that touch a host
// file for a file system.
// Sizes are bounded: a medium larger than BlockDevOptions::max_bytes is
// refused when it is opened, and a request longer than max_request_bytes or
// outside the medium fails with EIO, so no request allocates without bound.
//
// Faults do not live here but in FaultyDisk (CONVENTIONS §2), which wraps
// any BlockDevice.
//
// Fault model of FaultyDisk.
// What may fail: a write may fail with EIO having written nothing
// (`write_eio`), or be torn (`torn_write`): only a prefix of its sectors —
// chosen by the RNG, sector-aligned, possibly none — reaches the medium and
// the write answers EIO, which is what a disk that loses power or remaps a
// bad sector mid-request leaves behind. A read may fail with EIO
// (`read_eio`). Each rule fires with a probability per request or on given
// request numbers ("the 3rd write"), and each rule is switched on once per
// run with its own probability (FoundationDB's Buggify); all draws come from
// the machine's RNG, so a seed replays its faults exactly.
// Why the layers above must survive it: a file system driver sees every
// device error as an errno on the operation that caused the I/O, never as a
// crash; after a torn write the medium may hold half-updated metadata, which
// the driver must later treat as untrusted input like any other image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/errno.h"
#include "sim/machine.h"

namespace vfsim::sim {

struct BlockDevOptions {
  std::string name = "disk";                         // for traces and reports
  std::uint32_t sector_bytes = 512;                  // unit of a torn write
  std::uint64_t max_bytes = std::uint64_t{1} << 32;  // largest medium accepted
  std::uint64_t max_request_bytes = 1 << 20;         // longest single request
  VTime read_latency = 0;                            // virtual time per request
  VTime write_latency = 0;
  bool read_only = false;  // writes answer EROFS
};

struct BlockDevStats {
  std::uint64_t reads = 0, writes = 0, flushes = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0;
};

// The interface an on-disk file system sees. Every call must run inside an
// lwp of the device's machine. Results are kOk or an errno (sim/errno.h).
class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  // Reads buf.size() bytes at `offset`; EIO beyond the end or on a device
  // error (buf is then unspecified).
  [[nodiscard]] virtual Status read(std::uint64_t offset, std::span<std::byte> buf) = 0;
  // Writes buf at `offset`; EIO beyond the end or on a device error (the
  // bytes on the medium are then unspecified: see the fault model), EROFS
  // when read-only.
  [[nodiscard]] virtual Status write(std::uint64_t offset, std::span<const std::byte> buf) = 0;
  // Makes every completed write durable.
  [[nodiscard]] virtual Status flush() = 0;
  // Constant for the life of the device.
  virtual std::uint64_t size_bytes() const = 0;
  virtual const BlockDevOptions& options() const = 0;
  virtual const BlockDevStats& stats() const = 0;
};

// The common part of the two media: range checks, scheduling points,
// latency and counters. Subclasses move the bytes.
class DiskBase : public BlockDevice {
 public:
  Status read(std::uint64_t offset, std::span<std::byte> buf) final;
  Status write(std::uint64_t offset, std::span<const std::byte> buf) final;
  Status flush() final;
  std::uint64_t size_bytes() const final { return size_; }
  const BlockDevOptions& options() const final { return options_; }
  const BlockDevStats& stats() const final { return stats_; }

 protected:
  DiskBase(Machine& m, BlockDevOptions options, std::uint64_t size)
      : machine_(m), options_(std::move(options)), size_(size) {}
  virtual Status do_read(std::uint64_t offset, std::span<std::byte> buf) = 0;
  virtual Status do_write(std::uint64_t offset, std::span<const std::byte> buf) = 0;
  virtual Status do_flush() = 0;

 private:
  bool in_range(std::uint64_t offset, std::size_t len) const;
  void request(const SchedTag& tag, VTime latency);

  Machine& machine_;
  BlockDevOptions options_;
  std::uint64_t size_;
  BlockDevStats stats_;
};

class MemDisk final : public DiskBase {
 public:
  // The medium is `image`; nullptr with a reason when it exceeds max_bytes.
  [[nodiscard]] static std::unique_ptr<MemDisk> make(Machine& m, std::vector<std::byte> image,
                                                     BlockDevOptions options, std::string* reason);
  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  MemDisk(Machine& m, BlockDevOptions options, std::vector<std::byte> image);
  Status do_read(std::uint64_t offset, std::span<std::byte> buf) override;
  Status do_write(std::uint64_t offset, std::span<const std::byte> buf) override;
  Status do_flush() override { return kOk; }
  std::vector<std::byte> bytes_;
};

class FileDisk final : public DiskBase {
 public:
  // Opens the host file `path` (read-write unless options.read_only). On
  // failure: nullptr and a one-line reason naming the file.
  [[nodiscard]] static std::unique_ptr<FileDisk> open(Machine& m, const std::string& path,
                                                      BlockDevOptions options, std::string* reason);
  ~FileDisk() override;
  FileDisk(const FileDisk&) = delete;
  FileDisk& operator=(const FileDisk&) = delete;

 private:
  FileDisk(Machine& m, BlockDevOptions options, int fd, std::uint64_t size);
  Status do_read(std::uint64_t offset, std::span<std::byte> buf) override;
  Status do_write(std::uint64_t offset, std::span<const std::byte> buf) override;
  Status do_flush() override;
  int fd_;
};

// A host file opened read-only, shared by every OverlayDisk over it (pread
// is safe from several threads at once).
class ReadOnlyFile {
 public:
  // nullptr with a one-line reason naming the file when it cannot be opened
  // or is not a regular file.
  [[nodiscard]] static std::shared_ptr<ReadOnlyFile> open(const std::string& path,
                                                          std::string* reason);
  ~ReadOnlyFile();
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  std::uint64_t size() const { return size_; }
  // Reads buf.size() bytes at `offset`: kOk or EIO (a host error, or the
  // file shrank under us).
  [[nodiscard]] Status read(std::uint64_t offset, std::span<std::byte> buf) const;

 private:
  ReadOnlyFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  std::uint64_t size_;
};

class OverlayDisk final : public DiskBase {
 public:
  // Written bytes are kept per block of this size.
  static constexpr std::uint64_t kBlockBytes = 4096;

  // A view of `base`; nullptr with a reason when it exceeds max_bytes.
  [[nodiscard]] static std::unique_ptr<OverlayDisk> make(Machine& m,
                                                         std::shared_ptr<const ReadOnlyFile> base,
                                                         BlockDevOptions options,
                                                         std::string* reason);
  // Blocks this disk holds privately (written at least in part).
  std::size_t private_blocks() const { return blocks_.size(); }

 private:
  OverlayDisk(Machine& m, BlockDevOptions options, std::shared_ptr<const ReadOnlyFile> base);
  Status do_read(std::uint64_t offset, std::span<std::byte> buf) override;
  Status do_write(std::uint64_t offset, std::span<const std::byte> buf) override;
  Status do_flush() override { return kOk; }  // nothing ever goes to the host
  // The private copy of block `n`, made from the host file on first use.
  Status private_block(std::uint64_t n, std::byte** out);

  std::shared_ptr<const ReadOnlyFile> base_;
  // Block number -> its bytes. Only looked up, never iterated.
  std::unordered_map<std::uint64_t, std::unique_ptr<std::byte[]>> blocks_;
};

enum class DiskFault : std::uint8_t {
  read_eio,    // a read answers EIO
  write_eio,   // a write answers EIO and writes nothing
  torn_write,  // a write stores a sector-aligned prefix, then answers EIO
};

std::string_view disk_fault_name(DiskFault f);

struct DiskFaultRule {
  DiskFault kind = DiskFault::write_eio;
  std::uint32_t per_million = 0;                 // chance per request of its kind
  std::vector<std::uint64_t> at_requests;        // or exactly these (1-based) reads/writes
  std::uint32_t active_per_million = 1'000'000;  // chance the rule is on this run
};

class FaultyDisk final : public BlockDevice {
 public:
  FaultyDisk(Machine& m, BlockDevice& inner, std::vector<DiskFaultRule> rules);
  Status read(std::uint64_t offset, std::span<std::byte> buf) override;
  Status write(std::uint64_t offset, std::span<const std::byte> buf) override;
  Status flush() override { return inner_.flush(); }
  std::uint64_t size_bytes() const override { return inner_.size_bytes(); }
  const BlockDevOptions& options() const override { return inner_.options(); }
  const BlockDevStats& stats() const override { return inner_.stats(); }
  std::uint64_t faults() const { return faults_; }

 private:
  const DiskFaultRule* pick(bool is_write, std::uint64_t n);
  void note(DiskFault kind, std::uint64_t n, std::uint64_t offset);
  Status torn(std::uint64_t offset, std::span<const std::byte> buf);

  Machine& machine_;
  BlockDevice& inner_;
  std::vector<DiskFaultRule> rules_;
  std::vector<bool> active_;  // per rule, decided once at construction
  std::uint64_t reads_ = 0, writes_ = 0;
  std::uint64_t faults_ = 0;
};

}  // namespace vfsim::sim
