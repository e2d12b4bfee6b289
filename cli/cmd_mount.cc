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
#include <iostream>

#include "boot/ukfs.h"
#include "cli/commands.h"
#include "cli/fuse_serve.h"
#include "fsdrivers/ext2/ext2.h"
#include "sim/explore.h"
#include "sim/host_images.h"
#include "sim/outside_fd.h"
#include "sim/recording.h"
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

  std::string encode() const {
    return "fs=" + fs + "\nro=" + (read_only ? "1" : "0") +
           "\npersonality=" + (personality == vfs::Personality::Linux ? "linux" : "netbsd") +
           "\nseed=" + std::to_string(seed) + "\nstart_time=" + std::to_string(start_time) +
           "\nworkers=" + std::to_string(workers) + "\n";
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
        else return false;
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

// The serving lwp's body: the outside channel, the server, and the loop —
// in this lwp (one worker), or in `workers` lwps with a process each, which
// take requests from the channel as they come and serve them concurrently.
void serve(ukfs::Ukfs& fs, sim::OutsideSource& src, const MountSetup& s, int workers, bool debug,
           ServeResult* res) {
  sim::Outside out(fs.machine(), src, "/dev/fuse");
  FuseServeOptions fo;
  fo.read_only = s.read_only;
  FuseServe server(fs.kernel(), fs.proc(), fo);
  if (!server.start(&res->error)) return;
  if (src.keeps_blobs()) src.put_blob("mount", s.encode());
  if (!out.source().start(&res->error)) {
    (void)server.release_all();
    return;
  }
  res->started = true;
  auto loop = [&](vfs::Proc& w) {
    std::string line;
    while (auto msg = out.receive()) {
      std::string reply = server.handle(*msg, w, debug ? &line : nullptr);
      if (debug) std::cerr << "vfsim mount: " << line << "\n";
      if (!reply.empty()) out.send(reply);
    }
  };
  if (workers <= 1) {
    loop(fs.proc());
  } else {
    std::vector<sim::LwpId> ids;
    for (int i = 0; i < workers; ++i) {
      ids.push_back(fs.machine().spawn("fuse worker " + std::to_string(i), [&fs, &loop, i] {
        vfs::Proc& w = fs.kernel().proc_create("fuse worker " + std::to_string(i), vn::Cred{}, 0);
        w.fd_max = 1 << 24;
        fs.kernel().attach_current_lwp(w);
        loop(w);
        fs.kernel().proc_exit(w);
      }));
    }
    for (sim::LwpId id : ids) fs.machine().join(id);
  }
  res->left = server.release_all();
  res->requests = server.requests();
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

// `vfsim explore FILE` of a recording: the recorded batches served by
// several worker lwps, so the requests that were in flight together
// interleave; every schedule must pass the kernel's oracles (no panic,
// invariant failure, deadlock, hang or leak). Replies are not compared:
// another interleaving may rightly answer differently.
int explore_recording(const std::string& file, const ParsedArgs& args) {
  sim::Recording recording;
  std::string why;
  if (!sim::read_recording(file, &recording, &why)) {
    std::cerr << "vfsim explore: " << why << "\n";
    return kExitBadInput;
  }
  MountSetup s;
  auto blob = recording.blobs.find("mount");
  if (blob == recording.blobs.end() || !s.decode(blob->second)) {
    std::cerr << "vfsim explore: " << file << ": no mount setup (blob 'mount') in the recording\n";
    return kExitBadInput;
  }
  int workers = 4;
  if (auto n = args.number("workers")) {
    if (*n < 1 || *n > 64) throw UsageError("--workers: 1 to 64");
    workers = static_cast<int>(*n);
  }
  std::string image;
  std::unique_ptr<sim::HostImages> images;
  if (s.fs == "ext2") {
    image = std::filesystem::absolute(file + ".img").string();
    images = std::make_unique<sim::HostImages>("/");
    std::string sha;
    if (!images->snapshot(image, &sha, &why)) {
      std::cerr << "vfsim explore: " << why << "\n";
      return kExitBadInput;
    }
  }
  auto rec = std::make_shared<const sim::Recording>(std::move(recording));
  sim::ExploreOptions eo;
  eo.strategy = args.value("strategy").value_or("random");
  eo.schedules = args.number("schedules").value_or(1000);
  eo.seed = args.number("seed").value_or(1);
  eo.jobs = static_cast<int>(args.number("jobs").value_or(1));
  eo.keep_going = args.flag("keep-going");
  eo.machine = machine_options(s);
  eo.machine.keep_schedule = true;
  eo.machine.images = images.get();
  const sim::RunFn run = [&](const sim::MachineOptions& mo, sim::Strategy& st) {
    sim::RecordedSource src(rec, false);
    ServeResult res;
    return ukfs::run(ukfs_options(s, image), mo, st,
                     [&](ukfs::Ukfs& fs) { serve(fs, src, s, workers, false, &res); });
  };
  std::size_t together = 0;  // batches whose requests were in flight together
  for (const auto& b : rec->batches) together += b.messages.size() > 1 ? 1 : 0;
  const sim::ExploreSummary sum = sim::explore(run, eo);
  std::cout << "explored " << sum.schedules_explored << " schedules of " << file << " ("
            << rec->requests() << " requests in " << rec->batches.size() << " batches, " << together
            << " of them with several requests; " << workers << " workers, " << eo.strategy
            << "): " << sum.failures << " failed\n";
  if (sum.first_failure) {
    std::cout << "first failure: schedule " << *sum.first_failure_index << ": "
              << sim::outcome_name(sum.first_failure->outcome) << ": " << sum.first_failure->message
              << "\n";
    return kExitFailure;
  }
  return kExitPass;
}

}  // namespace vfsim::cli
