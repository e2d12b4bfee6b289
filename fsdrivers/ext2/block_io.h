// The storage interface of the ext2 core.
//
// The library never touches host files, clocks or the simulator: it reads and
// writes the image only through BlockIo. Tests and the fuzzer use MemBlockIo;
// the simulator implements BlockIo over its block-device model, where every
// call is a scheduling point and may fail by fault injection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/errno.h"

namespace vfsim::ext2 {

class BlockIo {
 public:
  virtual ~BlockIo() = default;
  // Reads buf.size() bytes at byte offset off. Returns kOk or an errno (EIO
  // on a device error or a range beyond size_bytes()). A failed read leaves
  // buf unspecified.
  [[nodiscard]] virtual sim::Status read(uint64_t off, std::span<std::byte> buf) = 0;
  // Writes buf at byte offset off. Returns kOk or an errno; after a failure
  // the bytes on the device are unspecified (torn write).
  [[nodiscard]] virtual sim::Status write(uint64_t off, std::span<const std::byte> buf) = 0;
  // The device size; constant for the life of a mount.
  virtual uint64_t size_bytes() const = 0;
};

// An image held in memory. Out-of-range accesses answer EIO.
class MemBlockIo final : public BlockIo {
 public:
  explicit MemBlockIo(std::vector<std::byte> image) : data_(std::move(image)) {}
  sim::Status read(uint64_t off, std::span<std::byte> buf) override;
  sim::Status write(uint64_t off, std::span<const std::byte> buf) override;
  uint64_t size_bytes() const override { return data_.size(); }
  const std::vector<std::byte>& data() const { return data_; }

 private:
  bool in_range(uint64_t off, size_t len) const;
  std::vector<std::byte> data_;
};

}  // namespace vfsim::ext2
