// The `puffs` scenario module (puffs_module.h).
#include "scenarios/modules/puffs_module.h"

#include "boot/world.h"
#include "fsdrivers/puffs/puffs_fstype.h"

namespace vfsim::puffs {

namespace sc = scenarios;

namespace {

std::optional<sc::ConfigIssue> non_negative(const sc::Config& c, const char* knob,
                                            std::uint64_t* out) {
  const std::int64_t v = c.get_int(knob);
  if (v < 0) return sc::ConfigIssue{knob, "must not be negative"};
  *out = static_cast<std::uint64_t>(v);
  return std::nullopt;
}

std::optional<sc::ConfigIssue> message_list(const sc::Config& c, const char* knob,
                                            std::vector<std::uint64_t>* out) {
  auto list = parse_message_list(c.get_string(knob));
  if (!list) {
    return sc::ConfigIssue{
        knob, "expected message numbers from 1 like \"3,5\", got \"" + c.get_string(knob) + "\""};
  }
  *out = std::move(*list);
  return std::nullopt;
}

// The knobs as a typed PuffsConfig: no text in between. The ranges and the
// rules between options are PuffsConfig::check's, the same the mount(2)
// path applies (BootConfig::check runs it and names the knob).
std::optional<sc::ConfigIssue> puffs_config_from(const sc::Config& c, PuffsConfig* out) {
  out->transport = *sim::sock_type_from_name(c.get_string("transport"));
  out->framing = *framing_from_name(c.get_string("puffs.framing"));
  out->size_lock = c.get_bool("puffs.size_lock");
  out->reclaim_nlookup = c.get_bool("puffs.reclaim_nlookup");
  out->retry = c.get_int("puffs.retry");
  out->workers = c.get_int("puffs.workers");
  if (auto bad = non_negative(c, "puffs.timeout_ms", &out->timeout_ms)) return bad;
  if (auto bad = non_negative(c, "puffs.rcvbuf_msgs", &out->rcvbuf_msgs)) return bad;
  if (auto bad = non_negative(c, "puffs.rcvbuf_bytes", &out->rcvbuf_bytes)) return bad;
  if (auto bad = non_negative(c, "puffs.server_latency_us", &out->server_latency_us)) return bad;
  if (auto bad = non_negative(c, "puffs.server_crash_at", &out->server_crash_at)) return bad;
  if (auto bad = message_list(c, "puffs.req_drop_at", &out->req_drop_at)) return bad;
  if (auto bad = message_list(c, "puffs.reply_drop_at", &out->reply_drop_at)) return bad;
  return std::nullopt;
}

// Mounts the BootConfig's puffs configuration (the knobs) at `path`, made if
// missing, as the calling lwp's process. `fs` names the server's backend
// (memfs, or ext2 for an untrusted image mounted by the server, not by the
// kernel) and `options` are the backend's mount options (image=... for
// ext2: relative to the scenario file, a private view per run).
sc::OpResult mount_op(sc::OpContext& c, const sc::Args& a) {
  boot::World& w = c.world();
  vfs::Kernel& k = w.kernel();
  vfs::Proc* p = k.current_proc();  // every scenario lwp runs in a process
  VFSIM_KASSERT(c.machine(), p != nullptr, "puffs.mount outside a process");
  const std::string& path = a.string("path");
  vn::Status s = k.mkdir(*p, path, 0755);
  if (!s.ok() && s.err() != EEXIST) return sc::OpResult::error(s.err());
  PuffsConfig config = w.config().puffs;
  config.backend = a.string("fs");
  const nlohmann::json& o = a.json("options");
  if (!o.is_object()) return sc::OpResult::error(EINVAL);
  for (const auto& [key, v] : o.items()) {
    if (v.is_string()) {
      config.backend_args[key] = v.get<std::string>();
    } else if (v.is_number_integer()) {
      config.backend_args[key] = std::to_string(v.get<std::int64_t>());
    } else {
      return sc::OpResult::error(EINVAL);
    }
  }
  s = k.mount_with(*p, path, [&w, &config] { return make_puffs(w.env(), config); });
  return s.ok() ? sc::OpResult::ok() : sc::OpResult::error(s.err());
}

class PuffsState final : public sc::ModuleState {};

class PuffsModule final : public sc::Module {
 public:
  std::string_view name() const override { return "puffs"; }
  std::string_view doc() const override {
    return "a file system (memfs, or ext2 on an image) served through puffs (p2k) by a userland "
           "server over a simulated socket; the PERFUSE knobs";
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
  std::optional<sc::ConfigIssue> configure(const sc::Config& c,
                                           boot::BootConfig* boot) const override {
    return puffs_config_from(c, &boot->puffs);
  }
  void register_ops(sc::OpRegistry& r) const override {
    r.add({.name = "puffs.mount",
           .doc = "mounts fs (memfs, ext2) through puffs at path (made if missing), per the "
                  "puffs knobs; options are fs's mount options (ext2: image, relative to the "
                  "scenario file)",
           .args = {sc::ArgSpec::string("path", "mount point").optional("/puffs"),
                    sc::ArgSpec::string("fs", "the server's backend file-system type")
                        .optional("memfs"),
                    sc::ArgSpec::json("options", "the backend's mount options")
                        .optional(nlohmann::json::object())},
           .run = mount_op});
  }
  std::unique_ptr<sc::ModuleState> start(sim::Machine&, const sc::Config&,
                                         boot::World&) const override {
    return std::make_unique<PuffsState>();
  }
};

}  // namespace

std::shared_ptr<const scenarios::Module> make_puffs_module() {
  return std::make_shared<PuffsModule>();
}

}  // namespace vfsim::puffs
