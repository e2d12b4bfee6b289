// The page cache's hot paths against a plain memcpy, in one run:
//  - BM_Memcpy4K: memcpy of 4 KiB (the floor: a cache hit copies this much);
//  - BM_CacheHitRead4K: Pager::read of one cached 4 KiB page (lock, lookup,
//    LRU touch, copy, unlock — two scheduling points);
//  - BM_WritebackCycle4K: write one 4 KiB page (clean -> dirty) and fsync it
//    (dirty -> busy_out -> putpages into an in-memory store -> clean).
// One lwp runs the benchmark loop inside a machine with a started pager and
// no syncer, so the figures are the paths themselves, not daemon wakeups.
// Items are pages, so the ns per item compare directly.
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <vector>

#include "pager/pager.h"
#include "sim/machine.h"
#include "sim/strategy.h"

namespace {

using namespace vfsim;

class MemStore final : public pager::PagerOps {
 public:
  pager::Status getpages(pager::PageObject&, std::uint64_t off, std::span<std::byte> dst) override {
    auto it = pages.find(off);
    if (it == pages.end()) std::memset(dst.data(), 0, dst.size());
    else std::memcpy(dst.data(), it->second.data(), dst.size());
    return pager::kOk;
  }
  pager::Status putpages(pager::PageObject&, std::uint64_t off,
                         std::span<const std::byte> src) override {
    auto& p = pages[off];
    p.resize(src.size());
    std::memcpy(p.data(), src.data(), src.size());
    return pager::kOk;
  }
  std::map<std::uint64_t, std::vector<std::byte>> pages;
};

// Runs `body(pager, obj)` in an lwp of a fresh machine.
template <class Body>
void in_machine(benchmark::State& state, Body body) {
  sim::StrategyParams sp;
  auto strategy = sim::make_strategy("random", sp);
  strategy->begin_run(0, 1);
  sim::MachineOptions o;
  o.step_budget = ~std::uint64_t{0};
  sim::Machine m(o, *strategy);
  MemStore store;
  sim::RunResult r;
  {
    pager::PagerConfig cfg;
    cfg.syncer_period = 0;
    pager::Pager p(m, cfg);
    p.start();
    m.spawn("bench", [&] {
      pager::PageObject& obj = p.create_object("bench file", store);
      body(p, obj);
      (void)p.fsync(obj);
      p.destroy_object(obj);
    });
    r = m.run();
  }
  if (r.failed()) state.SkipWithError(r.message.c_str());
}

void BM_Memcpy4K(benchmark::State& state) {
  std::vector<std::byte> src(pager::kPageSize, std::byte{7}), dst(pager::kPageSize);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), dst.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Memcpy4K);

void BM_CacheHitRead4K(benchmark::State& state) {
  in_machine(state, [&](pager::Pager& p, pager::PageObject& obj) {
    std::vector<std::byte> buf(pager::kPageSize);
    if (!p.read(obj, 0, buf).ok()) state.SkipWithError("first read failed");
    for (auto _ : state) {
      if (!p.read(obj, 0, buf).ok()) state.SkipWithError("read failed");
      benchmark::DoNotOptimize(buf.data());
      benchmark::ClobberMemory();
    }
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheHitRead4K);

void BM_WritebackCycle4K(benchmark::State& state) {
  in_machine(state, [&](pager::Pager& p, pager::PageObject& obj) {
    std::vector<std::byte> page(pager::kPageSize, std::byte{3});
    for (auto _ : state) {
      if (!p.write(obj, 0, page, pager::KM_SLEEP).ok()) state.SkipWithError("write failed");
      if (!p.fsync(obj).ok()) state.SkipWithError("fsync failed");
    }
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WritebackCycle4K);

}  // namespace

BENCHMARK_MAIN();
