// Helpers for the pager tests: a machine with a started pager, a fake
// backing store, and byte patterns.
#pragma once

#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pager/pager.h"
#include "sim/machine.h"
#include "sim/strategy.h"

namespace vfsim::pager::testing {

// A PagerOps over an in-memory map of pages. Knobs make it behave like the
// backends the pager must survive: a puffs-like one whose putpages needs a
// message from kmem, an msdosfs-like one that runs out of space on extension,
// and one that fails transiently.
class FakeBackend final : public PagerOps {
 public:
  explicit FakeBackend(Pager& p) : pager_(p) {}

  // putpages allocates a message with KM_SLEEP first, as the puffs kernel
  // stub does (it may sleep: a syscall's context can wait for memory; the
  // pager makes it NOSLEEP in the pagedaemon when pagedaemon_nosleep is on).
  bool putpages_needs_kmem = false;
  // putpages of a page not stored yet fails with ENOSPC once this many are
  // stored (msdosfs extending a file on a full volume).
  std::size_t capacity_pages = std::numeric_limits<std::size_t>::max();
  // While true every putpages fails with this transient error.
  Status transient_error;

  std::map<std::uint64_t, std::vector<std::byte>> store;
  std::uint64_t getpages_calls = 0;
  std::uint64_t putpages_calls = 0;

  Status getpages(PageObject&, std::uint64_t off, std::span<std::byte> dst) override {
    ++getpages_calls;
    auto it = store.find(off);
    if (it == store.end()) {
      std::memset(dst.data(), 0, dst.size());
    } else {
      std::memcpy(dst.data(), it->second.data(), dst.size());
    }
    return kOk;
  }

  Status putpages(PageObject&, std::uint64_t off, std::span<const std::byte> src) override {
    ++putpages_calls;
    KmemBlock msg;
    if (putpages_needs_kmem) {
      msg = pager_.kmem_alloc(kPageSize, KM_SLEEP);  // the request message; see above
      if (!msg) return Status(ENOMEM);
    }
    if (!transient_error.ok()) return transient_error;
    if (!store.contains(off) && store.size() >= capacity_pages) return Status(ENOSPC);
    store[off].assign(src.begin(), src.end());
    if (msg) pager_.kmem_free(msg);
    return kOk;
  }

 private:
  Pager& pager_;
};

// One page of a recognisable pattern: byte i is (seed + i * 7) mod 251.
inline std::vector<std::byte> pattern(std::uint64_t seed, std::size_t len = kPageSize) {
  std::vector<std::byte> v(len);
  for (std::size_t i = 0; i < len; ++i) v[i] = std::byte((seed + i * 7) % 251);
  return v;
}

// A machine with a pager, started; `setup` spawns the lwps.
struct Rig {
  explicit Rig(PagerConfig cfg, std::uint64_t seed = 1, bool keep_trace = false,
               std::string strategy = "random") {
    sim::StrategyParams sp;
    sp.seed = seed;
    strat = sim::make_strategy(strategy, sp);
    strat->begin_run(0, seed);
    sim::MachineOptions o;
    o.seed = seed;
    o.keep_trace = keep_trace;
    machine = std::make_unique<sim::Machine>(o, *strat);
    pager = std::make_unique<Pager>(*machine, cfg);
    pager->start();
  }
  ~Rig() {
    pager.reset();  // before the machine its primitives belong to
    machine.reset();
  }
  sim::RunResult run() { return machine->run(); }

  std::unique_ptr<sim::Strategy> strat;
  std::unique_ptr<sim::Machine> machine;
  std::unique_ptr<Pager> pager;
};

inline bool trace_has(const sim::RunResult& r, const std::string& kind, const std::string& text) {
  for (const auto& e : r.events) {
    if (e.kind == kind && e.detail.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace vfsim::pager::testing
