// The simulated /dev/fuse, daemon side: one end of a sim socket pair
// (seqpacket by default, so transport=dgram|stream and the socket faults
// apply to this hop as to puffs), handed to libfuse through
// fuse_session_custom_io().
//
// libfuse's custom io hands back only an fd (its `userdata` is the file
// system's): the channel owns a real eventfd as its identity, the daemon
// finds the channel by that fd, and fuse_session_destroy() closes it (the
// shim's close() notices, so the channel never closes it twice, and closes
// it itself when a run ends before libfuse did).
//
//   read    one whole request; blocks the lwp (a scheduling point). When the
//           kernel closes its end: -1/ENODEV, which ends fuse_session_loop
//           cleanly. With DevFraming::naive one recv is one request (right on
//           seqpacket and dgram; on a stream, what PERFUSE's first attempt
//           did); DevFraming::reassemble gathers a stream by
//           fuse_in_header.len, as hello_ll_uds does.
//   writev  one reply or notification, sent as one message. A notification
//           (unique 0) goes to the notify hook instead when one is set, run
//           in the writer's lwp (the seam for applying notifications under
//           the kernel's locks).
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/socket.h"
#include "sim/sync.h"

namespace vfsim::fuse {

enum class DevFraming : std::uint8_t { naive, reassemble };

class DevFuse {
 public:
  // Returns 0 or an errno (the kernel's answer to the writer).
  using NotifyHook = std::function<int(std::string_view message)>;

  DevFuse(sim::Machine& m, sim::Socket& daemon_end, DevFraming framing, std::string name);
  ~DevFuse();  // closes the eventfd unless libfuse already did
  DevFuse(const DevFuse&) = delete;
  DevFuse& operator=(const DevFuse&) = delete;

  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  void set_notify_hook(NotifyHook hook) { notify_hook_ = std::move(hook); }
  // Called in the writer's lwp after each message it sent, and after the
  // daemon's end closed (give_up): the seam for the kernel side to take
  // replies where the write happened (FuseConn::deliver_in_writer).
  void set_kernel_hooks(std::function<void()> after_write, std::function<void()> after_close) {
    after_write_ = std::move(after_write);
    after_close_ = std::move(after_close);
  }
  // The daemon gives /dev/fuse up (a worker failed): its end closes, so
  // every reader and the kernel see it gone.
  void give_up() {
    if (sock_.closed()) return;
    sock_.close();
    if (after_close_) after_close_();
  }
  // libfuse closed the fd (shim close()).
  void fd_closed() { fd_open_ = false; }

  // The custom io callbacks: -1 with errno set on failure.
  long read(void* buf, std::size_t len);
  // Reads asking for more than `n` bytes fail (EIO, an event): the buffer
  // the caller handed libfuse is that large (FuseDaemon::worker).
  void limit_reads(std::size_t n) { read_limit_ = n; }
  long writev(const iovec* iov, int count);

  std::uint64_t requests_read() const { return reads_; }
  std::uint64_t messages_written() const { return writes_; }

 private:
  long read_reassembled(void* buf, std::size_t len);
  std::size_t read_limit_ = static_cast<std::size_t>(-1);

  sim::Machine& m_;
  sim::Socket& sock_;
  DevFraming framing_;
  std::string name_;
  int fd_ = -1;
  bool fd_open_ = false;
  NotifyHook notify_hook_;
  std::function<void()> after_write_;
  std::function<void()> after_close_;
  sim::Mutex read_lock_;    // reassemble: one reader gathers at a time
  std::string stream_buf_;  // [read_lock_] bytes of a request still incomplete
  std::string scratch_;
  std::vector<std::string> spare_writes_;  // writev's buffers, reused
  std::uint64_t reads_ = 0, writes_ = 0;
};

}  // namespace vfsim::fuse
