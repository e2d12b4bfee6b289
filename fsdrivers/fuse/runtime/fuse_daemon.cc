#define FUSE_USE_VERSION 34
#include "fsdrivers/fuse/runtime/fuse_daemon.h"

#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fsdrivers/fuse/runtime/isolation.h"
#include "fsdrivers/fuse/runtime/slot.h"

namespace vfsim::fuse {

namespace {

// The custom io libfuse calls: the channel is found from the fd, through
// the calling lwp's daemon (userdata is the file system's, not ours).
ssize_t dev_read(int fd, void* buf, size_t len, void*) {
  FuseDaemon* d = current_daemon();
  DevFuse* dev = d != nullptr ? d->dev_by_fd(fd) : nullptr;
  if (dev == nullptr) {
    errno = ENODEV;
    return -1;
  }
  return dev->read(buf, len);
}

ssize_t dev_writev(int fd, struct iovec* iov, int count, void*) {
  FuseDaemon* d = current_daemon();
  DevFuse* dev = d != nullptr ? d->dev_by_fd(fd) : nullptr;
  if (dev == nullptr) {
    errno = ENODEV;
    return -1;
  }
  return dev->writev(iov, count);
}

}  // namespace

FuseDaemon::FuseDaemon(sim::Machine& m, const FsEntry& fs, sim::Socket& daemon_end,
                       DaemonOptions options)
    : m_(m),
      fs_(fs),
      options_(std::move(options)),
      name_(fs.name),
      posix_(m, name_, this),
      dev_(m, daemon_end, options_.framing, name_) {
  dev_.limit_reads(receive_buffer_size());
}

std::unique_ptr<FuseDaemon> FuseDaemon::create(sim::Machine& m, const FsEntry& fs,
                                               sim::Socket& daemon_end, DaemonOptions options,
                                               std::string* error) {
  if (std::string r = refuse_args(options.args); !r.empty()) {
    *error = r;
    return nullptr;
  }
  if (options.workers < 1 || options.workers > 64) {
    *error = "fuse.workers must be between 1 and 64, not " + std::to_string(options.workers);
    return nullptr;
  }
  std::unique_ptr<FuseDaemon> d(new FuseDaemon(m, fs, daemon_end, std::move(options)));
  if (!d->dev_.ok()) {
    *error = "cannot make the eventfd that identifies /dev/fuse";
    return nullptr;
  }
  if (std::string r = claim_foreign_state(m, fs.name); !r.empty()) {
    *error = r;
    return nullptr;
  }
  d->claimed_ = true;
  return d;
}

FuseDaemon::~FuseDaemon() {
  if (claimed_) release_foreign_state(m_, fs_.name);
}

void FuseDaemon::start() {
  main_ = posix_.spawn("fuse:" + name_ + " main", [this] { run_main(); });
  readers_.push_back(main_);
  if (options_.on_reader) options_.on_reader(main_);
}

// libfuse's log lines go to the kept trace as notes (never hashed: with
// -d they print nodeids, which may be pointers), not to the host's stderr.
void log_to_trace(enum fuse_log_level, const char* fmt, va_list ap) {
  FuseDaemon* d = current_daemon();
  if (d == nullptr || !d->posix().machine().trace().keeping()) return;
  char line[512];
  std::vsnprintf(line, sizeof(line), fmt, ap);
  d->posix().machine().note("fuse_log", d->name() + ": " + line);
}

void FuseDaemon::run_main() {
  fuse_set_log_func(log_to_trace);
  std::vector<std::string> args = {name_};
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  bool foreground = false;
  for (const auto& a : options_.args) foreground = foreground || a == "-f";
  if (!foreground) args.emplace_back("-f");
  args.push_back(options_.mountpoint);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  m_.event("fuse_daemon_start", name_);
  status_ = fs_.main(static_cast<int>(args.size()), argv.data());
  exited_ = true;
  dev_.give_up();  // a process that exits closes its fds: the kernel sees /dev/fuse gone
  m_.event("fuse_daemon_exit", name_ + " status " + std::to_string(status_));
}

void FuseDaemon::wait_exit() {
  if (main_ != sim::kNoLwp) m_.join(main_);
}

int FuseDaemon::attach_session(fuse_session* se, const char* mountpoint) {
  static constexpr fuse_custom_io kIo = {
      .writev = dev_writev, .read = dev_read, .splice_receive = nullptr, .splice_send = nullptr};
  m_.event("fuse_mount", name_ + " on " + std::string(mountpoint != nullptr ? mountpoint : "?"));
  return fuse_session_custom_io(se, &kIo, dev_.fd());
}

bool FuseDaemon::stat_mountpoint(const char* path, struct stat* st) const {
  if (path == nullptr || options_.mountpoint != path) return false;
  *st = {};
  st->st_mode = options_.mountpoint_is_file ? (S_IFREG | 0644) : (S_IFDIR | 0755);
  st->st_nlink = options_.mountpoint_is_file ? 1 : 2;
  return true;
}

// The size of libfuse 3.14's receive buffer: FUSE_MAX_MAX_PAGES (256)
// pages and FUSE_BUFFER_HEADER_SIZE (4 KiB), lowered at INIT to max_write
// and the header, never raised. A worker hands libfuse a buffer of that
// size (a fuse_buf with memory is used as it is), and /dev/fuse refuses a
// read asking for more (DevFuse::limit_reads), so a libfuse that wanted a
// larger one fails a run instead of overrunning it.
std::size_t FuseDaemon::receive_buffer_size() {
  return 256 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) + 4096;
}

void FuseDaemon::worker(fuse_session* se, int* result) {
  struct Buffer {  // given back on every path out, unwinding included
    std::size_t size = receive_buffer_size();
    void* mem = take_receive_buffer(size);
    ~Buffer() { give_receive_buffer(mem, size); }
  } own;
  fuse_buf buf{};
  buf.mem = own.mem;
  int res = 0;
  while (!fuse_session_exited(se)) {
    res = fuse_session_receive_buf(se, &buf);
    if (res == -EINTR) continue;
    if (res <= 0) break;
    fuse_session_process_buf(se, &buf);
  }
  if (res < 0) {
    if (*result == 0) *result = res;
    dev_.give_up();
  }
  fuse_session_exit(se);
}

// The multi-threaded loop: `workers` lwps (this one and workers-1 more),
// each receiving and processing whole requests, as libfuse's own workers
// do. A worker that ends on an error (not the kernel's close) gives
// /dev/fuse up, so that the others, blocked reading, end too.
int FuseDaemon::run_loop(fuse_session* se) {
  auto result = std::make_shared<int>(0);  // outlives this frame if the run is unwound
  std::vector<sim::LwpId> extra;
  for (int i = 1; i < options_.workers; ++i) {
    const sim::LwpId id = posix_.spawn("fuse:" + name_ + " worker " + std::to_string(i),
                                       [this, se, result] { worker(se, result.get()); });
    extra.push_back(id);
    readers_.push_back(id);
    if (options_.on_reader) options_.on_reader(id);
  }
  worker(se, result.get());
  for (sim::LwpId id : extra) m_.join(id);
  fuse_session_reset(se);
  return *result < 0 ? *result : 0;
}

}  // namespace vfsim::fuse
