// Helpers for the ext2 driver tests: run a body against an ext2 image file
// mounted as "/" of a fresh machine through the VFS, as ukfs does, with the
// clock started at a fixed date (e2fsck rejects times in the future and the
// image's own times are from 2020).
#pragma once

#include <functional>
#include <string>

#include "boot/world.h"
#include "fsdrivers/ext2/ext2.h"
#include "sim/machine.h"
#include "sim/strategy.h"
#include "vfs/kernel.h"

namespace vfsim::ext2drv::test {

inline constexpr sim::VTime kStartTime = 1'700'000'000 * sim::kSecond;

struct ImageRun {
  std::string image;
  vfs::MountArgs extra;  // more mount options (faults, ro)
  std::uint64_t seed = 1;
  std::string strategy = "random";
  bool keep_trace = false;
};

inline ImageRun image_run(std::string image, vfs::MountArgs extra = {}) {
  ImageRun r;
  r.image = std::move(image);
  r.extra = std::move(extra);
  return r;
}

struct ImageRunResult {
  sim::RunResult run;
  int mount_err = 0;         // errno of a refused mount (the body did not run)
  std::string mount_reason;  // the driver's one-line reason
};

using Body = std::function<void(vfs::Kernel&, vfs::Proc&)>;

// Mounts run.image and runs body in an lwp; then closes everything,
// unmounts (which writes the image back) and checks for leaked vnodes.
inline ImageRunResult run_on_image(const ImageRun& run, const Body& body) {
  sim::StrategyParams params;
  params.seed = run.seed;
  auto strategy = sim::make_strategy(run.strategy, params);
  strategy->begin_run(0, run.seed);
  sim::MachineOptions mo;
  mo.seed = run.seed;
  mo.keep_trace = true;  // the mount reason is a trace event
  sim::Machine m(mo, *strategy);
  boot::BootConfig bc;
  bc.root_type = "ext2";
  bc.root_args = run.extra;
  bc.root_args["image"] = run.image;
  boot::World w(m, std::move(bc));
  vfs::Kernel& k = w.kernel();
  ImageRunResult out;
  m.spawn("test", [&] {
    m.sleep_for(kStartTime);
    vn::Status s = w.mount_root();
    if (!s.ok()) {
      out.mount_err = s.err();
      return;
    }
    vfs::Proc& p = k.proc_create("test", vn::Cred{});
    k.attach_current_lwp(p);
    body(k, p);
    auto unexplained = k.unexplained_references();
    if (!unexplained.empty()) m.fail(sim::Outcome::leak, unexplained.front());
    s = k.shutdown();
    if (!s.ok()) m.fail(sim::Outcome::expectation, "unmount: errno " + std::to_string(s.err()));
  });
  out.run = m.run();
  for (const sim::TraceEvent& e : out.run.events) {
    if (e.kind == "ext2_mount") out.mount_reason = e.detail;
  }
  if (!run.keep_trace) out.run.events.clear();
  return out;
}

}  // namespace vfsim::ext2drv::test
