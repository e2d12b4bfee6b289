// The block-device model (blockdev.h): the two media and the fault wrapper.
#include "sim/blockdev.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vfsim::sim {

// ---------------------------------------------------------------------------
// DiskBase: what every medium shares.

bool DiskBase::in_range(std::uint64_t offset, std::size_t len) const {
  return len <= options_.max_request_bytes && offset <= size_ && len <= size_ - offset;
}

// A request is a scheduling point, and takes its latency of virtual time.
void DiskBase::request(const SchedTag& tag, VTime latency) {
  VFSIM_KASSERT(machine_, machine_.in_lwp(), "block I/O outside an lwp");
  if (latency > 0) {
    machine_.sleep_for(latency);
  } else {
    machine_.sched_point(tag);
  }
}

Status DiskBase::read(std::uint64_t offset, std::span<std::byte> buf) {
  request("blockdev.read", options_.read_latency);
  if (!in_range(offset, buf.size())) return Status(EIO);
  ++stats_.reads;
  stats_.bytes_read += buf.size();
  return buf.empty() ? kOk : do_read(offset, buf);
}

Status DiskBase::write(std::uint64_t offset, std::span<const std::byte> buf) {
  request("blockdev.write", options_.write_latency);
  if (options_.read_only) return Status(EROFS);
  if (!in_range(offset, buf.size())) return Status(EIO);
  ++stats_.writes;
  stats_.bytes_written += buf.size();
  return buf.empty() ? kOk : do_write(offset, buf);
}

Status DiskBase::flush() {
  request("blockdev.flush", options_.write_latency);
  ++stats_.flushes;
  return options_.read_only ? kOk : do_flush();
}

// ---------------------------------------------------------------------------
// MemDisk

std::unique_ptr<MemDisk> MemDisk::make(Machine& m, std::vector<std::byte> image,
                                       BlockDevOptions options, std::string* reason) {
  if (image.size() > options.max_bytes) {
    *reason = options.name + ": image of " + std::to_string(image.size()) +
              " bytes exceeds the limit of " + std::to_string(options.max_bytes);
    return nullptr;
  }
  return std::unique_ptr<MemDisk>(new MemDisk(m, std::move(options), std::move(image)));
}

MemDisk::MemDisk(Machine& m, BlockDevOptions options, std::vector<std::byte> image)
    : DiskBase(m, std::move(options), image.size()), bytes_(std::move(image)) {}

Status MemDisk::do_read(std::uint64_t offset, std::span<std::byte> buf) {
  std::memcpy(buf.data(), bytes_.data() + offset, buf.size());
  return kOk;
}

Status MemDisk::do_write(std::uint64_t offset, std::span<const std::byte> buf) {
  std::memcpy(bytes_.data() + offset, buf.data(), buf.size());
  return kOk;
}

// ---------------------------------------------------------------------------
// FileDisk

std::unique_ptr<FileDisk> FileDisk::open(Machine& m, const std::string& path,
                                         BlockDevOptions options, std::string* reason) {
  const int fd = ::open(path.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) {
    *reason = path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *reason = path + ": not a regular file";
    ::close(fd);
    return nullptr;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > options.max_bytes) {
    *reason = path + ": image of " + std::to_string(size) + " bytes exceeds the limit of " +
              std::to_string(options.max_bytes);
    ::close(fd);
    return nullptr;
  }
  if (options.name == "disk") options.name = path;
  return std::unique_ptr<FileDisk>(new FileDisk(m, std::move(options), fd, size));
}

FileDisk::FileDisk(Machine& m, BlockDevOptions options, int fd, std::uint64_t size)
    : DiskBase(m, std::move(options), size), fd_(fd) {}

FileDisk::~FileDisk() { ::close(fd_); }

// Host I/O may return short counts; loop until done. Any host error is a
// device error to the simulation.
Status FileDisk::do_read(std::uint64_t offset, std::span<std::byte> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n =
        ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(EIO);  // an error, or the file shrank under us
    done += static_cast<std::size_t>(n);
  }
  return kOk;
}

Status FileDisk::do_write(std::uint64_t offset, std::span<const std::byte> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n =
        ::pwrite(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(EIO);
    done += static_cast<std::size_t>(n);
  }
  return kOk;
}

Status FileDisk::do_flush() { return ::fsync(fd_) == 0 ? kOk : Status(EIO); }

// ---------------------------------------------------------------------------
// ReadOnlyFile and OverlayDisk

std::shared_ptr<ReadOnlyFile> ReadOnlyFile::open(const std::string& path, std::string* reason) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *reason = path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *reason = path + ": not a regular file";
    ::close(fd);
    return nullptr;
  }
  return std::shared_ptr<ReadOnlyFile>(
      new ReadOnlyFile(fd, static_cast<std::uint64_t>(st.st_size)));
}

ReadOnlyFile::~ReadOnlyFile() { ::close(fd_); }

Status ReadOnlyFile::read(std::uint64_t offset, std::span<std::byte> buf) const {
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n =
        ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(EIO);
    done += static_cast<std::size_t>(n);
  }
  return kOk;
}

std::unique_ptr<OverlayDisk> OverlayDisk::make(Machine& m, std::shared_ptr<const ReadOnlyFile> base,
                                               BlockDevOptions options, std::string* reason) {
  if (base->size() > options.max_bytes) {
    *reason = options.name + ": image of " + std::to_string(base->size()) +
              " bytes exceeds the limit of " + std::to_string(options.max_bytes);
    return nullptr;
  }
  return std::unique_ptr<OverlayDisk>(new OverlayDisk(m, std::move(options), std::move(base)));
}

OverlayDisk::OverlayDisk(Machine& m, BlockDevOptions options,
                         std::shared_ptr<const ReadOnlyFile> base)
    : DiskBase(m, std::move(options), base->size()), base_(std::move(base)) {}

Status OverlayDisk::private_block(std::uint64_t n, std::byte** out) {
  auto it = blocks_.find(n);
  if (it == blocks_.end()) {
    auto bytes = std::make_unique<std::byte[]>(kBlockBytes);
    const std::uint64_t start = n * kBlockBytes;
    const std::uint64_t len = std::min(kBlockBytes, size_bytes() - start);
    VFSIM_TRY(base_->read(start, std::span(bytes.get(), len)));
    it = blocks_.emplace(n, std::move(bytes)).first;
  }
  *out = it->second.get();
  return kOk;
}

// Block by block: a private block from memory, a run of others from the host.
Status OverlayDisk::do_read(std::uint64_t offset, std::span<std::byte> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const std::uint64_t at = offset + done;
    const std::uint64_t n = at / kBlockBytes;
    const std::size_t within = static_cast<std::size_t>(at % kBlockBytes);
    const std::size_t len = std::min<std::size_t>(buf.size() - done, kBlockBytes - within);
    auto it = blocks_.find(n);
    if (it != blocks_.end()) {
      std::memcpy(buf.data() + done, it->second.get() + within, len);
    } else if (Status err = base_->read(at, buf.subspan(done, len)); !err.ok()) {
      return err;
    }
    done += len;
  }
  return kOk;
}

Status OverlayDisk::do_write(std::uint64_t offset, std::span<const std::byte> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const std::uint64_t at = offset + done;
    const std::size_t within = static_cast<std::size_t>(at % kBlockBytes);
    const std::size_t len = std::min<std::size_t>(buf.size() - done, kBlockBytes - within);
    std::byte* block = nullptr;
    VFSIM_TRY(private_block(at / kBlockBytes, &block));
    std::memcpy(block + within, buf.data() + done, len);
    done += len;
  }
  return kOk;
}

// ---------------------------------------------------------------------------
// FaultyDisk

std::string_view disk_fault_name(DiskFault f) {
  switch (f) {
    case DiskFault::read_eio: return "read_eio";
    case DiskFault::write_eio: return "write_eio";
    case DiskFault::torn_write: return "torn_write";
  }
  return "?";
}

FaultyDisk::FaultyDisk(Machine& m, BlockDevice& inner, std::vector<DiskFaultRule> rules)
    : machine_(m), inner_(inner), rules_(std::move(rules)) {
  for (const DiskFaultRule& r : rules_) {
    active_.push_back(m.rng().chance(r.active_per_million, 1'000'000));
  }
}

// The first active rule for this kind of request that fires for request
// number `n`, or none.
const DiskFaultRule* FaultyDisk::pick(bool is_write, std::uint64_t n) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const DiskFaultRule& r = rules_[i];
    if (!active_[i] || (r.kind != DiskFault::read_eio) != is_write) continue;
    const bool by_number =
        std::find(r.at_requests.begin(), r.at_requests.end(), n) != r.at_requests.end();
    if (by_number || (r.per_million > 0 && machine_.rng().chance(r.per_million, 1'000'000))) {
      return &r;
    }
  }
  return nullptr;
}

void FaultyDisk::note(DiskFault kind, std::uint64_t n, std::uint64_t offset) {
  ++faults_;
  machine_.event(
      "disk_fault_" + std::string(disk_fault_name(kind)),
      inner_.options().name + " request " + std::to_string(n) + " at " + std::to_string(offset));
}

Status FaultyDisk::read(std::uint64_t offset, std::span<std::byte> buf) {
  const std::uint64_t n = ++reads_;
  const DiskFaultRule* r = pick(false, n);
  if (r == nullptr) return inner_.read(offset, buf);
  note(r->kind, n, offset);
  machine_.sched_point("blockdev.read");
  return Status(EIO);
}

// Stores the request up to one of the sector boundaries inside it (chosen by
// the RNG; possibly none, so nothing is stored) and reports EIO.
Status FaultyDisk::torn(std::uint64_t offset, std::span<const std::byte> buf) {
  const std::uint64_t sector = std::max<std::uint32_t>(1, inner_.options().sector_bytes);
  const std::uint64_t end = offset + buf.size();
  const std::uint64_t first_cut = (offset / sector + 1) * sector;  // boundaries inside
  const std::uint64_t cuts = end > first_cut ? (end - 1 - first_cut) / sector + 1 : 0;
  const std::uint64_t k = machine_.rng().below(cuts + 1);
  const std::uint64_t keep = k == 0 ? 0 : first_cut + (k - 1) * sector - offset;
  if (keep > 0) (void)inner_.write(offset, buf.first(keep));  // EIO is reported anyway
  else machine_.sched_point("blockdev.write");
  return Status(EIO);
}

Status FaultyDisk::write(std::uint64_t offset, std::span<const std::byte> buf) {
  const std::uint64_t n = ++writes_;
  const DiskFaultRule* r = pick(true, n);
  if (r == nullptr) return inner_.write(offset, buf);
  note(r->kind, n, offset);
  if (r->kind == DiskFault::torn_write) return torn(offset, buf);
  machine_.sched_point("blockdev.write");
  return Status(EIO);
}

}  // namespace vfsim::sim
