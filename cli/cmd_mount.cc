// `vfsim mount [-o ro] [--fs ext2|memfs] [IMAGE] MOUNTPOINT [--record FILE]
// [--foreground] [--debug]`: vfsim's kernel and an ext2 image (or a fresh
// memfs) served to the host through the real /dev/fuse, and the replay of
// what it recorded (docs/mount.md).
//
// The process: the checks that need no mount (the mount point, the image's
// superblock, /dev/fuse) come first, each a line and exit 2; then, unless
// --foreground, it forks and the parent waits until the child's mount is
// live (exit 0) or failed (the child printed the line; exit 2). The child
// runs one machine: a World with the file system at "/", and one lwp that
// serves (cli/fuse_serve.h). The machine waits on /dev/fuse only through
// sim/outside_fd.h, which also reads SIGINT/SIGTERM from a signalfd and
// unmounts. When the host unmounts, /dev/fuse answers ENODEV, the serving
// lwp closes every node and handle, and the World shuts down as a ukfs run
// does: the image is written back, the leak checks and invariants run, exit
// 0. A failure of the simulated kernel unmounts (lazily), prints the
// failure, and exits 1.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "boot/ukfs.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/fuse_serve.h"
#include "fsdrivers/ext2/ext2.h"
#include "sim/explore.h"
#include "sim/host_images.h"
#include "sim/outside_fd.h"
#include "sim/recording.h"
#include "sim/sha256.h"
#include "sim/strategy.h"

extern char** environ;

namespace vfsim::cli {

std::span<const OptionSpec> mount_options() {
  static constexpr OptionSpec kOptions[] = {
      {"fs", "ext2|memfs", "the file system served (default ext2, which needs IMAGE)"},
      {"record", "FILE", "record every request, reply and decision to FILE (replay: vfsim replay)"},
      {"foreground", "", "stay in the foreground until unmounted"},
      {"debug", "", "one line per request on stderr (with --foreground)"},
      {"personality", "linux|netbsd", "the kernel's personality (default linux)"},
      {"seed", "N", "the machine's seed (default 1)"},
      {"workers", "N", "lwps serving requests concurrently (default 1)"},
      {"cache-size", "MiB",
       "ext2: a page cache of MiB for file data (the machine's pager; default none: data goes "
       "straight to the image)"},
  };
  return kOptions;
}

namespace {

// What a mount (or its replay) boots: kept in a recording as blob "mount".
struct MountSetup {
  std::string fs = "ext2";
  std::string image;  // the host image (ext2)
  bool read_only = false;
  vfs::Personality personality = vfs::Personality::Linux;
  std::uint64_t seed = 1;
  sim::VTime start_time = 0;
  int workers = 1;
  std::size_t cache_pages = 0;  // --cache-size: the pager's pages; 0 = no pager

  std::string encode() const {
    return "fs=" + fs + "\nro=" + (read_only ? "1" : "0") +
           "\npersonality=" + (personality == vfs::Personality::Linux ? "linux" : "netbsd") +
           "\nseed=" + std::to_string(seed) + "\nstart_time=" + std::to_string(start_time) +
           "\nworkers=" + std::to_string(workers) + "\n" +
           (cache_pages != 0 ? "cache_pages=" + std::to_string(cache_pages) + "\n" : "");
  }
  bool decode(const std::string& text) {
    std::size_t pos = 0;
    int seen = 0;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      const std::string line = text.substr(pos, nl - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      const auto eq = line.find('=');
      if (eq == std::string::npos) return false;
      const std::string key = line.substr(0, eq), v = line.substr(eq + 1);
      try {
        if (key == "fs") fs = v;
        else if (key == "ro") read_only = v == "1";
        else if (key == "personality")
          personality = v == "linux" ? vfs::Personality::Linux : vfs::Personality::NetBSD;
        else if (key == "seed") seed = std::stoull(v);
        else if (key == "start_time") start_time = static_cast<sim::VTime>(std::stoull(v));
        else if (key == "workers") workers = std::stoi(v);
        else if (key == "cache_pages") {
          cache_pages = std::stoull(v);
          --seen;  // optional (recordings made before it have none)
        } else return false;
      } catch (const std::exception&) {
        return false;
      }
      ++seen;
    }
    return seen == 6 && (fs == "ext2" || fs == "memfs") && workers >= 1 && workers <= 64;
  }
};

ukfs::Options ukfs_options(const MountSetup& s, const std::string& image) {
  ukfs::Options o;
  o.fstype = s.fs;
  if (s.fs == "ext2") {
    o.args = {{"image", image}};
    if (s.read_only) o.args["ro"] = "1";
  }
  o.personality = s.personality;
  o.desiredvnodes = 1 << 16;
  o.umask = 0;
  if (s.cache_pages != 0) {
    // File data through the page cache, written back by the syncer and,
    // when the cache is full, the pagedaemon (VnodePager): the resident
    // size is the cache plus a fixed overhead whatever is written.
    pager::PagerConfig pc;
    pc.pages = s.cache_pages;
    pc.swap_slots = 0;  // ext2's pages are backed by the image
    o.pager = pc;
  }
  return o;
}

sim::MachineOptions machine_options(const MountSetup& s) {
  sim::MachineOptions mo;
  mo.seed = s.seed;
  mo.start_time = s.start_time;
  mo.keep_schedule = false;
  // A mount serves as long as the host keeps it: no step budget (operations
  // keep their hang budgets).
  mo.step_budget = UINT64_MAX;
  mo.invariant_interval = 1 << 20;
  return mo;
}

struct ServeResult {
  bool started = false;
  std::string error;  // why it did not start
  std::string left;   // what the host left behind (release_all)
  std::uint64_t requests = 0;
};

// What the serving lwps share. On the heap, held by the serving lwp and by
// each worker's body: when a failure unwinds every lwp, the serving lwp may
// unwind before the workers, and they still touch the channel and the
// server on the way out (a waiter leaving the channel's list).
struct ServeState {
  ServeState(ukfs::Ukfs& fs, sim::OutsideSource& src, FuseServeOptions fo, bool debug)
      : out(fs.machine(), src, "/dev/fuse"), server(fs.kernel(), fs.proc(), fo), debug(debug) {}
  sim::Outside out;
  FuseServe server;
  bool debug;

  void loop(vfs::Proc& w) {
    std::string line;
    const auto send = [this](std::string_view reply) { out.send(reply); };
    while (auto msg = out.receive()) {
      server.serve(*msg, w, send, debug ? &line : nullptr);
      if (debug) std::cerr << "vfsim mount: " << line << "\n";
    }
  }
};

// The serving lwp's body: the outside channel, the server, and the loop —
// in this lwp (one worker), or in `workers` lwps with a process each, which
// take requests from the channel as they come and serve them concurrently.
void serve(ukfs::Ukfs& fs, sim::OutsideSource& src, const MountSetup& s, int workers, bool debug,
           ServeResult* res, bool size_lock = true) {
  FuseServeOptions fo;
  fo.read_only = s.read_only;
  fo.concurrent = workers > 1;
  fo.size_lock = size_lock;
  auto st = std::make_shared<ServeState>(fs, src, fo, debug);
  if (!st->server.start(&res->error)) return;
  if (src.keeps_blobs()) src.put_blob("mount", s.encode());
  if (!st->out.source().start(&res->error)) {
    (void)st->server.release_all();
    return;
  }
  res->started = true;
  if (workers <= 1) {
    st->loop(fs.proc());
  } else {
    std::vector<sim::LwpId> ids;
    for (int i = 0; i < workers; ++i) {
      ids.push_back(fs.machine().spawn("fuse worker " + std::to_string(i), [&fs, st, i] {
        vfs::Proc& w = fs.kernel().proc_create("fuse worker " + std::to_string(i), vn::Cred{}, 0);
        w.fd_max = 1 << 24;
        fs.kernel().attach_current_lwp(w);
        st->loop(w);
        fs.kernel().proc_exit(w);
      }));
    }
    for (sim::LwpId id : ids) fs.machine().join(id);
  }
  res->left = st->server.release_all();
  res->requests = st->server.requests();
}

bool is_recording(const std::string& path) {
  char magic[8] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool yes = ::read(fd, magic, 8) == 8 && std::memcmp(magic, "VFSIMREC", 8) == 0;
  ::close(fd);
  return yes;
}

// `cp --sparse=always FROM TO`; false with a reason.
bool copy_sparse(const std::string& from, const std::string& to, std::string* reason) {
  const char* argv[] = {"cp", "--sparse=always", "--", from.c_str(), to.c_str(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "cp", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) {
    *reason = "cannot run cp";
    return false;
  }
  int st = 0;
  if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    *reason = "cannot copy " + from + " to " + to;
    return false;
  }
  return true;
}

void notify(int fd, char code) {
  if (fd < 0) return;
  (void)!::write(fd, &code, 1);
  ::close(fd);
}

}  // namespace

int mount_command(const ParsedArgs& args) {
  MountSetup s;
  std::vector<std::string> pos;
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    const std::string& a = args.positional[i];
    if (a == "-o") {
      if (i + 1 >= args.positional.size()) throw UsageError("-o needs options");
      std::string opts = args.positional[++i];
      std::size_t p = 0;
      while (p <= opts.size()) {
        const std::size_t c = opts.find(',', p);
        const std::string o = opts.substr(p, c - p);
        if (o == "ro") s.read_only = true;
        else if (o == "rw") s.read_only = false;
        else if (!o.empty()) throw UsageError("-o: unknown option '" + o + "' (ro, rw)");
        if (c == std::string::npos) break;
        p = c + 1;
      }
    } else {
      pos.push_back(a);
    }
  }
  if (auto fs = args.value("fs")) s.fs = *fs;
  if (s.fs != "ext2" && s.fs != "memfs")
    throw UsageError("--fs: ext2 or memfs, got '" + s.fs + "'");
  if (auto p = args.value("personality")) {
    if (*p == "linux") s.personality = vfs::Personality::Linux;
    else if (*p == "netbsd") s.personality = vfs::Personality::NetBSD;
    else throw UsageError("--personality: linux or netbsd, got '" + *p + "'");
  }
  if (auto n = args.number("seed")) s.seed = *n;
  if (auto n = args.number("workers")) {
    if (*n < 1 || *n > 64) throw UsageError("--workers: 1 to 64");
    s.workers = static_cast<int>(*n);
  }
  if (auto mib = args.number("cache-size")) {
    if (s.fs != "ext2")
      throw UsageError("--cache-size: ext2 only (memfs keeps its data in memory)");
    if (*mib < 1 || *mib > (std::uint64_t{1} << 20))
      throw UsageError("--cache-size: 1 to 1048576 MiB");
    s.cache_pages =
        static_cast<std::size_t>(*mib * (std::uint64_t{1024} * 1024 / pager::kPageSize));
  }
  const std::size_t want = s.fs == "ext2" ? 2 : 1;
  if (pos.size() != want) {
    throw UsageError(s.fs == "ext2" ? "usage: vfsim mount [-o ro] [--fs ext2] IMAGE MOUNTPOINT"
                                    : "usage: vfsim mount [-o ro] --fs memfs MOUNTPOINT");
  }
  const std::string mnt = pos.back();
  if (s.fs == "ext2") s.image = pos.front();
  const bool foreground = args.flag("foreground");
  const bool debug = args.flag("debug");

  // Checks that mount nothing.
  struct stat mst {};
  if (::stat(mnt.c_str(), &mst) != 0) {
    std::cerr << "vfsim mount: " << mnt << ": " << std::strerror(errno) << "\n";
    return kExitBadInput;
  }
  if (!S_ISDIR(mst.st_mode)) {
    std::cerr << "vfsim mount: " << mnt << ": not a directory\n";
    return kExitBadInput;
  }
  if (s.fs == "ext2") {
    const ext2drv::ImageProbe probe = ext2drv::probe_image(s.image);
    if (!probe.mounts) {
      std::cerr << "vfsim mount: " << probe.reason << "\n";
      return kExitBadInput;
    }
    if (s.read_only == false && ::access(s.image.c_str(), W_OK) != 0) {
      std::cerr << "vfsim mount: " << s.image << ": not writable (" << std::strerror(errno)
                << "); use -o ro\n";
      return kExitBadInput;
    }
    s.start_time = static_cast<sim::VTime>(probe.newest_time + 1) * sim::kSecond;
  }
  const int dev = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (dev < 0) {
    std::cerr << "vfsim mount: /dev/fuse: " << std::strerror(errno) << "\n";
    return kExitBadInput;
  }
  std::unique_ptr<sim::RecordingWriter> rec;
  if (auto file = args.value("record")) {
    std::string why;
    if (s.fs == "ext2" && !copy_sparse(s.image, *file + ".img", &why)) {
      std::cerr << "vfsim mount: --record: " << why << "\n";
      return kExitBadInput;
    }
    rec = sim::RecordingWriter::create(*file, &why);
    if (!rec) {
      std::cerr << "vfsim mount: --record: " << why << "\n";
      return kExitBadInput;
    }
  }

  int ready_fd = -1;  // the child tells the parent: 0 live, 2 failed
  if (!foreground) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      std::cerr << "vfsim mount: pipe: " << std::strerror(errno) << "\n";
      return kExitBadInput;
    }
    // Nothing buffered may be written twice (the recording's header): flush
    // now, and the parent leaves with _exit, destroying nothing.
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child < 0) {
      std::cerr << "vfsim mount: fork: " << std::strerror(errno) << "\n";
      return kExitBadInput;
    }
    if (child > 0) {
      ::close(p[1]);
      char code = 0;
      const ssize_t n = ::read(p[0], &code, 1);
      if (n == 1) ::_exit(code);
      int st = 0;
      (void)::waitpid(child, &st, 0);
      ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : kExitFailure);
    }
    ::close(p[0]);
    ready_fd = p[1];
    (void)::setsid();
  }

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  (void)sigprocmask(SIG_BLOCK, &sigs, nullptr);
  const int sfd = ::signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

  bool live = false;
  sim::FdSourceOptions so;
  so.fd = dev;
  so.max_message = (1u << 20) + 8192;
  so.signal_fd = sfd;
  so.recorder = rec.get();
  so.on_start = [&](std::string* reason) {
    const std::string opts =
        "fd=" + std::to_string(dev) + ",rootmode=40000,user_id=0,group_id=0,allow_other";
    const std::string source = s.fs == "ext2" ? s.image : "memfs";
    const unsigned long flags = MS_NOSUID | MS_NODEV | (s.read_only ? MS_RDONLY : 0);
    if (::mount(source.c_str(), mnt.c_str(), "fuse.vfsim", flags, opts.c_str()) != 0) {
      *reason = "mount " + mnt + ": " + std::strerror(errno);
      return false;
    }
    live = true;
    if (ready_fd >= 0) {
      notify(ready_fd, 0);
      ready_fd = -1;
      if (!debug) {
        const int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
          (void)::dup2(null, 0);
          (void)::dup2(null, 1);
          (void)::dup2(null, 2);
          ::close(null);
        }
      }
    }
    return true;
  };
  so.on_signal = [&](int) { (void)::umount2(mnt.c_str(), MNT_DETACH); };
  sim::FdSource src(so);

  sim::MachineOptions mo = machine_options(s);
  if (rec) mo.on_decision = [&](sim::LwpId id) { rec->decision(id); };
  sim::StrategyParams sp;
  sp.seed = s.seed;
  auto strategy = sim::make_strategy("random", sp);
  strategy->begin_run(0, s.seed);
  ServeResult res;
  auto r = ukfs::run(ukfs_options(s, s.image), mo, *strategy,
                     [&](ukfs::Ukfs& fs) { serve(fs, src, s, s.workers, debug, &res); });
  if (rec) {
    std::string why;
    if (!rec->finish(r, &why)) std::cerr << "vfsim mount: --record: " << why << "\n";
  }
  if (!res.started) {
    std::cerr << "vfsim mount: " << (res.error.empty() ? r.message : res.error) << "\n";
    notify(ready_fd, kExitBadInput);
    return kExitBadInput;
  }
  if (r.failed()) {
    if (live) (void)::umount2(mnt.c_str(), MNT_DETACH);
    std::cerr << "vfsim mount: " << mnt << ": the simulated kernel failed ("
              << sim::outcome_name(r.outcome) << "): " << r.message << "\n";
    if (rec) std::cerr << "replay: vfsim replay " << rec->path() << "\n";
    return kExitFailure;
  }
  if (debug) {
    std::cerr << "vfsim mount: " << mnt << ": unmounted after " << res.requests << " requests"
              << (res.left.empty() ? "" : "; the host left " + res.left) << "\n";
  }
  return kExitPass;
}

// `vfsim replay FILE` of a recording: the same machine over the recorded
// requests, with no /dev/fuse; every reply must be the recorded one and the
// trace hash the recorded hash.
int replay_recording(const std::string& file, const ParsedArgs& args) {
  sim::Recording recording;
  std::string why;
  if (!sim::read_recording(file, &recording, &why)) {
    std::cerr << "vfsim replay: " << why << "\n";
    return kExitBadInput;
  }
  MountSetup s;
  auto blob = recording.blobs.find("mount");
  if (blob == recording.blobs.end() || !s.decode(blob->second)) {
    std::cerr << "vfsim replay: " << file << ": no mount setup (blob 'mount') in the recording\n";
    return kExitBadInput;
  }
  std::string image;
  std::string tmpdir;
  if (s.fs == "ext2") {
    char tmpl[] = "/tmp/vfsim-replay-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      std::cerr << "vfsim replay: mkdtemp: " << std::strerror(errno) << "\n";
      return kExitBadInput;
    }
    tmpdir = tmpl;
    image = tmpdir + "/image";
    if (!copy_sparse(file + ".img", image, &why)) {
      std::cerr << "vfsim replay: " << file << ".img: " << why
                << " (the image as the mount began)\n";
      std::filesystem::remove_all(tmpdir);
      return kExitBadInput;
    }
  }
  auto rec = std::make_shared<const sim::Recording>(std::move(recording));
  sim::RecordedSource src(rec, true);
  sim::StrategyParams sp;
  sp.seed = s.seed;
  auto strategy = sim::make_strategy("random", sp);
  strategy->begin_run(0, s.seed);
  ServeResult res;
  auto r = ukfs::run(ukfs_options(s, image), machine_options(s), *strategy, [&](ukfs::Ukfs& fs) {
    serve(fs, src, s, s.workers, args.flag("debug"), &res);
  });
  if (!tmpdir.empty()) std::filesystem::remove_all(tmpdir);
  std::cout << "replayed " << rec->requests() << " requests, " << src.matched() << " of "
            << rec->sent.size() << " replies identical; trace hash " << std::hex << r.trace_hash
            << " (recorded " << rec->trace_hash << ")" << std::dec << "\n";
  if (r.failed()) {
    std::cout << "outcome: " << sim::outcome_name(r.outcome) << ": " << r.message << "\n";
    return r.outcome == rec->outcome ? kExitFailure : kExitNotReproduced;
  }
  if (src.matched() != rec->sent.size() || r.trace_hash != rec->trace_hash) {
    std::cout << "NOT reproduced\n";
    return kExitNotReproduced;
  }
  std::cout << "reproduced\n";
  return kExitPass;
}

bool replay_is_recording(const std::string& file) { return is_recording(file); }

namespace {

// A recording as explore, replay of a report and shrink run it: the
// machine it booted, a private view of its image per run, the requests kept
// (all, or what shrink left), the workers and the knob.
class RecordingRuns {
 public:
  // False with a one-line reason when the recording (or its image) cannot
  // be read.
  bool load(const std::string& file, std::string* why) {
    file_ = file;
    sim::Recording recording;
    if (!sim::read_recording(file, &recording, why)) return false;
    auto blob = recording.blobs.find("mount");
    if (blob == recording.blobs.end() || !setup_.decode(blob->second)) {
      *why = file + ": no mount setup (blob 'mount') in the recording";
      return false;
    }
    if (setup_.fs == "ext2") {
      image_ = std::filesystem::absolute(file + ".img").string();
      images_ = std::make_unique<sim::HostImages>("/");
      std::string sha;
      if (!images_->snapshot(image_, &sha, why)) return false;
    }
    rec_ = std::make_shared<const sim::Recording>(std::move(recording));
    for (std::size_t b = 0; b < rec_->batches.size(); ++b) {
      for (std::size_t m = 0; m < rec_->batches[b].messages.size(); ++m) where_.push_back({b, m});
    }
    return true;
  }

  const sim::Recording& recording() const { return *rec_; }
  const MountSetup& setup() const { return setup_; }
  std::size_t requests() const { return where_.size(); }
  int workers = 4;
  bool size_lock = true;

  // The recording with only the requests `keep` (indices into every request
  // in arrival order, ascending), each in its own batch at its time; empty
  // batches go.
  std::shared_ptr<const sim::Recording> subset(const std::vector<std::size_t>& keep) const {
    if (keep.size() == where_.size()) return rec_;
    auto out = std::make_shared<sim::Recording>();
    out->closed_at = rec_->closed_at;
    out->blobs = rec_->blobs;
    std::size_t last = SIZE_MAX;
    for (std::size_t k : keep) {
      const auto [b, m] = where_[k];
      if (b != last) {
        out->batches.push_back({rec_->batches[b].at, {}});
        last = b;
      }
      out->batches.back().messages.push_back(rec_->batches[b].messages[m]);
    }
    return out;
  }

  sim::RunFn run_fn(std::shared_ptr<const sim::Recording> rec) const {
    return [this, rec](const sim::MachineOptions& mo, sim::Strategy& st) {
      sim::RecordedSource src(rec, false);
      ServeResult res;
      return ukfs::run(ukfs_options(setup_, image_), mo, st, [&](ukfs::Ukfs& fs) {
        serve(fs, src, setup_, workers, false, &res, size_lock);
      });
    };
  }

  sim::MachineOptions machine() const {
    sim::MachineOptions mo = machine_options(setup_);
    mo.keep_schedule = true;
    mo.images = images_.get();
    return mo;
  }

 private:
  std::string file_;
  MountSetup setup_;
  std::string image_;
  std::unique_ptr<sim::HostImages> images_;
  std::shared_ptr<const sim::Recording> rec_;
  std::vector<std::pair<std::size_t, std::size_t>> where_;  // request -> (batch, message)
};

// The knobs a recording's exploration takes: --set mount.size_lock=BOOL.
bool recording_size_lock(const ParsedArgs& args) {
  bool size_lock = true;
  for (const auto& o : set_overrides(args)) {
    if (o.key != "mount.size_lock") {
      throw UsageError("--set " + o.key +
                       ": a vfsim mount recording takes only mount.size_lock (true|false)");
    }
    if (o.value == "true" || o.value == "1") size_lock = true;
    else if (o.value == "false" || o.value == "0") size_lock = false;
    else throw UsageError("--set mount.size_lock: true or false, got '" + o.value + "'");
  }
  return size_lock;
}

int workers_arg(const ParsedArgs& args, int fallback) {
  if (auto n = args.number("workers")) {
    if (*n < 1 || *n > 64) throw UsageError("--workers: 1 to 64");
    return static_cast<int>(*n);
  }
  return fallback;
}

// Kept request indices as [first, last] ranges, and back.
nlohmann::json ranges_json(const std::vector<std::size_t>& keep) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < keep.size();) {
    std::size_t j = i;
    while (j + 1 < keep.size() && keep[j + 1] == keep[j] + 1) ++j;
    out.push_back({keep[i], keep[j]});
    i = j + 1;
  }
  return out;
}

constexpr std::string_view kReportKind = "vfsim mount recording failure";

// A failure found by exploring a recording: what `vfsim replay REPORT` and
// `vfsim shrink REPORT` need to run it again.
struct RecordingReport {
  std::string recording;  // as written: relative to the report's directory
  std::string recording_abs;
  std::string recording_sha256;
  int workers = 4;
  bool size_lock = true;
  std::string strategy;
  std::optional<std::uint64_t> schedule_index;
  std::vector<std::size_t> keep;
  std::size_t total_requests = 0;
  sim::RunResult result;
};

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return sim::sha256_hex(buf.str());
}

bool write_recording_report(const RecordingReport& r, const std::string& path, std::string* why) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(path).parent_path();
  nlohmann::json sched = nlohmann::json::array();
  for (auto id : r.result.schedule)
    sched.push_back(id == sim::kNoLwp ? nlohmann::json(nullptr) : nlohmann::json(id));
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r.result.trace_hash));
  const nlohmann::json j = {
      {"kind", kReportKind},
      {"recording", fs::relative(fs::absolute(r.recording_abs), dir).string()},
      {"recording_abs", fs::absolute(r.recording_abs).string()},
      {"recording_sha256", r.recording_sha256},
      {"workers", r.workers},
      {"knobs", {{"mount.size_lock", r.size_lock}}},
      {"strategy", r.strategy},
      {"schedule_index",
       r.schedule_index ? nlohmann::json(*r.schedule_index) : nlohmann::json(nullptr)},
      {"requests_total", r.total_requests},
      {"requests_kept", r.keep.size()},
      {"requests", ranges_json(r.keep)},
      {"outcome", std::string(sim::outcome_name(r.result.outcome))},
      {"message", r.result.message},
      {"failure_lwp", r.result.failure_lwp},
      {"failure_op", r.result.failure_op},
      {"seed", r.result.seed},
      {"steps", r.result.steps},
      {"trace_hash", hash},
      {"schedule", sched},
  };
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << j.dump(1) << "\n";
  out.close();
  if (!out) {
    *why = path + ": cannot write the report";
    return false;
  }
  return true;
}

// A field problem: "REPORT: /field: reason".
[[noreturn]] void bad_report(const std::string& path, std::string_view field,
                             std::string_view reason) {
  throw scenarios::ScenarioError(path + ": /" + std::string(field) + ": " + std::string(reason));
}

RecordingReport read_recording_report(const std::string& path) {
  namespace fs = std::filesystem;
  std::ifstream in(path, std::ios::binary);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("kind") || j["kind"] != kReportKind)
    bad_report(path, "kind", "not a report of a recording's exploration");
  RecordingReport r;
  auto str = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_string()) bad_report(path, k, "expected a string");
    return j[k].get<std::string>();
  };
  auto num = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_number_unsigned()) bad_report(path, k, "expected a number");
    return j[k].get<std::uint64_t>();
  };
  r.recording = str("recording");
  r.recording_abs = str("recording_abs");
  r.recording_sha256 = str("recording_sha256");
  r.workers = static_cast<int>(num("workers"));
  if (r.workers < 1 || r.workers > 64) bad_report(path, "workers", "1 to 64");
  if (!j.contains("knobs") || !j["knobs"].is_object() || !j["knobs"].contains("mount.size_lock") ||
      !j["knobs"]["mount.size_lock"].is_boolean())
    bad_report(path, "knobs", "expected {\"mount.size_lock\": BOOL}");
  r.size_lock = j["knobs"]["mount.size_lock"].get<bool>();
  r.strategy = str("strategy");
  if (j.contains("schedule_index") && j["schedule_index"].is_number_unsigned())
    r.schedule_index = j["schedule_index"].get<std::uint64_t>();
  r.total_requests = num("requests_total");
  if (!j.contains("requests") || !j["requests"].is_array())
    bad_report(path, "requests", "expected [first, last] ranges");
  for (const auto& range : j["requests"]) {
    if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
        !range[1].is_number_unsigned())
      bad_report(path, "requests", "expected [first, last] ranges");
    const auto a = range[0].get<std::uint64_t>(), b = range[1].get<std::uint64_t>();
    if (a > b || b >= r.total_requests || (!r.keep.empty() && a <= r.keep.back()))
      bad_report(path, "requests", "ranges must ascend within the recording's requests");
    for (auto k = a; k <= b; ++k) r.keep.push_back(k);
  }
  const std::string outcome = str("outcome");
  bool known = false;
  for (int o = 0; o <= static_cast<int>(sim::Outcome::setup); ++o) {
    if (sim::outcome_name(static_cast<sim::Outcome>(o)) == outcome) {
      r.result.outcome = static_cast<sim::Outcome>(o);
      known = true;
    }
  }
  if (!known) bad_report(path, "outcome", "unknown outcome '" + outcome + "'");
  r.result.message = str("message");
  r.result.failure_lwp = str("failure_lwp");
  r.result.failure_op = str("failure_op");
  r.result.seed = num("seed");
  r.result.steps = num("steps");
  const std::string hash = str("trace_hash");
  try {
    std::size_t used = 0;
    r.result.trace_hash = std::stoull(hash, &used, 16);
    if (used != hash.size()) throw std::invalid_argument(hash);
  } catch (const std::exception&) {
    bad_report(path, "trace_hash", "expected 16 hex digits");
  }
  if (!j.contains("schedule") || !j["schedule"].is_array())
    bad_report(path, "schedule", "expected an array of lwp ids");
  for (const auto& id : j["schedule"]) {
    if (id.is_null()) r.result.schedule.push_back(sim::kNoLwp);
    else if (id.is_number_unsigned() && id.get<std::uint64_t>() < sim::kNoLwp)
      r.result.schedule.push_back(id.get<sim::LwpId>());
    else bad_report(path, "schedule", "expected lwp ids (or null for a default choice)");
  }
  // The recording: beside the report as written, else where it was.
  const fs::path rel = fs::absolute(path).parent_path() / r.recording;
  std::error_code ec;
  const std::string file =
      fs::is_regular_file(rel, ec) ? rel.lexically_normal().string() : r.recording_abs;
  if (!fs::is_regular_file(file, ec))
    bad_report(path, "recording", "the recording '" + r.recording + "' does not exist");
  if (file_sha256(file) != r.recording_sha256)
    bad_report(path, "recording_sha256", file + " is not the recording the report was made from");
  r.recording_abs = file;
  return r;
}

std::string hash_text(std::uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<std::size_t> all_requests(std::size_t n) {
  std::vector<std::size_t> keep(n);
  for (std::size_t i = 0; i < n; ++i) keep[i] = i;
  return keep;
}

// One failure: the same outcome and message shape (the failing worker may
// differ when requests are gone).
bool same_failure(const sim::RunResult& a, const sim::RunResult& b) {
  return a.outcome == b.outcome && sim::message_shape(a.message) == sim::message_shape(b.message);
}

}  // namespace

bool is_recording_report(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || in.peek() != '{') return false;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  return j.is_object() && j.contains("kind") && j["kind"] == kReportKind;
}

// `vfsim explore FILE` of a recording: the recorded batches served by
// several worker lwps, so the requests that were in flight together
// interleave; every schedule must pass the kernel's oracles (no panic,
// invariant failure, deadlock, hang or leak) and the server's size check
// (cli/fuse_serve.h). Replies are not compared: another interleaving may
// rightly answer differently. A failure is written as a report that
// `vfsim replay` and `vfsim shrink` take.
int explore_recording(const std::string& file, const ParsedArgs& args) {
  RecordingRuns runs;
  std::string why;
  if (!runs.load(file, &why)) {
    std::cerr << "vfsim explore: " << why << "\n";
    return kExitBadInput;
  }
  runs.workers = workers_arg(args, 4);
  runs.size_lock = recording_size_lock(args);
  const sim::Recording& rec = runs.recording();
  sim::ExploreOptions eo;
  eo.strategy = args.value("strategy").value_or("random");
  eo.schedules = args.number("schedules").value_or(1000);
  eo.seed = args.number("seed").value_or(1);
  eo.depth = static_cast<int>(args.number("depth").value_or(2));
  eo.jobs = static_cast<int>(args.number("jobs").value_or(1));
  eo.keep_going = args.flag("keep-going");
  eo.machine = runs.machine();
  const sim::RunFn run = runs.run_fn(runs.subset(all_requests(runs.requests())));
  std::size_t together = 0;  // batches whose requests were in flight together
  for (const auto& b : rec.batches) together += b.messages.size() > 1 ? 1 : 0;
  const sim::ExploreSummary sum = sim::explore(run, eo);
  std::cout << "explored " << sum.schedules_explored << " schedules of " << file << " ("
            << rec.requests() << " requests in " << rec.batches.size() << " batches, " << together
            << " of them with several requests; " << runs.workers << " workers, " << eo.strategy
            << (runs.size_lock ? "" : ", mount.size_lock=false") << "): " << sum.failures
            << " failed\n";
  if (!sum.first_failure) return kExitPass;
  const sim::RunResult& f = *sum.first_failure;
  std::cout << "first failure: schedule " << *sum.first_failure_index << ": "
            << sim::outcome_name(f.outcome) << ": " << f.message << "\n";
  RecordingReport r;
  r.recording_abs = file;
  r.recording_sha256 = file_sha256(file);
  r.workers = runs.workers;
  r.size_lock = runs.size_lock;
  r.strategy = eo.strategy;
  r.schedule_index = sum.first_failure_index;
  r.keep = all_requests(runs.requests());
  r.total_requests = runs.requests();
  r.result = f;
  const std::string out = report_path(args);
  if (!write_recording_report(r, out, &why)) {
    std::cerr << "vfsim explore: " << why << "\n";
    return kExitFailure;
  }
  std::cout << "report: " << out << "\nreplay: vfsim replay " << out << "\nshrink: vfsim shrink "
            << out << "\n";
  return kExitFailure;
}

// `vfsim replay REPORT` of a recording's failure: its requests under its
// schedule; the outcome and the trace hash must be the report's.
int replay_recording_report(const std::string& path, const ParsedArgs&) {
  const RecordingReport r = read_recording_report(path);
  RecordingRuns runs;
  std::string why;
  if (!runs.load(r.recording_abs, &why)) {
    std::cerr << "vfsim replay: " << why << "\n";
    return kExitBadInput;
  }
  if (runs.requests() != r.total_requests)
    bad_report(path, "requests_total", "the recording holds " + std::to_string(runs.requests()));
  runs.workers = r.workers;
  runs.size_lock = r.size_lock;
  sim::MachineOptions mo = runs.machine();
  mo.seed = r.result.seed;
  bool diverged = false;
  const sim::RunResult got =
      sim::replay(runs.run_fn(runs.subset(r.keep)), mo, r.result.schedule, &diverged);
  if (got.outcome != r.result.outcome || got.trace_hash != r.result.trace_hash) {
    std::cout << "NOT reproduced: the report says " << sim::outcome_name(r.result.outcome)
              << " (trace " << hash_text(r.result.trace_hash) << "), the replay gave "
              << sim::outcome_name(got.outcome) << " (trace " << hash_text(got.trace_hash) << ")"
              << (diverged ? "; the run left the recorded schedule" : "") << "\n";
    return kExitNotReproduced;
  }
  std::cout << "reproduced: " << sim::outcome_name(got.outcome) << " (trace "
            << hash_text(got.trace_hash) << "), " << r.keep.size() << " of " << r.total_requests
            << " requests, " << got.schedule.size() << " decisions, " << got.steps << " steps\n  "
            << got.message << "\n";
  return got.failed() ? kExitFailure : kExitPass;
}

// `vfsim shrink REPORT` of a recording's failure: first fewer requests (a
// shorter prefix, then chunks of requests left out, each candidate tried
// with the report's schedule and a few random ones), then fewer decisions
// (sim::shrink). Every step keeps the same failure (outcome and message
// shape).
int shrink_recording_report(const std::string& path, const ParsedArgs& args) {
  const RecordingReport r = read_recording_report(path);
  const std::string out_path = args.value("out").value_or(
      (path.ends_with(".json") ? path.substr(0, path.size() - 5) : path) + ".shrunk.json");
  const std::uint64_t attempts = args.number("attempts").value_or(2000);
  RecordingRuns runs;
  std::string why;
  if (!runs.load(r.recording_abs, &why)) {
    std::cerr << "vfsim shrink: " << why << "\n";
    return kExitBadInput;
  }
  if (runs.requests() != r.total_requests)
    bad_report(path, "requests_total", "the recording holds " + std::to_string(runs.requests()));
  runs.workers = r.workers;
  runs.size_lock = r.size_lock;
  sim::MachineOptions quick = runs.machine();
  quick.seed = r.result.seed;
  quick.keep_trace = false;
  const sim::RunResult original =
      sim::replay(runs.run_fn(runs.subset(r.keep)), quick, r.result.schedule);
  if (original.outcome != r.result.outcome || original.trace_hash != r.result.trace_hash) {
    std::cout << "NOT reproduced: the report says " << sim::outcome_name(r.result.outcome)
              << " (trace " << hash_text(r.result.trace_hash) << "), the replay gave "
              << sim::outcome_name(original.outcome) << " (trace " << hash_text(original.trace_hash)
              << ")\n";
    return kExitNotReproduced;
  }
  std::uint64_t used = 0;
  constexpr std::uint64_t kTries = 8;  // random schedules per candidate besides the report's
  // A failing run of `keep` like the original, if one of the tries finds it.
  auto fails = [&](const std::vector<std::size_t>& keep) -> std::optional<sim::RunResult> {
    const sim::RunFn run = runs.run_fn(runs.subset(keep));
    ++used;
    sim::RunResult a = sim::replay(run, quick, r.result.schedule);
    if (same_failure(a, original)) return a;
    for (std::uint64_t t = 0; t < kTries && used < attempts; ++t, ++used) {
      sim::StrategyParams sp;
      sp.seed = sim::schedule_seed(r.result.seed, t);
      auto st = sim::make_strategy("random", sp);
      sim::MachineOptions mo = quick;
      mo.seed = sp.seed;
      st->begin_run(t, mo.seed);
      sim::RunResult b = run(mo, *st);
      if (same_failure(b, original)) return b;
    }
    return std::nullopt;
  };
  std::vector<std::size_t> keep = r.keep;
  sim::RunResult best = original;
  // 1. The shortest prefix that still fails (binary search; failing is not
  //    monotone in general, so the result is checked).
  {
    std::size_t lo = 1, hi = keep.size();
    while (lo < hi && used < attempts) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (fails(std::vector<std::size_t>(keep.begin(), keep.begin() + mid))) hi = mid;
      else lo = mid + 1;
    }
    std::vector<std::size_t> prefix(keep.begin(), keep.begin() + hi);
    if (auto f = fails(prefix)) {
      keep = std::move(prefix);
      best = *f;
    }
  }
  // 2. Chunks left out, halving the chunk size down to one request.
  for (std::size_t chunk = std::max<std::size_t>(keep.size() / 2, 1); used < attempts;) {
    bool removed = false;
    for (std::size_t at = 0; at < keep.size() && used < attempts;) {
      std::vector<std::size_t> cand(keep.begin(), keep.begin() + at);
      cand.insert(cand.end(), keep.begin() + std::min(keep.size(), at + chunk), keep.end());
      if (cand.empty()) break;
      if (auto f = fails(cand)) {
        keep = std::move(cand);
        best = *f;
        removed = true;
      } else {
        at += chunk;
      }
    }
    if (chunk == 1 && !removed) break;
    if (!removed) chunk = std::max<std::size_t>(chunk / 2, 1);
  }
  // 3. Fewer decisions.
  const sim::RunFn run = runs.run_fn(runs.subset(keep));
  sim::MachineOptions mo = quick;
  mo.seed = best.seed;
  const sim::ShrinkResult sr = sim::shrink(run, mo, best, attempts > used ? attempts - used : 1);
  sim::MachineOptions full_opts = runs.machine();
  full_opts.seed = best.seed;
  const sim::RunResult full = sim::replay(run, full_opts, sr.result.schedule);
  RecordingReport shrunk = r;
  shrunk.keep = keep;
  shrunk.result = full;
  shrunk.strategy = r.strategy + "+shrink";
  if (!write_recording_report(shrunk, out_path, &why)) throw UsageError(why);
  std::cout << "shrunk: " << sim::outcome_name(full.outcome) << ": " << r.keep.size()
            << " requests, " << original.schedule.size() << " decisions -> " << keep.size()
            << " requests, " << full.schedule.size() << " decisions, " << sr.preemptions
            << " preemptions (" << used + sr.attempts << " runs)\n  " << full.message
            << "\n  report: " << out_path << "\n  replay: vfsim replay " << out_path << "\n";
  return kExitFailure;
}

}  // namespace vfsim::cli
