// External FUSE daemons (external.h). The one place vfsim starts a host
// process: what happens here is outside the simulation by design.
#include "fsdrivers/fuse/runtime/external.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fsdrivers/fuse/fuse_abi.h"

extern char** environ;

namespace vfsim::fuse {

// The kernel's end of the real socket, as a sim::Socket (see external.h).
class HostFuseSocket final : public sim::Socket {
 public:
  HostFuseSocket(sim::Machine& m, int fd, std::string name, int timeout_ms)
      : m_(m),
        fd_(fd),
        name_(std::move(name)),
        timeout_ms_(timeout_ms),
        readable_(m, "external fuse daemon '" + name_ + "' reply") {}
  ~HostFuseSocket() override { shut(); }

  sim::IoResult send(std::string_view bytes, std::string_view tag) override {
    (void)tag;
    if (fd_ < 0) return sim::IoResult{sim::Status(EBADF), 0, false, false};
    if (eof_) return sim::IoResult{sim::Status(EPIPE), 0, false, false};
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(bytes.size())) {
      gone("send: " + std::string(std::strerror(errno)));
      return sim::IoResult{sim::Status(EPIPE), 0, false, false};
    }
    if (expects_reply(bytes)) {
      fuse_in_header in;
      std::memcpy(&in, bytes.data(), sizeof(in));
      await_reply(in.unique);
    }
    return sim::IoResult{sim::kOk, bytes.size(), false, false};
  }

  sim::IoResult recv(std::string* out, std::size_t max, sim::VTime timeout) override {
    while (queue_.empty() && !eof_) {
      if (!readable_.sleep("external fuse reply", timeout)) {
        return sim::IoResult{sim::Status(EAGAIN), 0, false, false};
      }
    }
    if (queue_.empty()) {
      out->clear();
      return sim::IoResult{sim::kOk, 0, true, false};
    }
    *out = std::move(queue_.front());
    queue_.pop_front();
    sim::IoResult r{sim::kOk, out->size(), false, false};
    if (out->size() > max) {
      out->resize(max);
      r.truncated = true;
    }
    return r;
  }

  void close() override {
    shut();
    eof_ = true;
    readable_.wakeup();
  }
  sim::SockType type() const override { return sim::SockType::seqpacket; }
  const std::string& name() const override { return name_; }
  bool closed() const override { return fd_ < 0; }

 private:
  // FORGET, BATCH_FORGET, INTERRUPT and NOTIFY_REPLY get no reply.
  static bool expects_reply(std::string_view bytes) {
    if (bytes.size() < sizeof(fuse_in_header)) return false;
    fuse_in_header in;
    std::memcpy(&in, bytes.data(), sizeof(in));
    return in.opcode != FUSE_FORGET && in.opcode != FUSE_BATCH_FORGET &&
           in.opcode != FUSE_INTERRUPT && in.opcode != FUSE_NOTIFY_REPLY;
  }

  // Blocks the machine until the reply to `unique` arrived (keeping every
  // message read on the way), the daemon closed its end, or the timeout.
  void await_reply(std::uint64_t unique) {
    std::string buf(kMaxReplyBytes, '\0');
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, timeout_ms_);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        gone(r == 0 ? "no reply within " + std::to_string(timeout_ms_) + " ms (real time)"
                    : "poll: " + std::string(std::strerror(errno)));
        return;
      }
      const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        gone(n == 0 ? "the daemon closed its end" : "recv: " + std::string(std::strerror(errno)));
        return;
      }
      queue_.emplace_back(buf.data(), static_cast<std::size_t>(n));
      readable_.wakeup();
      if (static_cast<std::size_t>(n) >= sizeof(fuse_out_header)) {
        fuse_out_header out;
        std::memcpy(&out, buf.data(), sizeof(out));
        if (out.unique == unique) return;
      }
    }
  }

  void gone(const std::string& why) {
    if (!eof_) m_.event("fuse_external_gone", name_ + ": " + why);
    eof_ = true;
    readable_.wakeup();
  }

  void shut() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  sim::Machine& m_;
  int fd_;
  std::string name_;
  int timeout_ms_;
  bool eof_ = false;
  std::deque<std::string> queue_;
  sim::WaitChannel readable_;
};

std::unique_ptr<ExternalDaemon> ExternalDaemon::start(sim::Machine& m, const ExternalOptions& o,
                                                      std::string* error) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    *error = "socketpair: " + std::string(std::strerror(errno));
    return nullptr;
  }
  // The daemon's end must survive exec: a copy without FD_CLOEXEC.
  const int child_fd = ::fcntl(sv[1], F_DUPFD, 3);
  ::close(sv[1]);
  if (child_fd < 0) {
    ::close(sv[0]);
    *error = "fcntl: " + std::string(std::strerror(errno));
    return nullptr;
  }
  std::vector<std::string> args = {o.exec};
  args.insert(args.end(), o.argv.begin(), o.argv.end());
  args.emplace_back("-f");
  args.push_back("/dev/fd/" + std::to_string(child_fd));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, o.cwd.c_str());
  pid_t pid = -1;
  const int e = ::posix_spawn(&pid, o.exec.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(child_fd);
  if (e != 0) {
    ::close(sv[0]);
    *error = "cannot start " + o.exec + ": " + std::strerror(e);
    return nullptr;
  }
  std::unique_ptr<ExternalDaemon> d(new ExternalDaemon());
  const auto slash = o.exec.rfind('/');
  d->name_ = slash == std::string::npos ? o.exec : o.exec.substr(slash + 1);
  d->pid_ = pid;
  d->sock_ = std::make_unique<HostFuseSocket>(m, sv[0], d->name_, o.reply_timeout_ms);
  m.event("fuse_external_start",
          d->name_ + ": a host process; its own interleavings are not controlled");
  return d;
}

sim::Socket& ExternalDaemon::kernel_end() { return *sock_; }

void ExternalDaemon::crash() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

// The socket closes first (libfuse reads end-of-file and exits); a daemon
// still there after a while (real time) is killed.
ExternalDaemon::~ExternalDaemon() {
  sock_.reset();
  if (pid_ <= 0) return;
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) return;
    const timespec ten_ms{0, 10'000'000};
    ::nanosleep(&ten_ms, nullptr);
  }
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
}

}  // namespace vfsim::fuse
