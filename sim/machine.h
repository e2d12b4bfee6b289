// The deterministic machine. One Machine per run owns the lwps (Boost.Fiber
// fibers on the calling thread), the scheduler that asks the run's strategy
// which lwp goes next, the virtual clock and its timers, the seeded RNG, the
// trace and the oracles. There is no global or static mutable state: any
// number of machines run back to back, or one per worker thread.
//
// Scheduling points are the only places where another lwp may run: every
// sched_point(), every acquire and release of a sim primitive, every sleep and
// wakeup. Between two scheduling points an lwp runs alone.
//
// A run ends in exactly one Outcome. Failures found inside an lwp (a KASSERT,
// an expectation, a protocol error) end the run at once: every lwp is unwound
// by an LwpKilled exception thrown out of its blocking point, so stacks and
// RAII objects are released and the machine can be destroyed cleanly.
//
// Fault domains. A panic inside a fault domain — the lwps of one userland
// server program — ends that domain instead of the run, as a driver's panic
// in a rump file server kills the server and not the host (the rump paper's
// isolation). The domain's lwps are unwound the same way, its death hook
// runs in the kernel (the program's exit: its descriptors close, the
// kernel sees the server gone), and the panic is
// recorded as a ContainedPanic in the trace and the RunResult, never lost.
// Every lwp is in one domain: the kernel's (kKernelDomain) unless it was
// spawned by an lwp of another domain or runs in one (run_in_domain).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/assert.h"
#include "sim/rng.h"
#include "sim/strategy.h"
#include "sim/trace.h"
#include "sim/types.h"

namespace boost::fibers {
class context;
}

namespace vfsim::sim {

class HostImages;
class Machine;
class Outside;
class OutsideSource;
class Resource;
class SimAlgorithm;
class WaitChannel;
struct StackPoolImpl;
struct FiberSet;

// Thrown out of a blocking point to unwind an lwp when the run ends. Not
// derived from std::exception so that no kernel code swallows it by accident.
struct LwpKilled {};

// Thrown by Machine::fail to end the run with a typed failure.
struct RunFailed {};

// Stacks for lwp fibers, reused across machines. Owned by whoever runs many
// machines in a row (an explorer worker); a machine without one makes its own.
class StackPool {
 public:
  explicit StackPool(std::size_t stack_bytes);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  StackPoolImpl& impl() { return *impl_; }

 private:
  std::unique_ptr<StackPoolImpl> impl_;
};

// The default stack size: larger under sanitizers, which need the room.
std::size_t default_stack_bytes();

struct MachineOptions {
  std::uint64_t seed = 1;                 // the run seed: data RNG and trace
  VTime start_time = 0;                   // the virtual clock's first reading
  std::uint64_t step_budget = 2'000'000;  // Outcome::budget beyond this
  VTime op_budget = 60 * kSecond;         // default hang budget of an operation
  bool keep_trace = false;                // keep every event, not only the hash
  StackPool* stacks = nullptr;            // optional shared stack pool
  // How file systems see host image files (sim/host_images.h): a private
  // view per machine. Null: a driver opens the host file itself (FileDisk),
  // as the image tools do.
  HostImages* images = nullptr;
  // The outside world a run serves (sim/outside.h): a real device or a
  // recording that the serving code finds here. Null: none, or the serving
  // code builds its own source (an exploration of a recording).
  OutsideSource* outside = nullptr;
  // Every decision's chosen lwp, as it is made (a recording streams them
  // out). With keep_schedule false, RunResult::schedule and defaults stay
  // empty: a machine that runs for hours keeps no list that grows.
  std::function<void(LwpId)> on_decision = {};
  bool keep_schedule = true;
  // Run the quiescence invariants at most once per this many steps (0: at
  // every quiescence). They walk every vnode and open file; a machine that
  // serves a host goes quiescent after every request.
  std::uint64_t invariant_interval = 0;
};

enum class LwpState : std::uint8_t {
  ready,     // runnable, waiting for the strategy to pick it
  running,   // the one lwp executing now
  blocked,   // waiting on a Resource (see Lwp::waiting_on)
  finished,  // its body returned or it was unwound
};

// A fault domain (see the top of this file). Ids are handed out in order;
// 0 is the kernel, whose panic ends the run.
using DomainId = std::uint32_t;
inline constexpr DomainId kKernelDomain = 0;

// A panic a fault domain contained: the domain died, the run went on.
struct ContainedPanic {
  DomainId domain_id = kKernelDomain;
  std::string domain;   // the domain's name, the upper layer's, e.g. a server's description
  std::string lwp;      // the lwp that panicked
  std::string message;  // what the panic said ("KASSERT failed: ...")
  std::uint64_t step = 0;
  VTime time = 0;
};

// Bits an upper layer may set on an lwp to tell what it is (a memory daemon
// marks itself, so that a rule can depend on the calling context).
using LwpTags = std::uint32_t;

// A per-lwp pointer that code above the machine keeps on every lwp (whose
// task an lwp runs, say). Slots are handed out at run time by
// Machine::alloc_lwp_slot, so the machine names none of its users; a machine
// has kLwpSlots of them.
inline constexpr int kLwpSlots = 4;
struct LwpSlot {
  int index = -1;
  bool valid() const { return index >= 0; }
};

struct Lwp {
  LwpId id = kNoLwp;
  std::string name;
  bool daemon = false;  // killed quietly once every non-daemon lwp finished
  // The fault domain it runs in now (its spawner's; run_in_domain changes it
  // for a while), and whether that domain died: the lwp is being unwound.
  DomainId domain = kKernelDomain;
  bool doomed = false;
  // A daemon in the middle of a piece of work (DaemonWork scopes, counted):
  // the run does not end, and quiesce() does not return, until it is back
  // at an idle point (see Machine::quiesce).
  std::uint32_t busy = 0;
  LwpTags tags = 0;
  // Where a drawing of the run puts it (sim/trace_export.h): "" for the
  // default (a user lwp, or the kernel's for a daemon), else the name of the
  // userspace server whose workers it runs. Never decides anything.
  std::string group;
  LwpState state = LwpState::ready;
  Resource* waiting_on = nullptr;  // when blocked
  std::string wait_reason;         // e.g. "lock", "sleep"; for reports
  bool timed_out = false;          // set when a timer ended the wait
  bool in_ready = false;
  boost::fibers::context* ctx = nullptr;
  void* stack_lo = nullptr;  // lowest address of its fiber stack
  std::function<void()> body;
  // Per-lwp data of whoever asked the machine for a slot (LwpSlot); the
  // machine gives the pointers no meaning.
  void* slots[kLwpSlots] = {};
  std::unique_ptr<WaitChannel> exit_channel;  // joiners wait here
};

// An lwp as a kept trace describes it, for the tools that draw a run.
struct LwpSummary {
  LwpId id = kNoLwp;
  std::string name;
  std::string group;  // Lwp::group
  bool daemon = false;
};

struct RunResult {
  Outcome outcome = Outcome::pass;
  std::string message;  // one paragraph; for deadlock the cycle
  std::uint64_t seed = 0;
  std::uint64_t steps = 0;
  VTime end_time = 0;
  std::uint64_t trace_hash = 0;
  Schedule schedule;           // every decision, in order
  std::vector<bool> defaults;  // per decision: was it the default choice
  std::uint32_t preemptions = 0;
  std::vector<TraceEvent> events;  // when MachineOptions::keep_trace
  std::vector<LwpSummary> lwps;    // every lwp, by id; when MachineOptions::keep_trace
  // Where the failure happened: the lwp that failed (the one running, or the
  // one whose operation ran out of time; "" when none, as for a deadlock or
  // a leak) and the operation it was in (op_begin's description, "" if none).
  std::string failure_lwp;
  std::string failure_op;
  // Panics fault domains contained, in order. A run may pass with some: the
  // kernel survived them; whoever reads the result decides whether a dead
  // server was expected.
  std::vector<ContainedPanic> contained;
  bool failed() const { return outcome != Outcome::pass; }
};

using TimerId = std::uint64_t;

class Machine {
 public:
  Machine(MachineOptions options, Strategy& strategy);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // --- setting up and running -------------------------------------------
  // Creates an lwp; it first runs when the strategy picks it. May be called
  // before run() or from inside an lwp.
  LwpId spawn(std::string name, std::function<void()> body, bool daemon = false, LwpTags tags = 0);

  // Runs until every non-daemon lwp finished or a failure ended the run, then
  // unwinds the rest and runs the leak checks. Call once.
  RunResult run();

  // Checks run after every lwp is gone; each returns what it found leaked.
  // Every daemon is idle then (see quiesce): a daemon still inside a
  // DaemonWork scope when the ordinary lwps are done finishes that work
  // first, so what a check finds is held for good, not held for a moment.
  void add_leak_check(std::string name, std::function<std::vector<std::string>()> check);

  // Invariant checks run whenever the machine is quiescent (no lwp ready,
  // before the clock moves) and at the end; each returns an error or "".
  void add_invariant(std::string name, std::function<std::string()> check);

  // --- inside an lwp ----------------------------------------------------
  // A place where the strategy may switch to another lwp. The common case
  // (no other lwp ready, the run not ending) stays inline: it only counts
  // the step into the trace.
  [[gnu::always_inline]] void sched_point(const SchedTag& tag) {
    if (!killing_ && ready_.empty()) [[likely]] {
      count_step(tag);
      return;
    }
    sched_point_slow(tag, true);
  }

  // The scheduling point of a release (unlock, signal, wakeup): the same
  // choice, but it never throws LwpKilled, because releases run in
  // destructors (a MutexGuard). When the run is ending it does nothing; the
  // lwp is unwound at its next acquire, sleep or sched_point.
  [[gnu::always_inline]] void release_point(const SchedTag& tag) noexcept {
    if (!killing_ && ready_.empty()) [[likely]] {
      if (steps_ + 1 > options_.step_budget) return;  // the next sched_point reports it
      count_step(tag);
      return;
    }
    sched_point_slow(tag, false);
  }

  Lwp& current();
  // A slot of Lwp::slots for the caller's own per-lwp pointer, null on every
  // lwp until set. Each call hands out another; taking more than kLwpSlots
  // is a programming error (the program aborts with a message).
  LwpSlot alloc_lwp_slot();
  // The slot of `owner`, handed out on its first use: for code that cannot
  // keep the slot it was given (foreign callbacks that carry no context find
  // theirs by name). The machine gives the name no meaning.
  LwpSlot lwp_slot(std::string_view owner);
  LwpId current_id() const { return current_ ? current_->id : kNoLwp; }
  bool in_lwp() const { return current_ != nullptr; }
  Lwp* lwp(LwpId id);
  const std::vector<std::unique_ptr<Lwp>>& lwps() const { return lwps_; }

  // Waits until lwp `id` finished.
  void join(LwpId id);

  // Sets where a drawing of the run puts lwp `id` (Lwp::group).
  void set_group(LwpId id, std::string group);

  // Waits for true quiescence: no other lwp ready to run and no daemon
  // inside a DaemonWork scope (every daemon idle at its wait for new work,
  // or gone). Moves the clock if a busy daemon waits for a timer. Call it
  // before checking for leaked references from inside a run: a daemon
  // woken but not yet run may still hold what it is about to let go. Returns
  // at once, with no scheduling point, when the machine is quiescent already.
  // A busy daemon that can never go on ends the run as a hang or deadlock.
  void quiesce();
  bool any_daemon_busy() const;

  // Sleeps for `d` of virtual time.
  void sleep_for(VTime d);

  // Ends the run with a typed failure: records it (the first one wins),
  // starts unwinding every lwp, and throws out of the calling lwp.
  [[noreturn]] void fail(Outcome outcome, std::string message);
  // A panic raised in an lwp of a fault domain other than the kernel's (see
  // the top of this file) ends that domain instead: the calling lwp is
  // unwound and the run goes on.
  [[noreturn]] void panic(std::string message) { fail(Outcome::panic, std::move(message)); }

  // Records a failure from outside any lwp (a timer, a check); no throw.
  void note_failure(Outcome outcome, std::string message);

  // Operations in flight, for the hang oracle: an operation still running
  // `budget` after it began ends the run as Outcome::hang.
  std::uint64_t op_begin(std::string description, VTime budget = 0);
  void op_end(std::uint64_t token);

  // --- fault domains ----------------------------------------------------
  // A new fault domain named `name` (for reports). `on_death` runs once when
  // a panic ends it: in the lwp that panicked, after that lwp's frames in
  // the domain are unwound, in the domain that lwp was in before (the
  // kernel's, for a domain's own lwp). It is the server's exit as the
  // kernel sees it (close its connection, revoke its mounts); it must not
  // depend on the domain's lwps, which are being unwound.
  DomainId add_domain(std::string name, std::function<void()> on_death);
  // Runs `fn` on the calling lwp inside domain `d`: lwps it spawns belong to
  // d, and a panic in it (or in another lwp of d while fn runs) kills d,
  // unwinds fn, runs d's on_death and returns false. True when fn returned.
  // False at once when d is dead already. For a kernel lwp entering a
  // server's code synchronously (its start()).
  [[nodiscard]] bool run_in_domain(DomainId d, const std::function<void()>& fn);
  [[nodiscard]] DomainId current_domain() const {
    return current_ ? current_->domain : kKernelDomain;
  }
  [[nodiscard]] bool domain_dead(DomainId d) const;
  [[nodiscard]] const std::string& domain_name(DomainId d) const;
  // Every contained panic so far, in order.
  [[nodiscard]] const std::vector<ContainedPanic>& contained_panics() const { return contained_; }

  // --- time, randomness, trace -----------------------------------------
  VTime now() const { return now_; }
  TimerId add_timer(VTime deadline, std::function<void()> fire);
  void cancel_timer(TimerId id);
  Rng& rng() { return rng_; }
  Trace& trace() { return trace_; }
  std::uint64_t steps() const { return steps_; }
  const MachineOptions& options() const { return options_; }
  // True while the calling lwp is being unwound: the run is ending, or the
  // fault domain it runs in died. Only unwinding is left to do.
  bool killing() const { return killing_ || (current_ != nullptr && current_->doomed); }

  // The machine whose run() is executing on the calling thread, or null
  // (outside run(), e.g. before it starts or after it returns). The one
  // sanctioned piece of thread-wide state (docs/sim.md, "Determinism"): it
  // exists for foreign C code that calls back without any context (a
  // userland library's pthread calls, rewritten to sim primitives). Nothing
  // of vfsim's own finds its machine this way: it is handed a Machine&.
  static Machine* running_on_this_thread();

  // Records an event in the trace (hash always, text when keeping).
  void event(std::string_view kind, std::string_view detail);
  // Keeps an event's text when the full trace is kept, and never hashes it,
  // so a run's hash is the same either way. For details too costly to build
  // on every run (test with trace().keeping() first); the hash must already
  // cover what they say (e.g. the decisions that led there).
  void note(std::string_view kind, std::string_view detail);

  // --- for the sync primitives (sim/sync.h) -----------------------------
  // Blocks the current lwp on `r` until wake(); returns false if a timer
  // ended the wait. Throws LwpKilled when the run is ending.
  bool block(Resource& r, std::string_view reason, VTime timeout = 0);
  // Makes a blocked lwp ready again.
  void wake(Lwp& lwp);
  // Asks the strategy to pick one of `waiters` (arrival order); returns the index.
  std::size_t choose_waiter(const std::vector<LwpId>& waiters);

  // --- for the boost algorithm (sim/scheduler.cc) -----------------------
  void on_awakened(boost::fibers::context* ctx);
  boost::fibers::context* pick_next();
  bool has_ready_lwp() const { return !ready_.empty() || pending_ != nullptr; }

  // --- for sim::Outside (sim/outside.h) -------------------------------------
  // The channel to the outside world the machine waits on when idle, or
  // null. One at a time.
  void attach_outside(Outside* o);
  void detach_outside(Outside* o);

 private:
  friend class SimAlgorithm;
  friend class Outside;
  // Moves the clock forward to `t` (an arrival from outside).
  void outside_time(VTime t) { now_ = std::max(now_, t); }
  // The earliest of the next timer and the earliest operation deadline.
  VTime next_deadline() const;
  [[gnu::always_inline]] void count_step(const SchedTag& tag) {
    ++steps_;
    trace_.add_sched(steps_, now_, current_->id, tag);
    if (steps_ > options_.step_budget) [[unlikely]]
      budget_exhausted(tag);
  }
  [[noreturn]] void budget_exhausted(const SchedTag& tag);
  void sched_point_slow(const SchedTag& tag, bool may_throw);
  void start_fiber(Lwp* l);
  void wake_everyone();
  bool wake_quiesced();
  std::string waits_summary() const;
  std::vector<LwpId> find_cycle() const;
  void run_leak_checks();
  // The lwp body and a death hook, each with the catches that turn what
  // escapes into a failure (or a contained panic).
  void run_guarded(Lwp* l, const std::function<void()>& fn);
  // When the calling lwp runs in a fault domain: ends the domain with
  // `message` (the first time) and returns true; the caller unwinds.
  bool contain_panic(const std::string& message);
  void kill_domain(DomainId d);
  // Runs the death hook of the domain `l` killed, if it did and not yet.
  void run_death_hook(Lwp* l, DomainId d);
  struct Op;
  void record_failure(Outcome outcome, std::string message, const Lwp* lwp, const Op* op);
  std::string reason_text(const Resource& r, std::string_view reason) const;
  [[noreturn]] void throw_killed();
  void note_running_stack();
  void find_main_stack();
  std::size_t decide(ChoiceKind kind, const std::vector<LwpId>& candidates, int current);
  void record_decision(LwpId chosen, bool is_default);
  void ready_insert(Lwp* l);
  void ready_remove(Lwp* l);
  void lwp_entry(Lwp* l);
  void main_loop();
  bool all_user_lwps_finished() const;
  bool advance_clock();
  void analyse_stuck();
  void kill_all();
  void run_invariants(std::string_view when);
  std::string wait_for_graph() const;

  MachineOptions options_;
  Strategy& strategy_;
  Rng rng_;
  Trace trace_;
  std::unique_ptr<StackPool> own_stacks_;
  StackPool* stacks_;

  std::vector<std::unique_ptr<Lwp>> lwps_;  // indexed by LwpId
  std::vector<Lwp*> ready_;                 // sorted by id
  Lwp* current_ = nullptr;
  Lwp* pending_ = nullptr;  // chosen to run next by sched_point
  Lwp* spawning_ = nullptr;
  std::vector<LwpId> scratch_;
  // Bumped whenever the ready set changes.
  std::uint64_t ready_version_ = 0;
  // The strategy's promise (Strategy::keeps_running_until): lwp lease_lwp_
  // keeps running at every scheduling point up to step lease_until_ while
  // the ready set is still version lease_version_.
  LwpId lease_lwp_ = kNoLwp;
  std::uint64_t lease_until_ = 0;
  std::uint64_t lease_version_ = 0;

  VTime now_ = 0;
  std::map<std::pair<VTime, TimerId>, std::function<void()>> timers_;
  std::map<TimerId, VTime> timer_deadlines_;
  TimerId next_timer_ = 1;

  struct Op {
    std::string description;
    VTime deadline;
    VTime budget;
    LwpId lwp;
  };
  std::map<std::uint64_t, Op> ops_;
  std::uint64_t next_op_ = 1;

  std::vector<std::pair<std::string, std::function<std::vector<std::string>()>>> leak_checks_;
  std::unique_ptr<Resource> quiesce_;  // quiesce() blocks here
  std::size_t quiesce_waiters_ = 0;
  std::vector<std::pair<std::string, std::function<std::string()>>> invariants_;

  struct Domain {
    std::string name;
    std::function<void()> on_death;
    bool dead = false;
    LwpId killer = kNoLwp;  // the lwp that panicked: it runs on_death
    bool hook_ran = false;
  };
  std::vector<Domain> domains_;  // by DomainId; [0] the kernel
  std::vector<ContainedPanic> contained_;

  std::uint64_t steps_ = 0;
  Schedule schedule_;
  std::vector<bool> defaults_;
  std::uint32_t preemptions_ = 0;
  std::unique_ptr<FiberSet> fibers_;
  bool killing_ = false;
  bool ran_ = false;
  bool dispatcher_due_ = false;
  int lwp_slots_used_ = 0;
  std::vector<std::pair<std::string, LwpSlot>> named_slots_;  // lwp_slot(owner)
  Outcome outcome_ = Outcome::pass;
  std::string message_;
  std::string failure_lwp_;
  std::string failure_op_;
  SimAlgorithm* algo_ = nullptr;
  Outside* outside_ = nullptr;
  std::uint64_t invariants_step_ = 0;  // step of the last quiescence check
  bool invariants_ran_ = false;
  void* main_stack_lo_ = nullptr;  // only known under ASan
  std::size_t main_stack_size_ = 0;
};

// Marks the calling daemon lwp busy for its scope: the piece of work between
// two waits for new work (a reply to deliver, a forced unmount to finish, a
// scan of memory). Outside any scope a daemon counts as idle, and the run
// may end (unwinding it) whenever it blocks. Nests; a no-op outside an lwp.
class DaemonWork {
 public:
  explicit DaemonWork(Machine& m) : lwp_(m.in_lwp() ? &m.current() : nullptr) {
    if (lwp_ != nullptr) ++lwp_->busy;
  }
  ~DaemonWork() {
    if (lwp_ != nullptr) --lwp_->busy;
  }
  DaemonWork(const DaemonWork&) = delete;
  DaemonWork& operator=(const DaemonWork&) = delete;

 private:
  Lwp* lwp_;
};

// The failure half of VFSIM_KASSERT, out of line and cold: the message is
// built only here, so the code that checks keeps a small frame.
template <typename Msg>
[[noreturn, gnu::cold, gnu::noinline]] void kassert_failed(Machine& m, const char* cond,
                                                           const Msg& msg, const char* file,
                                                           int line) {
  m.panic(kassert_message(cond, msg(), file, line));
}

// Kernel assertion: stays on in every build; ends the run as a panic naming
// the place. Use it for invariants of our own code, never for outside data.
#define VFSIM_KASSERT(machine, cond, msg)                                                       \
  do {                                                                                          \
    if (!(cond)) [[unlikely]] {                                                                 \
      ::vfsim::sim::kassert_failed((machine), #cond,                                            \
                                   [&]() -> std::string { return std::string(msg); }, __FILE__, \
                                   __LINE__);                                                   \
    }                                                                                           \
  } while (0)

}  // namespace vfsim::sim
