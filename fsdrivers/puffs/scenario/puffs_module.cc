#include "fsdrivers/puffs/scenario/puffs_module.h"

#include "fsdrivers/puffs/puffs_fstype.h"
#include "vfs/scenario/vfs_state.h"

namespace vfsim::puffs {

namespace sc = scenarios;

namespace {

// Knob -> mount option of make_puffs (puffs_fstype.h).
constexpr std::pair<const char*, const char*> kIntKnobs[] = {
    {"puffs.timeout_ms", "timeout_ms"},
    {"puffs.workers", "workers"},
    {"puffs.rcvbuf_msgs", "rcvbuf_msgs"},
    {"puffs.rcvbuf_bytes", "rcvbuf_bytes"},
    {"puffs.server_latency_us", "server_latency_us"},
    {"puffs.server_crash_at", "server_crash_at"}};

MountOptions options_from(const sc::Config& c) {
  MountOptions o;
  o["transport"] = c.get_string("transport");
  o["size_lock"] = c.get_bool("puffs.size_lock") ? "true" : "false";
  o["reclaim_nlookup"] = c.get_bool("puffs.reclaim_nlookup") ? "true" : "false";
  o["framing"] = c.get_string("puffs.framing");
  const std::int64_t retry = c.get_int("puffs.retry");
  o["retry"] = retry < 0 ? "forever" : std::to_string(retry);
  for (const auto& [knob, opt] : kIntKnobs) o[opt] = std::to_string(c.get_int(knob));
  for (const char* dir : {"req", "reply"}) {
    const std::string& at = c.get_string(std::string("puffs.") + dir + "_drop_at");
    if (!at.empty()) o[std::string(dir) + "_drop_at"] = at;
  }
  return o;
}

sc::OpResult mount_op(sc::OpContext& c, const sc::Args& a) {
  auto& vfs = dynamic_cast<vfs::VfsState&>(c.state_of("vfs"));
  vfs::Kernel& k = vfs.kernel();
  // The VFS knows the type "puffs" (vfs/fstypes.cc, with the machine's pager).
  vfs::Proc& p = vfs.proc(c.machine());
  const std::string& path = a.string("path");
  vn::Status s = k.mkdir(p, path, 0755);
  if (!s.ok() && s.err() != EEXIST) return sc::OpResult::error(s.err());
  const MountOptions o = options_from(c.config());
  s = k.mount(p, "puffs", path, vfs::MountArgs(o.begin(), o.end()));
  return s.ok() ? sc::OpResult::ok() : sc::OpResult::error(s.err());
}

class PuffsState final : public sc::ModuleState {};

class PuffsModule final : public sc::Module {
 public:
  std::string_view name() const override { return "puffs"; }
  std::string_view doc() const override {
    return "memfs served through puffs (p2k) over a simulated socket; the PERFUSE knobs";
  }
  std::vector<sc::KnobSpec> knobs() const override {
    using K = sc::KnobSpec;
    return {
        K::enumeration("transport", "seqpacket", {"seqpacket", "dgram", "stream"},
                       "socket type between the puffs kernel stub and the server"),
        K::boolean("puffs.size_lock", true,
                   "serialise GETATTR replies with size changes (the PERFUSE fix)"),
        K::boolean("puffs.reclaim_nlookup", true,
                   "RECLAIM carries the vnode's lookup count and the server frees a node "
                   "only when the count reaches zero (FUSE's FORGET); false: at once"),
        K::integer("puffs.timeout_ms", 0, "request timeout in virtual ms; 0 = none"),
        K::integer("puffs.retry", 0, "resends after a timeout; -1 = forever"),
        K::integer("puffs.workers", 1, "server worker lwps"),
        K::enumeration("puffs.framing", "naive", {"naive", "reassemble"},
                       "how the server reads a stream: one read = one message, or by length"),
        K::integer("puffs.rcvbuf_msgs", 0, "messages each socket end queues; 0 = any"),
        K::integer("puffs.rcvbuf_bytes", 65536, "bytes each socket end queues"),
        K::integer("puffs.server_latency_us", 0, "virtual time each server op takes"),
        K::string("puffs.req_drop_at", "", "drop these requests, e.g. \"3,5\""),
        K::string("puffs.reply_drop_at", "", "drop these replies, e.g. \"2\""),
        K::integer("puffs.server_crash_at", 0, "the server dies on its n-th request; 0 = never"),
    };
  }
  std::optional<sc::ConfigIssue> validate(const sc::Config& c) const override {
    if (c.get_int("puffs.workers") < 1 || c.get_int("puffs.workers") > 64) {
      return sc::ConfigIssue{"puffs.workers", "must be 1 to 64"};
    }
    if (c.get_int("puffs.retry") < -1) return sc::ConfigIssue{"puffs.retry", "must be -1 or more"};
    if (c.get_int("puffs.retry") != 0 && c.get_int("puffs.timeout_ms") <= 0) {
      return sc::ConfigIssue{"puffs.retry", "needs puffs.timeout_ms > 0"};
    }
    for (const auto& [knob, opt] : kIntKnobs) {
      if (c.get_int(knob) < 0) return sc::ConfigIssue{knob, "must not be negative"};
    }
    return std::nullopt;
  }
  void register_ops(sc::OpRegistry& r) const override {
    r.add({.name = "puffs.mount",
           .doc = "mounts memfs through puffs at path (made if missing), per the puffs knobs",
           .args = {sc::ArgSpec::string("path", "mount point").optional("/puffs")},
           .run = mount_op});
  }
  std::unique_ptr<sc::ModuleState> start(sim::Machine&, const sc::Config&) const override {
    return std::make_unique<PuffsState>();
  }
};

}  // namespace

std::shared_ptr<const scenarios::Module> make_puffs_module() {
  return std::make_shared<PuffsModule>();
}

}  // namespace vfsim::puffs
