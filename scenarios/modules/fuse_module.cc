// The `fuse` scenario module (fuse_module.h).
#include "scenarios/modules/fuse_module.h"

#include <unistd.h>

#include "boot/world.h"
#include "fsdrivers/fuse/fuse_config.h"
#include "sim/host_images.h"
#ifdef VFSIM_HAVE_FUSE
#include "fsdrivers/fuse/fuse_fstype.h"
#endif

namespace vfsim::fuse {

namespace sc = scenarios;

namespace {

// The argv of a call: a JSON array of strings (checked at load).
std::vector<std::string> argv_of(const sc::Args& a) {
  std::vector<std::string> out;
  if (!a.has("argv")) return out;
  for (const auto& v : a.json("argv")) out.push_back(v.get<std::string>());
  return out;
}

std::string literal(const sc::Args& a, std::string_view name) {
  return a.has(name) ? a.string(name) : std::string();
}

std::optional<sc::ArgIssue> check_mount(const sc::Args& a) {
  const std::string fs = literal(a, "fs");
  const std::string exec = literal(a, "exec");
  if (fs.empty() == exec.empty()) {
    return sc::ArgIssue{fs.empty() ? "fs" : "exec", "name exactly one of \"fs\" and \"exec\""};
  }
  if (a.has("argv")) {
    const auto& v = a.json("argv");
    if (!v.is_array()) return sc::ArgIssue{"argv", "expects an array of strings"};
    for (const auto& e : v) {
      if (!e.is_string()) return sc::ArgIssue{"argv", "expects an array of strings"};
    }
  }
#ifndef VFSIM_HAVE_FUSE
  return sc::ArgIssue{fs.empty() ? "exec" : "fs",
                      "this vfsim was built without FUSE (libfuse3-dev was not found)"};
#else
  if (!fs.empty()) {
    if (!has_fs(fs)) {
      return sc::ArgIssue{"fs", "no FUSE file system '" + fs + "' in this vfsim (it has: " +
                                    fs_names() + "; add one with vfsim_add_fuse_fs)"};
    }
    if (std::string r = refuse_args(argv_of(a)); !r.empty()) return sc::ArgIssue{"argv", r};
    return std::nullopt;
  }
  if (exec.front() != '/') return sc::ArgIssue{"exec", "must be an absolute path"};
  if (::access(exec.c_str(), X_OK) != 0) {
    return sc::ArgIssue{"exec", exec + " is not an executable file on this host"};
  }
  return std::nullopt;
#endif
}

std::string caveat_of(const sc::Args& a) {
  const std::string exec = literal(a, "exec");
  if (exec.empty()) return {};
  return "fuse.mount runs " + exec +
         " as a host process: vfsim controls and replays only the kernel side; the daemon's own "
         "threads and timing are not controlled, and a verdict holds for the replies it gave";
}

sc::OpResult mount_op(sc::OpContext& c, const sc::Args& a) {
  boot::World& w = c.world();
  vfs::Kernel& k = w.kernel();
  vfs::Proc* p = k.current_proc();
  VFSIM_KASSERT(c.machine(), p != nullptr, "fuse.mount outside a process");
  const std::string& path = a.string("path");
  vn::Status s = k.mkdir(*p, path, 0755);
  if (!s.ok() && s.err() != EEXIST) return sc::OpResult::error(s.err());
#ifdef VFSIM_HAVE_FUSE
  FuseMountSpec spec;
  spec.fs = literal(a, "fs");
  spec.exec = literal(a, "exec");
  spec.argv = argv_of(a);
  if (const std::string& o = c.config().get_string("fuse.options"); !o.empty()) {
    spec.argv.push_back("-o");
    spec.argv.push_back(o);
  }
  spec.mountpoint = path;
  if (const sim::HostImages* images = c.machine().options().images) {
    spec.cwd = images->resolve(".");
  }
  s = k.mount_with(*p, path, [&w, &spec] {
    return make_fuse(w.env(), w.config().puffs, w.config().fuse, spec);
  });
#else
  s = vn::Status(ENODEV);
#endif
  return s.ok() ? sc::OpResult::ok() : sc::OpResult::error(s.err());
}

class FuseState final : public sc::ModuleState {};

class FuseModule final : public sc::Module {
 public:
  std::string_view name() const override { return "fuse"; }
  std::string_view doc() const override {
    return "FUSE file systems (libfuse daemons in the machine, or host binaries) through the "
           "perfused bridge";
  }
  std::vector<sc::KnobSpec> knobs() const override {
    using K = sc::KnobSpec;
    return {
        K::integer("fuse.workers", 1, "lwps of the FUSE daemon's multi-threaded loop"),
        K::boolean("fuse.size_serialise", true,
                   "the bridge serialises GETATTR against size changes (the PERFUSE fix)"),
        K::boolean("fuse.forget_nlookup", true,
                   "FORGET carries the node's lookup count; false: FORGET(1), historic"),
        K::string("fuse.options", "", "-o options given to every FUSE daemon"),
    };
  }
  std::optional<sc::ConfigIssue> configure(const sc::Config& c,
                                           boot::BootConfig* boot) const override {
    boot->fuse.workers = c.get_int("fuse.workers");
    boot->fuse.size_serialise = c.get_bool("fuse.size_serialise");
    boot->fuse.forget_nlookup = c.get_bool("fuse.forget_nlookup");
    const std::string& o = c.get_string("fuse.options");
    if (std::string r = refuse_args({"-o", o}); !o.empty() && !r.empty()) {
      return sc::ConfigIssue{"fuse.options", r};
    }
    return std::nullopt;
  }
  void register_ops(sc::OpRegistry& r) const override {
    r.add({.name = "fuse.mount",
           .doc = "mounts a FUSE file system at path (made if missing): fs, one linked into "
                  "vfsim, or exec, a libfuse3 binary on the host; argv: its arguments",
           .args = {sc::ArgSpec::string("path", "mount point").optional("/fuse"),
                    sc::ArgSpec::string("fs", "a FUSE file system linked into vfsim").optional(),
                    sc::ArgSpec::string("exec", "an absolute path: a libfuse3 binary on the host")
                        .optional(),
                    sc::ArgSpec::json("argv", "the daemon's arguments (strings)").optional()},
           .run = mount_op,
           .check = check_mount,
           .caveat = caveat_of,
           .process_isolation = true});
  }
  std::unique_ptr<sc::ModuleState> start(sim::Machine&, const sc::Config&,
                                         boot::World&) const override {
    return std::make_unique<FuseState>();
  }
};

}  // namespace

std::shared_ptr<const scenarios::Module> make_fuse_module() {
  return std::make_shared<FuseModule>();
}

}  // namespace vfsim::fuse
