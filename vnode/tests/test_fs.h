// A file system for the vnode-layer tests: nodes are just keys. Key 1 is the
// root directory, every other key below `nodes` is a regular file. It can be
// told to sleep in loadvnode / inactive / reclaim so that other lwps see the
// transient vcache states, and it counts every call.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "sim/machine.h"
#include "sim/strategy.h"
#include "vnode/vcache.h"
#include "vnode/vnode.h"

namespace vfsim::vn::testing {

struct TestFsCounters {
  int loads = 0, inactives = 0, reclaims = 0;
  std::map<std::uint64_t, bool> recycle_on_inactive;  // per key
  std::map<std::uint64_t, int> live;                  // data attached per key
};

class TestOps final : public VnodeOps {
 public:
  TestOps(TestFsCounters& c, sim::VTime delay) : c_(c), delay_(delay) {}
  Status inactive(Vnode& vp, bool* recycle) override {
    ++c_.inactives;
    if (delay_ != 0) vp.machine().sleep_for(delay_);
    *recycle = c_.recycle_on_inactive[vp.key()];
    return kOk;
  }
  Status reclaim(Vnode& vp) override {
    ++c_.reclaims;
    if (delay_ != 0) vp.machine().sleep_for(delay_);
    --c_.live[vp.key()];
    vp.data = nullptr;
    return kOk;
  }
  Status getattr(Vnode& vp, Vattr* va) override {
    va->type = vp.type;
    va->fileid = vp.key();
    return kOk;
  }

 private:
  TestFsCounters& c_;
  sim::VTime delay_;
};

class TestFs final : public FileSystem {
 public:
  TestFs(TestFsCounters& c, std::uint64_t nodes, sim::VTime delay)
      : c_(c), ops_(c, delay), nodes_(nodes), delay_(delay) {}
  std::string_view type_name() const override { return "testfs"; }
  std::uint64_t root_key() const override { return 1; }
  Status loadvnode(Vnode& vp, std::uint64_t key) override {
    ++c_.loads;
    if (delay_ != 0) vp.machine().sleep_for(delay_);
    if (key == 0 || key >= nodes_) return Status(ENOENT);
    vp.type = key == 1 ? VType::VDIR : VType::VREG;
    vp.op = &ops_;
    vp.data = &c_;
    ++c_.live[key];
    return kOk;
  }
  Status statvfs(StatVfs* out) override {
    out->fstypename = "testfs";
    return kOk;
  }

 private:
  TestFsCounters& c_;
  TestOps ops_;
  std::uint64_t nodes_;
  sim::VTime delay_;
};

// A machine, a vcache and one mounted TestFs, ready for lwps.
struct World {
  explicit World(std::uint64_t seed = 1, std::size_t desired = 100, sim::VTime delay = 0,
                 std::uint64_t nodes = 64, std::string strategy = "random")
      : strat([&] {
          sim::StrategyParams p;
          p.seed = seed;
          auto s = sim::make_strategy(strategy, p);
          s->begin_run(0, seed);
          return s;
        }()),
        machine(
            [&] {
              sim::MachineOptions o;
              o.seed = seed;
              return o;
            }(),
            *strat),
        vcache(machine, desired),
        mount(machine, 1, std::make_unique<TestFs>(counters, nodes, delay)) {
    mount.path = "/";
  }
  TestFsCounters counters;
  std::unique_ptr<sim::Strategy> strat;
  sim::Machine machine;
  Vcache vcache;
  Mount mount;
};

// Runs `body` in one lwp of `w` and expects the run to pass.
inline void run_in_lwp(World& w, const std::function<void()>& body) {
  w.machine.spawn("t", body);
  auto r = w.machine.run();
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

}  // namespace vfsim::vn::testing
