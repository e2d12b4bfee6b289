#include "sim/explore.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <new>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "sim/rng.h"

namespace vfsim::sim {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

StrategyParams params_for(const ExploreOptions& o, std::uint64_t expected_steps) {
  StrategyParams p;
  p.seed = o.seed;
  p.depth = o.depth;
  p.preemption_bound = o.preemption_bound;
  p.expected_steps = expected_steps;
  return p;
}

// One run with no preemption tells pct how many steps a run takes. It is the
// same for every worker, so results do not depend on --jobs.
std::uint64_t calibrate_steps(const RunFn& run, const ExploreOptions& o, StackPool& stacks) {
  MachineOptions m = o.machine;
  m.seed = schedule_seed(o.seed, 0);
  m.stacks = &stacks;
  m.keep_trace = false;
  auto replay_strategy = make_strategy("replay", StrategyParams{});
  replay_strategy->begin_run(0, m.seed);
  return std::max<std::uint64_t>(run(m, *replay_strategy).steps, 1);
}

// The counters every worker of one exploration shares, in threads or, on a
// MAP_SHARED page, in processes (lock-free atomics work across processes).
struct Counters {
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> stop_at{~std::uint64_t{0}};  // lowest failing index
  std::atomic<std::uint64_t> max_steps{0};
  std::atomic<bool> exhausted{false};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);

// Shared state of the worker threads of one exploration.
struct Shared {
  Counters c;
  std::mutex mu;
  std::optional<std::uint64_t> first_index;
  std::optional<RunResult> first;
  std::vector<std::uint64_t> failing_indexes;
  std::vector<std::string> determinism_errors;
};

void note_determinism(const RunFn& run, const MachineOptions& m, const RunResult& r,
                      std::uint64_t index, Shared& sh) {
  const std::string err = check_determinism(run, m, r.schedule);
  bool diverged = false;
  const RunResult again = replay(run, m, r.schedule, &diverged);
  std::string msg = err;
  if (msg.empty() && again.trace_hash != r.trace_hash) {
    msg = "the replay's trace hash " + std::to_string(again.trace_hash) +
          " differs from the explored run's " + std::to_string(r.trace_hash);
  }
  if (msg.empty()) return;
  std::lock_guard<std::mutex> lk(sh.mu);
  sh.determinism_errors.push_back("vfsim bug: schedule " + std::to_string(index) + " (seed " +
                                  std::to_string(m.seed) + ") is not deterministic: " + msg);
}

// One worker's loop, the same in a thread and in a process: take the next
// schedule index of this shard until the end, the lowest failure so far
// (unless keep_going) or the strategy's exhaustion; run it, count it,
// sample its determinism into `local`, and hand every failing run to
// on_failure(i, r) after lowering stop_at. after_run() is called after each
// run (progress).
template <class OnFailure, class AfterRun>
void take_schedules(const RunFn& run, const ExploreOptions& o, std::uint64_t expected_steps,
                    Counters& c, Shared& local, OnFailure on_failure, AfterRun after_run) {
  StackPool stacks(default_stack_bytes());
  auto strategy = make_strategy(o.strategy, params_for(o, expected_steps));
  for (;;) {
    const std::uint64_t i = o.shard_index + o.shard_count * c.next.fetch_add(1);
    if (i >= o.schedules || (!o.keep_going && i > c.stop_at.load())) break;
    MachineOptions m = o.machine;
    m.seed = schedule_seed(o.seed, i);
    m.stacks = &stacks;
    m.keep_trace = false;
    if (!strategy->begin_run(i, m.seed)) {
      c.exhausted = true;
      break;
    }
    RunResult r = run(m, *strategy);
    strategy->end_run(r.steps);
    std::uint64_t ms = c.max_steps.load();
    while (r.steps > ms && !c.max_steps.compare_exchange_weak(ms, r.steps)) {}
    c.done.fetch_add(1);
    const bool sample = o.check_determinism &&
                        (r.failed() || (o.determinism_sample > 0 && i % o.determinism_sample == 0));
    if (sample) note_determinism(run, m, r, i, local);
    if (r.failed()) {
      c.failures.fetch_add(1);
      std::uint64_t cur = c.stop_at.load();
      while (i < cur && !c.stop_at.compare_exchange_weak(cur, i)) {}
      on_failure(i, std::move(r));
    }
    after_run();
  }
}

void worker(const RunFn& run, const ExploreOptions& o, std::uint64_t expected_steps, Shared& sh,
            bool report_progress, Clock::time_point t0) {
  auto last_progress = Clock::now();
  take_schedules(
      run, o, expected_steps, sh.c, sh,
      [&](std::uint64_t i, RunResult r) {
        std::lock_guard<std::mutex> lk(sh.mu);
        sh.failing_indexes.push_back(i);
        if (!sh.first_index || i < *sh.first_index) {
          sh.first_index = i;
          sh.first = std::move(r);
        }
      },
      [&] {
        if (!report_progress || !o.progress || (sh.c.done.load() & 15) != 0 ||
            seconds_since(last_progress) <= 0.25)
          return;
        last_progress = Clock::now();
        ExploreProgress p;
        p.done = sh.c.done.load();
        p.total = shard_size(o);
        p.failures = sh.c.failures.load();
        const double secs = seconds_since(t0);
        p.per_second = secs > 0 ? static_cast<double>(p.done) / secs : 0;
        p.eta_seconds = p.per_second > 0 ? static_cast<double>(p.total - p.done) / p.per_second : 0;
        o.progress(p);
      });
}

// --- worker processes --------------------------------------------------------
//
// With ExploreOptions::processes, each job is a forked process. They share
// one page of counters (MAP_SHARED; lock-free atomics work across
// processes); each reports its determinism errors as text lines on a pipe
// of its own. The parent only watches: progress, the pipes, the exits.
struct ProcShared {
  Counters c;
  // The run of stop_at, as its worker saw it, under `lock` (a spin lock:
  // held for a few stores).
  std::atomic<bool> lock{false};
  std::uint64_t first_index = ~std::uint64_t{0};
  std::uint64_t first_hash = 0;
  int first_outcome = 0;
};

void proc_worker(const RunFn& run, const ExploreOptions& o, std::uint64_t expected_steps,
                 ProcShared& sh, int report_fd) {
  Shared local;       // determinism errors only
  std::string lines;  // what this worker tells the parent, one line each
  take_schedules(
      run, o, expected_steps, sh.c, local,
      [&](std::uint64_t i, const RunResult& r) {
        lines += "F " + std::to_string(i) + "\n";
        while (sh.lock.exchange(true)) {}
        if (i < sh.first_index) {
          sh.first_index = i;
          sh.first_hash = r.trace_hash;
          sh.first_outcome = static_cast<int>(r.outcome);
        }
        sh.lock.store(false);
      },
      [] {});
  for (const std::string& e : local.determinism_errors) lines += "E " + e + "\n";
  for (std::size_t off = 0; off < lines.size();) {
    const ssize_t w = ::write(report_fd, lines.data() + off, lines.size() - off);
    if (w <= 0) break;
    off += static_cast<std::size_t>(w);
  }
}

ExploreSummary explore_in_processes(const RunFn& run, const ExploreOptions& o,
                                    std::uint64_t expected_steps, int jobs, Clock::time_point t0) {
  void* mem = ::mmap(nullptr, sizeof(ProcShared), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::runtime_error("explore: mmap of the shared counters failed");
  auto* sh = new (mem) ProcShared();
  struct Child {
    pid_t pid = -1;
    int fd = -1;
    std::string text;
  };
  std::vector<Child> children;
  std::fflush(nullptr);
  for (int j = 0; j < jobs; ++j) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("explore: pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("explore: fork failed");
    if (pid == 0) {
      ::close(fds[0]);
      for (const Child& c : children) ::close(c.fd);
      int status = 0;
      try {
        proc_worker(run, o, expected_steps, *sh, fds[1]);
      } catch (...) {
        status = 3;
      }
      ::_exit(status);  // no atexit handlers, no stdio flush: the parent owns those
    }
    ::close(fds[1]);
    children.push_back(Child{pid, fds[0], {}});
  }
  // Watch: gather what the workers write, report progress, until every
  // pipe is closed (its worker is gone).
  std::size_t open = children.size();
  auto last_progress = Clock::now();
  while (open > 0) {
    std::vector<pollfd> pfds;
    for (const Child& c : children) {
      if (c.fd >= 0) pfds.push_back(pollfd{c.fd, POLLIN, 0});
    }
    (void)::poll(pfds.data(), pfds.size(), 250);
    for (Child& c : children) {
      if (c.fd < 0) continue;
      for (const pollfd& p : pfds) {
        if (p.fd != c.fd || p.revents == 0) continue;
        char buf[4096];
        const ssize_t n = ::read(c.fd, buf, sizeof buf);
        if (n > 0) {
          c.text.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          ::close(c.fd);
          c.fd = -1;
          --open;
        }
      }
    }
    if (o.progress && seconds_since(last_progress) > 0.25) {
      last_progress = Clock::now();
      ExploreProgress p;
      p.done = sh->c.done.load();
      p.total = shard_size(o);
      p.failures = sh->c.failures.load();
      const double secs = seconds_since(t0);
      p.per_second = secs > 0 ? static_cast<double>(p.done) / secs : 0;
      p.eta_seconds = p.per_second > 0 ? static_cast<double>(p.total - p.done) / p.per_second : 0;
      o.progress(p);
    }
  }
  ExploreSummary s;
  for (std::size_t j = 0; j < children.size(); ++j) {
    int status = 0;
    while (::waitpid(children[j].pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      s.determinism_errors.push_back(
          "vfsim bug: exploration worker process " + std::to_string(j) +
          (WIFSIGNALED(status) ? " died of signal " + std::to_string(WTERMSIG(status))
                               : " exited with status " + std::to_string(WEXITSTATUS(status))));
    }
    std::string_view text = children[j].text;
    while (!text.empty()) {
      const std::size_t nl = std::min(text.find('\n'), text.size());
      const std::string_view line = text.substr(0, nl);
      if (line.substr(0, 2) == "F ") {
        s.failing_schedules.push_back(std::stoull(std::string(line.substr(2))));
      } else if (line.substr(0, 2) == "E ") {
        s.determinism_errors.emplace_back(line.substr(2));
      }
      text.remove_prefix(std::min(nl + 1, text.size()));
    }
  }
  std::sort(s.determinism_errors.begin(), s.determinism_errors.end());
  std::sort(s.failing_schedules.begin(), s.failing_schedules.end());
  s.seconds = seconds_since(t0);
  s.exhausted = sh->c.exhausted.load();
  s.max_steps = sh->c.max_steps.load();
  const std::uint64_t done = sh->c.done.load();
  const std::uint64_t first = sh->first_index;
  const std::uint64_t first_hash = sh->first_hash;
  const auto first_outcome = static_cast<Outcome>(sh->first_outcome);
  const std::uint64_t failures = sh->c.failures.load();
  sh->~ProcShared();
  ::munmap(mem, sizeof(ProcShared));
  const bool failed = first != ~std::uint64_t{0};
  if (o.keep_going || !failed) {
    s.schedules_explored = std::min<std::uint64_t>(done, shard_size(o));
    s.failures = failures;
  } else {
    s.schedules_explored = (first - o.shard_index) / o.shard_count + 1;
    s.failures = 1;
  }
  s.schedules_per_second = s.seconds > 0 ? static_cast<double>(done) / s.seconds : 0;
  if (failed) {
    // The failure again, here, with its full trace: exactly as the worker ran it.
    s.first_failure_index = first;
    s.outcome = first_outcome;
    std::optional<RunResult> full = run_schedule(run, o, first);
    if (full && full->outcome == first_outcome && full->trace_hash == first_hash) {
      s.first_failure = std::move(full);
    } else {
      if (full) s.first_failure = std::move(full);
      s.determinism_errors.push_back("vfsim bug: the first failure (schedule " +
                                     std::to_string(first) +
                                     ") did not run again identically in the exploring process");
    }
  }
  return s;
}

}  // namespace

std::uint64_t shard_size(const ExploreOptions& o) {
  if (o.shard_index >= o.schedules) return 0;
  return (o.schedules - o.shard_index + o.shard_count - 1) / o.shard_count;
}

std::uint64_t schedule_seed(std::uint64_t seed, std::uint64_t index) {
  return derive_seed(seed, index + 1);
}

ExploreSummary explore(const RunFn& run, const ExploreOptions& o) {
  if (o.shard_count == 0 || o.shard_index >= o.shard_count) {
    throw std::invalid_argument("explore: shard " + std::to_string(o.shard_index) + " of " +
                                std::to_string(o.shard_count) + " does not exist");
  }
  const auto t0 = Clock::now();
  std::uint64_t expected_steps = 1000;
  if (o.strategy == "pct") {
    StackPool stacks(default_stack_bytes());
    expected_steps = calibrate_steps(run, o, stacks);
  }
  Shared sh;
  auto probe = make_strategy(o.strategy, params_for(o, expected_steps));
  const int jobs = (probe && probe->parallel_safe()) ? std::max(o.jobs, 1) : 1;
  if (o.processes && jobs > 1) return explore_in_processes(run, o, expected_steps, jobs, t0);
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) {
    threads.emplace_back([&] { worker(run, o, expected_steps, sh, false, t0); });
  }
  worker(run, o, expected_steps, sh, true, t0);
  for (auto& t : threads) t.join();

  ExploreSummary s;
  s.seconds = seconds_since(t0);
  s.exhausted = sh.c.exhausted.load();
  s.max_steps = sh.c.max_steps.load();
  s.determinism_errors = std::move(sh.determinism_errors);
  std::sort(s.determinism_errors.begin(), s.determinism_errors.end());
  std::sort(sh.failing_indexes.begin(), sh.failing_indexes.end());
  s.failing_schedules = sh.failing_indexes;
  if (o.keep_going || !sh.first_index) {
    s.schedules_explored = std::min<std::uint64_t>(sh.c.done.load(), shard_size(o));
    s.failures = sh.failing_indexes.size();
  } else {
    // Report as a single sequential worker would have: it stops at the first
    // failing schedule (the shard's indices up to it).
    s.schedules_explored = (*sh.first_index - o.shard_index) / o.shard_count + 1;
    s.failures = 1;
  }
  s.schedules_per_second = s.seconds > 0 ? static_cast<double>(sh.c.done.load()) / s.seconds : 0;
  if (sh.first_index) {
    s.first_failure_index = sh.first_index;
    s.outcome = sh.first->outcome;
    // Run the failure once more keeping its full trace, for the report.
    MachineOptions m = o.machine;
    m.seed = sh.first->seed;
    m.keep_trace = true;
    RunResult full = replay(run, m, sh.first->schedule);
    if (full.outcome == sh.first->outcome && full.trace_hash == sh.first->trace_hash) {
      s.first_failure = std::move(full);
    } else {
      s.first_failure = std::move(sh.first);
      s.determinism_errors.push_back(
          "vfsim bug: the first failure did not replay identically with a full trace");
    }
  }
  return s;
}

std::optional<RunResult> run_schedule(const RunFn& run, const ExploreOptions& o,
                                      std::uint64_t index) {
  StackPool stacks(default_stack_bytes());
  const std::uint64_t expected_steps = o.strategy == "pct" ? calibrate_steps(run, o, stacks) : 1000;
  auto strategy = make_strategy(o.strategy, params_for(o, expected_steps));
  // A parallel-safe strategy's schedule i depends on i and its seed alone
  // (that is what lets workers take any index); dfs's on every run before.
  for (std::uint64_t i = strategy->parallel_safe() ? index : 0;; ++i) {
    MachineOptions m = o.machine;
    m.seed = schedule_seed(o.seed, i);
    m.stacks = &stacks;
    m.keep_trace = i == index;
    if (!strategy->begin_run(i, m.seed)) return std::nullopt;
    RunResult r = run(m, *strategy);
    strategy->end_run(r.steps);
    if (i == index) return r;
  }
}

RunResult replay(const RunFn& run, MachineOptions machine, const Schedule& schedule,
                 bool* diverged) {
  StrategyParams p;
  p.schedule = schedule;
  auto strategy = make_strategy("replay", p);
  strategy->begin_run(0, machine.seed);
  RunResult r = run(machine, *strategy);
  if (diverged != nullptr) *diverged = strategy->diverged();
  return r;
}

std::string check_determinism(const RunFn& run, const MachineOptions& machine,
                              const Schedule& schedule) {
  MachineOptions m = machine;
  m.keep_trace = true;
  m.stacks = nullptr;
  const RunResult a = replay(run, m, schedule);
  const RunResult b = replay(run, m, schedule);
  if (a.trace_hash == b.trace_hash && a.events.size() == b.events.size()) return "";
  const std::size_t n = std::min(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < n; ++i) {
    const TraceEvent& x = a.events[i];
    const TraceEvent& y = b.events[i];
    if (x.step != y.step || x.lwp != y.lwp || x.kind != y.kind || x.detail != y.detail) {
      std::ostringstream os;
      os << "runs diverge at event " << i << " (step " << x.step << "): '" << x.kind << " "
         << x.detail << "' vs '" << y.kind << " " << y.detail << "'";
      return os.str();
    }
  }
  return "runs diverge after event " + std::to_string(n) + " (one trace is longer)";
}

namespace {

// The dense schedule that takes `keep` decisions of `base` as recorded and
// lets every other choice be the default.
Schedule with_only(const Schedule& base, const std::vector<std::size_t>& keep) {
  if (keep.empty()) return {};
  Schedule s(keep.back() + 1, kNoLwp);
  for (std::size_t k : keep) s[k] = base[k];
  return s;
}

std::vector<std::size_t> nondefault_positions(const RunResult& r) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < r.schedule.size(); ++i) {
    if (i >= r.defaults.size() || !r.defaults[i]) out.push_back(i);
  }
  return out;
}

// Cuts the trailing default decisions: replay takes defaults past the end.
Schedule trimmed(const RunResult& r) {
  const auto pos = nondefault_positions(r);
  if (pos.empty()) return {};
  return Schedule(r.schedule.begin(),
                  r.schedule.begin() + static_cast<std::ptrdiff_t>(pos.back() + 1));
}

}  // namespace

std::string message_shape(std::string_view message) {
  auto alnum = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  std::string out;
  out.reserve(message.size());
  for (std::size_t i = 0; i < message.size();) {
    const char c = message[i];
    if (!alnum(c)) {
      out += c;
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < message.size() && alnum(message[end])) ++end;
    if (c >= '0' && c <= '9') out += '#';  // a number, in any base, with any unit
    else out.append(message.substr(i, end - i));
    i = end;
  }
  return out;
}

namespace {

// An op's place without its repetition number: "lwp t1 op 3 (read) #2" is
// the same op as "lwp t1 op 3 (read) #0".
std::string_view without_repetition(std::string_view place) {
  const auto hash = place.rfind(" #");
  if (hash == std::string_view::npos || hash + 2 == place.size()) return place;
  for (std::size_t i = hash + 2; i < place.size(); ++i) {
    if (place[i] < '0' || place[i] > '9') return place;
  }
  return place.substr(0, hash);
}

}  // namespace

bool same_failure_site(const RunResult& a, const RunResult& b) {
  return a.outcome == b.outcome && a.failure_lwp == b.failure_lwp &&
         without_repetition(a.failure_op) == without_repetition(b.failure_op) &&
         message_shape(a.message) == message_shape(b.message);
}

ShrinkResult shrink(const RunFn& run, const MachineOptions& machine, const RunResult& failing,
                    std::uint64_t max_attempts) {
  ShrinkResult out;
  out.original_decisions = failing.schedule.size();
  out.original_preemptions = failing.preemptions;
  MachineOptions m = machine;
  m.seed = failing.seed;
  m.keep_trace = false;

  RunResult best = failing;
  auto attempt = [&](const Schedule& s) -> std::optional<RunResult> {
    ++out.attempts;
    RunResult r = replay(run, m, s);
    if (!same_failure_site(r, failing)) return std::nullopt;
    return r;
  };

  // First the schedule with no preemption at all.
  if (auto r = attempt({})) best = std::move(*r);

  // ddmin over the non-default decisions.
  std::size_t n = 2;
  while (out.attempts < max_attempts) {
    const auto pos = nondefault_positions(best);
    if (pos.empty()) break;
    n = std::min(n, pos.size());
    const std::size_t chunk = (pos.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < pos.size() && out.attempts < max_attempts; start += chunk) {
      std::vector<std::size_t> keep;
      for (std::size_t i = 0; i < pos.size(); ++i) {
        if (i < start || i >= start + chunk) keep.push_back(pos[i]);
      }
      auto r = attempt(with_only(best.schedule, keep));
      if (r && nondefault_positions(*r).size() < pos.size()) {
        best = std::move(*r);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (reduced) continue;
    if (n >= pos.size()) break;
    n = std::min(pos.size(), n * 2);
  }

  m.keep_trace = true;
  Schedule final_schedule = trimmed(best);
  RunResult full = replay(run, m, final_schedule);
  if (!same_failure_site(full, failing)) full = best;  // cannot happen if deterministic
  full.schedule = trimmed(full);
  out.result = std::move(full);
  out.decisions = out.result.schedule.size();
  out.preemptions = out.result.preemptions;
  return out;
}

}  // namespace vfsim::sim
