#include "fsdrivers/fuse/runtime/dev_fuse.h"

#include <linux/fuse.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vfsim::fuse {

DevFuse::DevFuse(sim::Machine& m, sim::Socket& daemon_end, DevFraming framing, std::string name)
    : m_(m),
      sock_(daemon_end),
      framing_(framing),
      name_(std::move(name)),
      read_lock_(m, "/dev/fuse '" + name_ + "' reader") {
  fd_ = ::eventfd(0, EFD_CLOEXEC);
  fd_open_ = fd_ >= 0;
}

DevFuse::~DevFuse() {
  if (fd_open_) ::close(fd_);
}

long DevFuse::read(void* buf, std::size_t len) {
  if (len > read_limit_) {
    m_.event("fuse_dev_buffer", name_ + ": libfuse reads " + std::to_string(len) +
                                    " bytes into a buffer of " + std::to_string(read_limit_));
    errno = EIO;
    return -1;
  }
  if (framing_ == DevFraming::reassemble && sock_.type() == sim::SockType::stream) {
    return read_reassembled(buf, len);
  }
  sim::IoResult r = sock_.recv(&scratch_, len);
  if (!r.ok() || r.eof) {
    errno = ENODEV;  // the kernel closed /dev/fuse: the file system was unmounted
    return -1;
  }
  if (r.truncated) {
    m_.event("fuse_dev_truncated", name_ + ": request longer than the daemon's buffer of " +
                                       std::to_string(len) + " bytes");
    errno = EIO;
    return -1;
  }
  ++reads_;
  std::memcpy(buf, scratch_.data(), scratch_.size());
  return static_cast<long>(scratch_.size());
}

// Gathers a stream into whole requests by the header's length field. A
// length that cannot be right leaves no way to find the next request: the
// channel is given up (ENODEV ends the loop).
long DevFuse::read_reassembled(void* buf, std::size_t len) {
  sim::MutexGuard g(read_lock_);
  for (;;) {
    if (stream_buf_.size() >= sizeof(std::uint32_t)) {
      std::uint32_t want = 0;
      std::memcpy(&want, stream_buf_.data(), sizeof(want));
      if (want < sizeof(fuse_in_header) || want > len) {
        m_.event("fuse_dev_bad_length",
                 name_ + ": stream length field " + std::to_string(want) + " out of range");
        errno = ENODEV;
        return -1;
      }
      if (stream_buf_.size() >= want) {
        std::memcpy(buf, stream_buf_.data(), want);
        stream_buf_.erase(0, want);
        ++reads_;
        return static_cast<long>(want);
      }
    }
    sim::IoResult r = sock_.recv(&scratch_, len);
    if (!r.ok() || r.eof) {
      errno = ENODEV;
      return -1;
    }
    stream_buf_ += scratch_;
  }
}

long DevFuse::writev(const iovec* iov, int count) {
  // The message is gathered into a buffer from a small pool (several
  // workers may be inside a send at once: each needs its own until then).
  struct Buffer {
    std::vector<std::string>& pool;
    std::string s;
    explicit Buffer(std::vector<std::string>& p) : pool(p) {
      if (!pool.empty()) {
        s = std::move(pool.back());
        pool.pop_back();
      }
    }
    ~Buffer() {
      constexpr std::size_t kKept = 8;
      constexpr std::size_t kKeptBytes = std::size_t{64} * 1024;
      if (pool.size() >= kKept || s.capacity() > kKeptBytes) return;
      s.clear();
      pool.push_back(std::move(s));
    }
  } buffer(spare_writes_);
  std::string& msg = buffer.s;
  for (int i = 0; i < count; ++i) {
    msg.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  }
  ++writes_;
  if (notify_hook_ && msg.size() >= sizeof(fuse_out_header)) {
    fuse_out_header oh;
    std::memcpy(&oh, msg.data(), sizeof(oh));
    if (oh.unique == 0) {
      const int e = notify_hook_(msg);
      if (e != 0) {
        errno = e;
        return -1;
      }
      return static_cast<long>(msg.size());
    }
  }
  // A reply's tag names its request for a kept trace (sim/trace_kinds.h).
  std::string tag;
  if (m_.trace().keeping() && msg.size() >= sizeof(fuse_out_header)) {
    fuse_out_header oh;
    std::memcpy(&oh, msg.data(), sizeof(oh));
    tag = "reply " + std::to_string(oh.unique) + " error " + std::to_string(oh.error);
  }
  sim::IoResult r = sock_.send(msg, tag);
  if (!r.ok()) {
    errno = ENODEV;
    return -1;
  }
  if (after_write_) after_write_();
  return static_cast<long>(msg.size());
}

}  // namespace vfsim::fuse
