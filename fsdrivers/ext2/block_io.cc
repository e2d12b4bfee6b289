#include "fsdrivers/ext2/block_io.h"

#include <cerrno>
#include <cstring>

namespace vfsim::ext2 {

bool MemBlockIo::in_range(uint64_t off, size_t len) const {
  return off <= data_.size() && len <= data_.size() - off;
}

sim::Status MemBlockIo::read(uint64_t off, std::span<std::byte> buf) {
  if (!in_range(off, buf.size())) return sim::Status(EIO);
  if (!buf.empty()) std::memcpy(buf.data(), data_.data() + off, buf.size());
  return sim::kOk;
}

sim::Status MemBlockIo::write(uint64_t off, std::span<const std::byte> buf) {
  if (!in_range(off, buf.size())) return sim::Status(EIO);
  if (!buf.empty()) std::memcpy(data_.data() + off, buf.data(), buf.size());
  return sim::kOk;
}

}  // namespace vfsim::ext2
