// A real device as the outside world (outside_fd.h).
#include "sim/outside_fd.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace vfsim::sim {

FdSource::FdSource(FdSourceOptions o) : options_(std::move(o)), buf_(options_.max_message) {
  const int flags = ::fcntl(options_.fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(options_.fd, F_SETFL, flags | O_NONBLOCK);
}

bool FdSource::start(std::string* reason) {
  if (options_.on_start && !options_.on_start(reason)) {
    closed_ = true;
    error_ = *reason;
    return false;
  }
  started_ = true;
  return true;
}

FdSource::Read FdSource::read_queued(std::vector<std::string>* batch) {
  for (;;) {
    const ssize_t n = ::read(options_.fd, buf_.data(), buf_.size());
    if (n > 0) {
      batch->emplace_back(buf_.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return Read::closed;  // the peer of a socket closed
    // ENOENT: the host gave up on a request before we read it.
    if (errno == EINTR || errno == ENOENT) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return batch->empty() ? Read::none : Read::some;
    if (errno != ENODEV) error_ = std::string("reading the device: ") + std::strerror(errno);
    return Read::closed;
  }
}

void FdSource::drain_signals() {
  if (options_.signal_fd < 0) return;
  signalfd_siginfo si{};
  while (::read(options_.signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    last_signal_ = static_cast<int>(si.ssi_signo);
    if (options_.on_signal) options_.on_signal(last_signal_);
  }
}

OutsideSource::Wake FdSource::wait(VTime now, VTime deadline, std::vector<std::string>* batch,
                                   VTime* at) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto waited = [&]() -> VTime {
    return static_cast<VTime>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  };
  auto when = [&](VTime w) {
    return deadline == kNever || w < deadline - now ? now + w : deadline;
  };
  for (;;) {
    if (closed_) {
      *at = when(waited());
      return Wake::closed;
    }
    const Read r = read_queued(batch);
    const VTime w = waited();
    if (r == Read::some) {
      *at = when(w);
      if (options_.recorder != nullptr) options_.recorder->arrival(*at, *batch);
      return Wake::arrived;
    }
    if (r == Read::closed) {
      closed_ = true;
      *at = when(w);
      if (options_.recorder != nullptr) options_.recorder->closed(*at);
      return Wake::closed;
    }
    if (deadline != kNever && w >= deadline - now) return Wake::deadline;
    pollfd fds[2] = {{options_.fd, POLLIN, 0}, {options_.signal_fd, POLLIN, 0}};
    const nfds_t nfds = options_.signal_fd >= 0 ? 2 : 1;
    timespec ts{};
    timespec* tsp = nullptr;
    if (deadline != kNever) {
      const VTime left = deadline - now - w;
      ts.tv_sec = static_cast<time_t>(left / kSecond);
      ts.tv_nsec = static_cast<long>(left % kSecond);
      tsp = &ts;
    }
    const int rc = ::ppoll(fds, nfds, tsp, nullptr);
    if (rc < 0 && errno != EINTR) {
      error_ = std::string("waiting on the device: ") + std::strerror(errno);
      closed_ = true;
      continue;
    }
    if (nfds == 2 && (fds[1].revents & POLLIN) != 0) drain_signals();
    // POLLERR/POLLHUP on the device: the next read tells which.
  }
}

void FdSource::send(Machine& m, std::string_view bytes) {
  (void)m;
  if (options_.recorder != nullptr) options_.recorder->sent(bytes);
  if (closed_) return;
  for (;;) {
    const ssize_t n = ::write(options_.fd, bytes.data(), bytes.size());
    if (n == static_cast<ssize_t>(bytes.size())) return;
    if (n < 0 && errno == EINTR) continue;
    // ENOENT: the request was interrupted or aborted and needs no reply;
    // ENODEV: the host unmounted. Neither changes what the machine does.
    ++send_failures_;
    return;
  }
}

void FdSource::put_blob(std::string_view name, std::string_view data) {
  if (options_.recorder != nullptr) options_.recorder->blob(name, data);
}

}  // namespace vfsim::sim
