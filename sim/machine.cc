#include "sim/machine.h"

#include <algorithm>
#include <boost/context/pooled_fixedsize_stack.hpp>
#include <boost/fiber/all.hpp>
#include <exception>
#include <set>
#include <sstream>

#include "sim/outside.h"
#include "sim/scheduler.h"
#include "sim/sync.h"

namespace vfsim::sim {

namespace fibers = boost::fibers;

// ---------------------------------------------------------------------------
// Stacks
//
// Under AddressSanitizer, fiber stacks need care: Boost.Context as Debian
// builds it does not tell ASan about switches, so when an exception unwinds
// an lwp (LwpKilled, a panic) ASan cannot clear the poison of the frames it
// skipped (google/sanitizers#189), and a pooled stack handed to the next
// fiber still carries it. We clear a stack's poison whenever it is handed
// out or given back, and clear the unwound frames after an lwp's catch.

#if defined(__SANITIZE_ADDRESS__)
#define VFSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VFSIM_ASAN 1
#endif
#endif

#ifdef VFSIM_ASAN
#include <pthread.h>
extern "C" void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom,
                                               std::size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                                std::size_t* size_old);
#endif

namespace {

void unpoison_stack(const boost::context::stack_context& sc) {
#ifdef VFSIM_ASAN
  __asan_unpoison_memory_region(static_cast<char*>(sc.sp) - sc.size, sc.size);
#else
  (void)sc;
#endif
}

// A pooled stack allocator that keeps ASan's view of reused stacks clean and
// remembers the last stack it handed out, so the machine knows each lwp's
// stack bounds.
class CleanPooledStack {
 public:
  CleanPooledStack(std::size_t bytes, boost::context::stack_context* last)
      : pool_(bytes), bytes_(bytes), last_(last) {}
  boost::context::stack_context allocate() {
    auto sc = pool_.allocate();
    unpoison_stack(sc);
    *last_ = sc;
    return sc;
  }
  void deallocate(boost::context::stack_context& sc) noexcept {
    unpoison_stack(sc);
    pool_.deallocate(sc);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  boost::context::pooled_fixedsize_stack pool_;
  std::size_t bytes_;
  boost::context::stack_context* last_;
};

}  // namespace

struct StackPoolImpl {
  explicit StackPoolImpl(std::size_t bytes) : salloc(bytes, &last) {}
  boost::context::stack_context last;
  CleanPooledStack salloc;
};

// Clears the poison that frames unwound by an exception may leave below the
// current frame of an lwp (only under ASan; see the note on stacks above).
// Tells ASan which stack the code now running is on (a switch from a stack
// to itself), so that when an exception unwinds it, ASan clears exactly that
// stack instead of refusing because it thinks the stack is the thread's.
// Called whenever an lwp or the main context resumes, and before a throw.
void Machine::note_running_stack() {
#ifdef VFSIM_ASAN
  const void* lo = nullptr;
  std::size_t size = 0;
  if (current_ != nullptr && current_->stack_lo != nullptr) {
    lo = current_->stack_lo;
    size = stacks_->impl().salloc.bytes();
  } else if (current_ == nullptr) {
    lo = main_stack_lo_;
    size = main_stack_size_;
  }
  if (lo == nullptr) return;
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, lo, size);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

// Unwinds the current lwp because the run is ending.
void Machine::throw_killed() {
  note_running_stack();
  throw LwpKilled{};
}

void Machine::find_main_stack() {
#ifdef VFSIM_ASAN
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    main_stack_lo_ = addr;
    main_stack_size_ = size;
    pthread_attr_destroy(&attr);
  }
#endif
}

StackPool::StackPool(std::size_t stack_bytes)
    : impl_(std::make_unique<StackPoolImpl>(stack_bytes)) {}
StackPool::~StackPool() = default;

std::size_t default_stack_bytes() {
#if defined(__SANITIZE_ADDRESS__)
  return 512 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return std::size_t{512} * 1024;
#else
  return std::size_t{128} * 1024;
#endif
#else
  return 128 * 1024;
#endif
}

// What quiesce() waits on: its holders, for the wait-for graph, are the
// daemons still busy (a cycle through one of them is a real deadlock).
class QuiesceResource final : public Resource {
 public:
  explicit QuiesceResource(Machine& m)
      : Resource(m, "quiescence (every daemon idle)", ResourceKind::channel) {}
  std::vector<LwpId> holders() const override {
    std::vector<LwpId> out;
    for (const auto& l : machine().lwps()) {
      if (l->daemon && l->busy != 0 && l->state != LwpState::finished) out.push_back(l->id);
    }
    return out;
  }
};

// The fibers of one machine, kept out of the header.
struct FiberSet {
  std::vector<fibers::fiber> fibers;
};

// ---------------------------------------------------------------------------
// Construction

Machine::Machine(MachineOptions options, Strategy& strategy)
    : options_(options),
      strategy_(strategy),
      rng_(derive_seed(options.seed, 0x44415441 /* "DATA" */)),
      trace_(options.keep_trace),
      now_(options.start_time) {
  quiesce_ = std::make_unique<QuiesceResource>(*this);
  domains_.push_back(Domain{"kernel", {}, false, kNoLwp, false});
  if (options_.stacks == nullptr) {
    own_stacks_ = std::make_unique<StackPool>(default_stack_bytes());
    stacks_ = own_stacks_.get();
  } else {
    stacks_ = options_.stacks;
  }
  scratch_.reserve(16);
  ready_.reserve(16);
}

Machine::~Machine() {
  // run() joins every fiber; a machine that never ran has none started.
  for (auto& l : lwps_) {
    if (l->ctx != nullptr && l->state != LwpState::finished) {
      std::fprintf(stderr, "vfsim: internal error: machine destroyed with a live lwp\n");
      std::abort();
    }
  }
}

LwpId Machine::spawn(std::string name, std::function<void()> body, bool daemon, LwpTags tags) {
  auto l = std::make_unique<Lwp>();
  l->id = static_cast<LwpId>(lwps_.size());
  l->name = std::move(name);
  l->daemon = daemon;
  l->tags = tags;
  if (current_ != nullptr) {  // a process's lwps are its own: same fault domain
    l->domain = current_->domain;
    l->doomed = current_->doomed;
  }
  l->body = std::move(body);
  l->exit_channel = std::make_unique<WaitChannel>(*this, "exit of lwp '" + l->name + "'");
  l->exit_channel->add_waker(l->id);
  Lwp* raw = l.get();
  lwps_.push_back(std::move(l));
  trace_.add(steps_, now_, current_ ? current_->id : kNoLwp, "spawn", raw->name);
  if (ran_) start_fiber(raw);
  return raw->id;
}

void Machine::start_fiber(Lwp* l) {
  spawning_ = l;
  fibers_->fibers.emplace_back(std::allocator_arg, stacks_->impl().salloc,
                               [this, l] { lwp_entry(l); });
  spawning_ = nullptr;
  const auto& sc = stacks_->impl().last;
  l->stack_lo = static_cast<char*>(sc.sp) - sc.size;
  VFSIM_KASSERT(*this, l->ctx != nullptr, "new fiber was not bound to its lwp");
}

void Machine::lwp_entry(Lwp* l) {
  note_running_stack();
  const DomainId domain = l->domain;
  if (!killing_ && !l->doomed) run_guarded(l, l->body);
  // Outside any catch block: from here on we may switch fibers again.
  note_running_stack();
  if (domain != kKernelDomain && !killing_) {
    // The process's exit, if this lwp's panic ended its domain: the rest
    // runs in the kernel, as the kernel closing a dead process's files.
    l->domain = kKernelDomain;
    l->doomed = false;
    run_death_hook(l, domain);
  }
  l->body = nullptr;
  l->state = LwpState::finished;
  trace_.add(steps_, now_, l->id, "exit", l->name);
  l->exit_channel->wakeup_quiet();
  dispatcher_due_ = true;
}

void Machine::run_guarded(Lwp* l, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const LwpKilled&) {
  } catch (const RunFailed&) {
  } catch (const PanicError& p) {
    if (!contain_panic(p.message)) note_failure(Outcome::panic, p.message);
  } catch (const std::exception& e) {
    const std::string message = "lwp '" + l->name + "' threw " + e.what();
    if (!contain_panic(message)) note_failure(Outcome::panic, message);
  } catch (...) {
    const std::string message = "lwp '" + l->name + "' threw an unknown exception";
    if (!contain_panic(message)) note_failure(Outcome::panic, message);
  }
}

// ---------------------------------------------------------------------------
// Fault domains

DomainId Machine::add_domain(std::string name, std::function<void()> on_death) {
  const auto id = static_cast<DomainId>(domains_.size());
  if (trace_.keeping()) note("domain", "new " + std::to_string(id) + " " + name);
  domains_.push_back(Domain{std::move(name), std::move(on_death), false, kNoLwp, false});
  return id;
}

bool Machine::domain_dead(DomainId d) const { return d < domains_.size() && domains_[d].dead; }

const std::string& Machine::domain_name(DomainId d) const {
  VFSIM_KASSERT(*const_cast<Machine*>(this), d < domains_.size(), "unknown fault domain");
  return domains_[d].name;
}

// Called where a panic is raised (fail) or caught (run_guarded). The first
// panic of a domain kills it; a later one (a destructor of its unwinding
// code, another of its lwps) is part of the same death. A panic while the
// run has already failed is not recorded: the run's own failure stands.
namespace {

// A failure message names the place of a failed assertion by __FILE__,
// which is absolute in one build and relative to the build directory
// ("../../vfs/x.cc", ccache's base_dir) in another. Messages enter the
// trace hash, so the place is made relative to the source tree first: the
// same run hashes the same wherever the tree was checked out and built.
std::string source_relative(std::string message) {
#ifdef VFSIM_SOURCE_DIR
  const std::string root = std::string(VFSIM_SOURCE_DIR) + "/";
  for (std::size_t at = message.find(root); at != std::string::npos; at = message.find(root, at))
    message.erase(at, root.size());
#endif
  const std::string up = " at ../";
  for (std::size_t at = message.find(up); at != std::string::npos; at = message.find(up, at)) {
    std::size_t end = at + 4;  // just past " at "
    while (message.compare(end, 3, "../") == 0) end += 3;
    message.erase(at + 4, end - (at + 4));
  }
  return message;
}

}  // namespace

bool Machine::contain_panic(const std::string& message_in) {
  const std::string message = source_relative(message_in);
  if (current_ == nullptr || current_->domain == kKernelDomain) return false;
  const DomainId d = current_->domain;
  Domain& dom = domains_[d];
  if (dom.dead) return true;
  dom.dead = true;
  dom.killer = current_->id;
  if (outcome_ == Outcome::pass) {
    contained_.push_back(ContainedPanic{d, dom.name, current_->name, message, steps_, now_});
    trace_.add(steps_, now_, current_->id, "contained_panic", dom.name + ": " + message);
  }
  kill_domain(d);
  return true;
}

// Every lwp of `d` is doomed: the blocked ones are woken to unwind at their
// blocking point, the ready ones unwind when next chosen, the ones not
// started yet never run their body. None of them switches fibers while it
// unwinds (sched_point_slow), so the domain's state stays as the panic left
// it until the death hook has run.
void Machine::kill_domain(DomainId d) {
  for (auto& l : lwps_) {
    if (l->domain != d || l->state == LwpState::finished) continue;
    l->doomed = true;
    if (l->state == LwpState::blocked) wake(*l);
  }
}

void Machine::run_death_hook(Lwp* l, DomainId d) {
  Domain& dom = domains_[d];
  if (!dom.dead || dom.killer != l->id || dom.hook_ran) return;
  dom.hook_ran = true;
  if (dom.on_death) run_guarded(l, dom.on_death);
}

bool Machine::run_in_domain(DomainId d, const std::function<void()>& fn) {
  VFSIM_KASSERT(*this, current_ != nullptr && d < domains_.size(),
                "run_in_domain outside an lwp, or of an unknown domain");
  if (domains_[d].dead) return false;
  Lwp* me = current_;
  // Back in the outer domain however fn ends (a run failure unwinds through).
  struct Restore {
    Lwp* lwp;
    DomainId outer;
    const std::vector<Domain>& domains;
    ~Restore() {
      lwp->domain = outer;
      lwp->doomed = outer != kKernelDomain && domains[outer].dead;
    }
  } restore{me, me->domain, domains_};
  me->domain = d;
  bool returned = false;
  try {
    fn();
    returned = true;
  } catch (const LwpKilled&) {
    // d died (or the run is ending: unwound further below).
  } catch (const PanicError& p) {
    if (!contain_panic(p.message)) throw;
  } catch (const std::exception& e) {
    if (!contain_panic("lwp '" + me->name + "' threw " + std::string(e.what()))) throw;
  }
  note_running_stack();
  me->domain = restore.outer;
  me->doomed = restore.outer != kKernelDomain && domains_[restore.outer].dead;
  if (killing_ || me->doomed) throw_killed();
  if (returned && !domains_[d].dead) return true;
  run_death_hook(me, d);
  return false;
}

// ---------------------------------------------------------------------------
// The outer loop, on the thread's main context

namespace {
// See Machine::running_on_this_thread(): set only while run() executes.
thread_local Machine* t_running_machine = nullptr;

class RunningGuard {
 public:
  explicit RunningGuard(Machine* m) : prev_(t_running_machine) { t_running_machine = m; }
  ~RunningGuard() { t_running_machine = prev_; }
  RunningGuard(const RunningGuard&) = delete;
  RunningGuard& operator=(const RunningGuard&) = delete;

 private:
  Machine* prev_;
};
}  // namespace

Machine* Machine::running_on_this_thread() { return t_running_machine; }

RunResult Machine::run() {
  VFSIM_KASSERT(*this, !ran_, "Machine::run called twice");
  const RunningGuard running(this);
  VFSIM_KASSERT(*this, fibers::context::active()->is_context(fibers::type::main_context),
                "Machine::run must be called from a thread's main context");
  ran_ = true;
  find_main_stack();
  fibers_ = std::make_unique<FiberSet>();
  fibers::use_scheduling_algorithm<SimAlgorithm>(this);
  for (auto& l : lwps_) start_fiber(l.get());
  main_loop();
  run_invariants("teardown");
  if (outcome_ == Outcome::pass) run_leak_checks();
  // Let the dispatcher free the finished fibers' stacks, then hand the thread
  // back to Boost's stock scheduler.
  dispatcher_due_ = true;
  boost::this_fiber::yield();
  for (auto& f : fibers_->fibers) f.join();
  fibers_->fibers.clear();
  algo_->detach();
  fibers::use_scheduling_algorithm<fibers::algo::round_robin>();
  algo_ = nullptr;

  RunResult r;
  r.outcome = outcome_;
  r.message = message_;
  r.failure_lwp = failure_lwp_;
  r.failure_op = failure_op_;
  r.contained = contained_;
  r.seed = options_.seed;
  r.steps = steps_;
  r.end_time = now_;
  r.trace_hash = trace_.hash();
  r.schedule = std::move(schedule_);
  r.defaults = std::move(defaults_);
  r.preemptions = preemptions_;
  if (trace_.keeping()) {
    r.events = trace_.events();
    for (const auto& l : lwps_) r.lwps.push_back(LwpSummary{l->id, l->name, l->group, l->daemon});
  }
  return r;
}

void Machine::main_loop() {
  for (;;) {
    boost::this_fiber::yield();  // lwps run until none is ready
    current_ = nullptr;
    note_running_stack();
    if (std::all_of(lwps_.begin(), lwps_.end(),
                    [](const auto& l) { return l->state == LwpState::finished; })) {
      return;
    }
    if (killing_) {
      wake_everyone();
      continue;
    }
    // Daemons are stopped only when idle: one inside a piece of work (say a
    // forced unmount's flush) may still hold what it is about to release.
    if (all_user_lwps_finished() && !any_daemon_busy()) {
      trace_.add(steps_, now_, kNoLwp, "end", "every lwp finished; stopping daemons");
      killing_ = true;
      continue;
    }
    if (options_.invariant_interval == 0 || !invariants_ran_ ||
        steps_ - invariants_step_ >= options_.invariant_interval) {
      invariants_ran_ = true;
      invariants_step_ = steps_;
      run_invariants("quiescence");
    }
    if (killing_) continue;
    if (wake_quiesced()) continue;
    if (outside_ != nullptr && !outside_->closed()) {
      // Lwps in a wait-for cycle cannot be freed by a request: report the
      // deadlock rather than wait for the outside world.
      if (!find_cycle().empty()) {
        analyse_stuck();
        continue;
      }
      if (outside_->idle(next_deadline())) continue;
    }
    if (!advance_clock()) analyse_stuck();
  }
}

VTime Machine::next_deadline() const {
  VTime d = timers_.empty() ? kNever : timers_.begin()->first.first;
  for (const auto& [token, op] : ops_) d = std::min(d, op.deadline);
  return d;
}

void Machine::attach_outside(Outside* o) {
  VFSIM_KASSERT(*this, outside_ == nullptr, "a second Outside attached to one machine");
  outside_ = o;
}

void Machine::detach_outside(Outside* o) {
  if (outside_ == o) outside_ = nullptr;
}

void Machine::wake_everyone() {
  timers_.clear();
  timer_deadlines_.clear();
  for (auto& l : lwps_) {
    if (l->state == LwpState::blocked) wake(*l);
  }
}

bool Machine::any_daemon_busy() const {
  return std::any_of(lwps_.begin(), lwps_.end(), [](const auto& l) {
    return l->daemon && l->busy != 0 && l->state != LwpState::finished;
  });
}

// Called with no lwp ready: the lwps in quiesce() may go on once no daemon
// is busy. Returns whether it woke any.
bool Machine::wake_quiesced() {
  if (quiesce_waiters_ == 0 || any_daemon_busy()) return false;
  bool woke = false;
  for (auto& l : lwps_) {
    if (l->state == LwpState::blocked && l->waiting_on == quiesce_.get()) {
      wake(*l);
      woke = true;
    }
  }
  return woke;
}

void Machine::quiesce() {
  if (!killing_ && ready_.empty() && pending_ == nullptr && !any_daemon_busy()) return;
  ++quiesce_waiters_;
  struct Leave {
    std::size_t& n;
    ~Leave() { --n; }
  } leave{quiesce_waiters_};
  block(*quiesce_, "quiesce");
}

bool Machine::all_user_lwps_finished() const {
  return std::all_of(lwps_.begin(), lwps_.end(),
                     [](const auto& l) { return l->daemon || l->state == LwpState::finished; });
}

// Moves the clock to the next timer (or to an operation's deadline, which
// ends the run as a hang). Returns false when there is nothing to wait for.
bool Machine::advance_clock() {
  VTime op_deadline = ~VTime{0};
  const Op* late = nullptr;
  for (const auto& [token, op] : ops_) {
    if (op.deadline < op_deadline) {
      op_deadline = op.deadline;
      late = &op;
    }
  }
  if (timers_.empty() && late == nullptr) return false;
  const VTime next = timers_.empty() ? ~VTime{0} : timers_.begin()->first.first;
  if (late != nullptr && op_deadline <= next) {
    if (timers_.empty() && find_cycle().empty() == false) return false;  // a deadlock, not a hang
    now_ = std::max(now_, op_deadline);
    record_failure(Outcome::hang,
                   "operation '" + late->description + "' of lwp '" + lwps_[late->lwp]->name +
                       "' did not return within its " +
                       std::to_string(late->budget / kMillisecond) + " ms budget (virtual time)" +
                       waits_summary(),
                   lwps_[late->lwp].get(), late);
    return true;
  }
  now_ = next;
  while (!timers_.empty() && timers_.begin()->first.first == next) {
    auto it = timers_.begin();
    auto fire = std::move(it->second);
    timer_deadlines_.erase(it->first.second);
    timers_.erase(it);
    trace_.add(steps_, now_, kNoLwp, "timer", "");
    fire();
  }
  return true;
}

// Nothing can run and nothing is pending: a wait-for cycle is a deadlock,
// anything else waits forever (a hang).
void Machine::analyse_stuck() {
  const std::vector<LwpId> cycle = find_cycle();
  if (!cycle.empty()) {
    std::ostringstream os;
    os << "deadlock: ";
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      const Lwp& l = *lwps_[cycle[i]];
      const Lwp& next = *lwps_[cycle[(i + 1) % cycle.size()]];
      if (i > 0) os << "; ";
      os << "lwp '" << l.name << "' waits for " << resource_kind_name(l.waiting_on->kind()) << " '"
         << l.waiting_on->name() << "' held by lwp '" << next.name << "'";
    }
    os << ".\nwait-for graph:\n" << wait_for_graph();
    note_failure(Outcome::deadlock, os.str());
    return;
  }
  note_failure(Outcome::hang,
               "no lwp can run and no timer is pending, but nothing holds "
               "what they wait for" +
                   waits_summary() + "\nwait-for graph:\n" + wait_for_graph());
}

std::string Machine::waits_summary() const {
  std::string s;
  for (const auto& l : lwps_) {
    if (l->state != LwpState::blocked || l->waiting_on == nullptr) continue;
    s += "; lwp '" + l->name + "' waits on " +
         std::string(resource_kind_name(l->waiting_on->kind())) + " '" + l->waiting_on->name() +
         "' (" + l->wait_reason + ")";
  }
  return s;
}

// Returns the lwps of a wait-for cycle, in order, or nothing. Deterministic:
// lwps are visited in id order and holders in the order the resource lists.
std::vector<LwpId> Machine::find_cycle() const {
  const std::size_t n = lwps_.size();
  std::vector<int> color(n, 0);  // 0 new, 1 on stack, 2 done
  std::vector<LwpId> stack;
  std::vector<LwpId> found;
  auto edges = [&](LwpId id) {
    const Lwp& l = *lwps_[id];
    std::vector<LwpId> out;
    if (l.state == LwpState::blocked && l.waiting_on != nullptr) {
      for (LwpId h : l.waiting_on->holders()) {
        if (h < n && lwps_[h]->state != LwpState::finished) out.push_back(h);
      }
    }
    return out;
  };
  std::function<bool(LwpId)> visit = [&](LwpId v) {
    color[v] = 1;
    stack.push_back(v);
    for (LwpId w : edges(v)) {
      if (color[w] == 1) {
        auto it = std::find(stack.begin(), stack.end(), w);
        found.assign(it, stack.end());
        return true;
      }
      if (color[w] == 0 && visit(w)) return true;
    }
    stack.pop_back();
    color[v] = 2;
    return false;
  };
  for (LwpId v = 0; v < n; ++v) {
    if (color[v] == 0 && visit(v)) return found;
  }
  return {};
}

std::string Machine::wait_for_graph() const {
  std::ostringstream os;
  for (const auto& l : lwps_) {
    if (l->state != LwpState::blocked || l->waiting_on == nullptr) continue;
    os << "  lwp '" << l->name << "' -> " << resource_kind_name(l->waiting_on->kind()) << " '"
       << l->waiting_on->name() << "'";
    const auto holders = l->waiting_on->holders();
    if (!holders.empty()) {
      os << " held by";
      for (LwpId h : holders) os << " '" << (h < lwps_.size() ? lwps_[h]->name : "?") << "'";
    }
    os << "\n";
  }
  return os.str();
}

void Machine::run_invariants(std::string_view when) {
  for (const auto& [name, check] : invariants_) {
    std::string err = check();
    if (!err.empty()) {
      note_failure(Outcome::panic,
                   "invariant '" + name + "' failed at " + std::string(when) + ": " + err);
      return;
    }
  }
}

void Machine::run_leak_checks() {
  for (const auto& [name, check] : leak_checks_) {
    const auto leaked = check();
    if (leaked.empty()) continue;
    std::string msg = "leak (" + name + "):";
    for (const auto& item : leaked) msg += " " + item + ";";
    note_failure(Outcome::leak, msg);
    return;
  }
}

void Machine::add_leak_check(std::string name, std::function<std::vector<std::string>()> check) {
  leak_checks_.emplace_back(std::move(name), std::move(check));
}

void Machine::add_invariant(std::string name, std::function<std::string()> check) {
  invariants_.emplace_back(std::move(name), std::move(check));
}

// ---------------------------------------------------------------------------
// Failures

void Machine::note_failure(Outcome outcome, std::string message) {
  record_failure(outcome, std::move(message), current_, nullptr);
}

// The first failure wins. Its site is `lwp` and `op`, or else the innermost
// operation `lwp` has in flight.
void Machine::record_failure(Outcome outcome, std::string message, const Lwp* lwp, const Op* op) {
  message = source_relative(std::move(message));
  if (outcome_ == Outcome::pass && outcome != Outcome::pass) {
    if (lwp != nullptr && op == nullptr) {
      for (const auto& [token, o] : ops_) {
        if (o.lwp == lwp->id) op = &o;
      }
    }
    failure_lwp_ = lwp != nullptr ? lwp->name : "";
    failure_op_ = op != nullptr ? op->description : "";
    outcome_ = outcome;
    message_ = std::move(message);
    trace_.add(steps_, now_, current_ ? current_->id : kNoLwp, "failure",
               std::string(outcome_name(outcome_)) + ": " + message_);
  }
  killing_ = true;
}

void Machine::fail(Outcome outcome, std::string message) {
  if (outcome == Outcome::panic && contain_panic(message)) {
    // Not the run's failure: the calling lwp unwinds out of its domain.
    note_running_stack();
    throw LwpKilled{};
  }
  note_failure(outcome, std::move(message));
  if (current_ == nullptr) {
    std::fprintf(stderr, "vfsim: internal error: Machine::fail outside an lwp: %s\n",
                 message_.c_str());
    std::abort();
  }
  note_running_stack();
  throw RunFailed{};
}

// ---------------------------------------------------------------------------
// Scheduling

Lwp& Machine::current() {
  if (current_ == nullptr) {
    std::fprintf(stderr, "vfsim: internal error: no current lwp (called outside the machine)\n");
    std::abort();
  }
  return *current_;
}

LwpSlot Machine::alloc_lwp_slot() {
  if (lwp_slots_used_ == kLwpSlots) {
    // A programming error in whoever builds on the machine, not a run's outcome.
    std::fprintf(stderr, "vfsim: internal error: all %d lwp slots are taken\n", kLwpSlots);
    std::abort();
  }
  return LwpSlot{lwp_slots_used_++};
}

LwpSlot Machine::lwp_slot(std::string_view owner) {
  for (const auto& [name, slot] : named_slots_) {
    if (name == owner) return slot;
  }
  named_slots_.emplace_back(std::string(owner), alloc_lwp_slot());
  return named_slots_.back().second;
}

Lwp* Machine::lwp(LwpId id) { return id < lwps_.size() ? lwps_[id].get() : nullptr; }

void Machine::budget_exhausted(const SchedTag& tag) {
  fail(Outcome::budget, "step budget of " + std::to_string(options_.step_budget) +
                            " exhausted (livelock?) at '" + std::string(tag.text()) + "' in lwp '" +
                            current_->name + "'");
}

void Machine::sched_point_slow(const SchedTag& tag, bool may_throw) {
  if (killing_ || current_->doomed) {
    if (!may_throw || std::uncaught_exceptions() > 0) return;
    throw_killed();
  }
  // An lwp unwinding an exception (a panic on its way to the lwp's entry or
  // to a fault domain's boundary) does not switch either: no other lwp may
  // see the state the failure left before the failure is recorded.
  if (std::uncaught_exceptions() > 0) return;
  if (!may_throw && steps_ + 1 > options_.step_budget) return;  // reported by the next sched_point
  Lwp* me = current_;
  count_step(tag);
  if (ready_.empty()) return;
  if (me->id == lease_lwp_ && steps_ <= lease_until_ && ready_version_ == lease_version_ &&
      !trace_.keeping()) {
    // The strategy promised to keep this lwp running here: the same record
    // as decide() makes for that default choice, without asking.
    record_decision(me->id, true);
    return;
  }
  scratch_.clear();
  int cur = -1;
  bool placed = false;
  for (Lwp* l : ready_) {
    if (!placed && me->id < l->id) {
      cur = static_cast<int>(scratch_.size());
      scratch_.push_back(me->id);
      placed = true;
    }
    scratch_.push_back(l->id);
  }
  if (!placed) {
    cur = static_cast<int>(scratch_.size());
    scratch_.push_back(me->id);
  }
  const std::size_t idx = decide(ChoiceKind::schedule, scratch_, cur);
  if (static_cast<int>(idx) == cur) {
    lease_lwp_ = me->id;
    lease_until_ = strategy_.keeps_running_until();
    lease_version_ = ready_version_;
    return;
  }
  pending_ = lwps_[scratch_[idx]].get();
  me->state = LwpState::ready;
  boost::this_fiber::yield();
  note_running_stack();
  if ((killing_ || me->doomed) && may_throw && std::uncaught_exceptions() == 0) {
    throw_killed();
  }
}

std::size_t Machine::decide(ChoiceKind kind, const std::vector<LwpId>& candidates, int current) {
  if (candidates.size() < 2) return 0;
  ChoicePoint cp{kind, candidates, current, steps_};
  const std::size_t idx = strategy_.choose(cp);
  if (idx >= candidates.size()) {
    std::fprintf(stderr, "vfsim: internal error: strategy chose %zu of %zu\n", idx,
                 candidates.size());
    std::abort();
  }
  const LwpId chosen = candidates[idx];
  record_decision(chosen, idx == default_choice(cp));
  if (kind == ChoiceKind::schedule && current >= 0 && static_cast<int>(idx) != current) {
    ++preemptions_;
  }
  if (trace_.keeping()) {
    std::string detail = kind == ChoiceKind::schedule ? "run " : "wake ";
    detail += lwps_[chosen]->name + " of";
    for (LwpId c : candidates) detail += " " + lwps_[c]->name;
    trace_.note(steps_, now_, current_ ? current_->id : kNoLwp, "decide", detail);
    if (kind == ChoiceKind::schedule && current >= 0 && static_cast<int>(idx) != current) {
      trace_.note(steps_, now_, candidates[static_cast<std::size_t>(current)], "preempt",
                  lwps_[chosen]->name + " runs instead");
    }
  }
  return idx;
}

void Machine::record_decision(LwpId chosen, bool is_default) {
  if (options_.keep_schedule) {
    schedule_.push_back(chosen);
    defaults_.push_back(is_default);
  }
  if (options_.on_decision) options_.on_decision(chosen);
  trace_.mix(0xdec1de);
  trace_.mix(static_cast<std::uint64_t>(chosen));
}

std::size_t Machine::choose_waiter(const std::vector<LwpId>& waiters) {
  return decide(ChoiceKind::wakeup, waiters, -1);
}

void Machine::ready_insert(Lwp* l) {
  VFSIM_KASSERT(*this, !l->in_ready, "lwp already ready");
  auto it = std::lower_bound(ready_.begin(), ready_.end(), l,
                             [](const Lwp* a, const Lwp* b) { return a->id < b->id; });
  ready_.insert(it, l);
  l->in_ready = true;
  ++ready_version_;
}

void Machine::ready_remove(Lwp* l) {
  auto it = std::find(ready_.begin(), ready_.end(), l);
  if (it != ready_.end()) ready_.erase(it);
  l->in_ready = false;
  ++ready_version_;
}

void Machine::on_awakened(fibers::context* ctx) {
  Lwp* l = lwp_of(ctx);
  if (l == nullptr) {
    // A fiber we just created: bind it to the lwp being spawned.
    if (spawning_ == nullptr) {
      std::fprintf(stderr, "vfsim: internal error: unknown fiber became ready\n");
      std::abort();
    }
    l = spawning_;
    ctx->set_properties(new LwpProps(ctx, l));
    l->ctx = ctx;
  }
  l->state = LwpState::ready;
  ready_insert(l);
}

fibers::context* Machine::pick_next() {
  Lwp* next = pending_;
  pending_ = nullptr;
  if (next == nullptr) {
    scratch_.clear();
    for (Lwp* l : ready_) scratch_.push_back(l->id);
    // The current lwp blocked or finished; pick among the ready ones.
    Lwp* prev = current_;
    current_ = nullptr;
    const std::size_t idx = decide(ChoiceKind::schedule, scratch_, -1);
    current_ = prev;
    next = lwps_[scratch_[idx]].get();
  }
  ready_remove(next);
  next->state = LwpState::running;
  current_ = next;
  return next->ctx;
}

// ---------------------------------------------------------------------------
// Blocking and waking

bool Machine::block(Resource& r, std::string_view reason, VTime timeout) {
  if (killing_ || current_->doomed) {
    if (std::uncaught_exceptions() > 0) return false;
    throw_killed();
  }
  Lwp* me = current_;
  count_step(SchedTag::runtime(reason));
  me->state = LwpState::blocked;
  me->waiting_on = &r;
  me->wait_reason = std::string(reason);
  me->timed_out = false;
  TimerId timer = 0;
  if (timeout > 0) {
    timer = add_timer(now_ + timeout, [this, me] {
      if (me->state == LwpState::blocked) {
        me->timed_out = true;
        wake(*me);
      }
    });
  }
  if (trace_.keeping()) trace_.note(steps_, now_, me->id, "block", reason_text(r, reason));
  fibers::context::active()->suspend();
  note_running_stack();
  me->waiting_on = nullptr;
  if (timer != 0 && !me->timed_out) cancel_timer(timer);
  if (killing_ || me->doomed) {
    if (std::uncaught_exceptions() > 0) return false;
    throw_killed();
  }
  return !me->timed_out;
}

std::string Machine::reason_text(const Resource& r, std::string_view reason) const {
  return std::string(reason) + " on " + std::string(resource_kind_name(r.kind())) + " '" +
         r.name() + "'";
}

void Machine::wake(Lwp& l) {
  if (l.state != LwpState::blocked) return;
  l.state = LwpState::ready;
  trace_.mix(0x3a4e);
  trace_.mix(static_cast<std::uint64_t>(l.id));
  if (trace_.keeping()) {
    trace_.note(steps_, now_, current_id(), "wake", l.name, std::to_string(l.id));
  }
  fibers::context::active()->schedule(l.ctx);
}

void Machine::join(LwpId id) {
  Lwp* l = lwp(id);
  VFSIM_KASSERT(*this, l != nullptr, "join of unknown lwp");
  while (l->state != LwpState::finished) l->exit_channel->sleep("join");
  // For the tools that draw a run (sim/trace_kinds.h): what the joiner does
  // next happened after the lwp's exit, whether or not it had to wait.
  if (trace_.keeping())
    trace_.note(steps_, now_, current_id(), "joined", l->name, std::to_string(id));
}

void Machine::set_group(LwpId id, std::string group) {
  Lwp* l = lwp(id);
  VFSIM_KASSERT(*this, l != nullptr, "set_group of unknown lwp");
  l->group = std::move(group);
}

void Machine::sleep_for(VTime d) {
  Resource r(*this, "sleep of lwp '" + current().name + "'", ResourceKind::sleep);
  block(r, "sleep", d == 0 ? 1 : d);
}

// ---------------------------------------------------------------------------
// Time, operations, trace

TimerId Machine::add_timer(VTime deadline, std::function<void()> fire) {
  const TimerId id = next_timer_++;
  deadline = std::max(deadline, now_);
  timers_.emplace(std::make_pair(deadline, id), std::move(fire));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

void Machine::cancel_timer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
}

std::uint64_t Machine::op_begin(std::string description, VTime budget) {
  const std::uint64_t token = next_op_++;
  if (budget == 0) budget = options_.op_budget;
  ops_.emplace(token, Op{std::move(description), now_ + budget, budget, current_id()});
  return token;
}

void Machine::op_end(std::uint64_t token) { ops_.erase(token); }

void Machine::event(std::string_view kind, std::string_view detail) {
  trace_.add(steps_, now_, current_id(), kind, detail);
}

void Machine::note(std::string_view kind, std::string_view detail) {
  trace_.note(steps_, now_, current_id(), kind, detail);
}

std::string_view resource_kind_name(ResourceKind k) {
  switch (k) {
    case ResourceKind::mutex: return "mutex";
    case ResourceKind::rwlock: return "rwlock";
    case ResourceKind::condvar: return "condvar";
    case ResourceKind::channel: return "channel";
    case ResourceKind::join: return "join";
    case ResourceKind::sleep: return "sleep";
  }
  return "resource";
}

}  // namespace vfsim::sim
