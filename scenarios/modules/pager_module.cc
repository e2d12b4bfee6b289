// The `pager` scenario module; see pager_module.h.
#include "scenarios/modules/pager_module.h"

#include <map>
#include <string>

#include "boot/world.h"
#include "pager/pager.h"
#include "scenarios/modules/fake_fs.h"

namespace vfsim::pager {

namespace sc = scenarios;

namespace {

constexpr const char* kPages = "pager.pages";
constexpr const char* kSwap = "pager.swap_slots";
constexpr const char* kFreemin = "pager.freemin";
constexpr const char* kFreetarg = "pager.freetarg";
constexpr const char* kSyncer = "pager.syncer_period_ms";
constexpr const char* kNosleep = "pager.pagedaemon_nosleep";
constexpr const char* kKept = "pager.writeback_errors_kept";
constexpr const char* kFailNth = "pager.kmem_fail_nth";
constexpr const char* kFailP = "pager.kmem_fail_p";

// Per run: the fake files the scenario made on the World's pager.
class PagerModuleState final : public sc::ModuleState {
 public:
  struct Fake {
    std::unique_ptr<FakeMessageFs> fs;
    PageObject* obj = nullptr;
  };
  explicit PagerModuleState(Pager* p) : pager(p) {}
  std::map<std::string, Fake, std::less<>> fakes;
  Pager* const pager;  // the machine's, or null (pager.pages 0)

  void stop(sim::Machine&) override {
    for (auto& [name, f] : fakes) pager->destroy_object(*f.obj);
    fakes.clear();
  }
};

// The machine's pager, or null when the scenario has none (pager.pages 0).
Pager* find_pager(sc::OpContext& c) { return c.world().pager(); }

// The PagerConfig the knobs describe, or nothing when pager.pages is 0.
std::optional<PagerConfig> pager_config_from(const sc::Config& config) {
  if (!config.has(kPages) || config.get_int(kPages) == 0) return std::nullopt;
  PagerConfig c;
  c.pages = static_cast<std::size_t>(config.get_int(kPages));
  c.swap_slots = static_cast<std::size_t>(config.get_int(kSwap));
  c.freemin = static_cast<std::size_t>(config.get_int(kFreemin));
  c.freetarg = static_cast<std::size_t>(config.get_int(kFreetarg));
  c.syncer_period = static_cast<sim::VTime>(config.get_int(kSyncer)) * sim::kMillisecond;
  c.pagedaemon_nosleep = config.get_bool(kNosleep);
  c.writeback_errors_kept = config.get_bool(kKept);
  c.kmem_fail_nth = static_cast<std::uint64_t>(config.get_int(kFailNth));
  c.kmem_fail_p = config.get(kFailP).get<double>();
  return c;
}

sc::OpResult stats_record(const Pager& p) {
  const PagerStats s = p.stats();
  nlohmann::json r = {
      {"total", s.total},
      {"free", s.free},
      {"cache", s.cache},
      {"kmem", s.kmem},
      {"wired", s.wired},
      {"dirty", s.dirty},
      {"swap_used", s.swap_used},
      {"anon_pages", s.anon_pages},
      {"allocations", s.allocations},
      {"alloc_failures", s.alloc_failures},
      {"pageouts", s.pageouts},
      {"pageout_errors", s.pageout_errors},
      {"scans", s.scans},
      {"fruitless_scans", s.fruitless_scans},
      {"writeback_errors", s.writeback_errors},
      {"writeback_dropped", s.writeback_dropped},
  };
  return sc::OpResult::with_record(static_cast<std::int64_t>(s.free), std::move(r));
}

sc::OpResult errno_result(Status e) {
  return e.ok() ? sc::OpResult::ok() : sc::OpResult::error(e.err());
}

void register_memory_ops(sc::OpRegistry& r) {
  r.add({.name = "pager.stats",
         .doc = "the pager's counters as a record (free, cache, kmem, wired, dirty, ...); "
                "value: free pages",
         .args = {},
         .run = [](sc::OpContext& c, const sc::Args&) {
           Pager* p = find_pager(c);
           return p == nullptr ? sc::OpResult::error(ENXIO) : stats_record(*p);
         }});
  r.add({.name = "pager.wire",
         .doc = "takes pages of memory away (mlock-like); ENOMEM when not available",
         .args = {sc::ArgSpec::integer("pages", "how many"),
                  sc::ArgSpec::boolean("sleep", "wait for memory (KM_SLEEP)").optional(false)},
         .run = [](sc::OpContext& c, const sc::Args& a) {
           Pager* p = find_pager(c);
           if (p == nullptr) return sc::OpResult::error(ENXIO);
           if (a.integer("pages") < 0) return sc::OpResult::error(EINVAL);
           // The scenario says whether this caller may wait for memory.
           return errno_result(p->wire(static_cast<std::size_t>(a.integer("pages")),
                                       a.boolean("sleep") ? KM_SLEEP : KM_NOSLEEP));
         }});
  r.add({.name = "pager.unwire",
         .doc = "gives wired pages back",
         .args = {sc::ArgSpec::integer("pages", "how many")},
         .run = [](sc::OpContext& c, const sc::Args& a) {
           Pager* p = find_pager(c);
           if (p == nullptr) return sc::OpResult::error(ENXIO);
           if (a.integer("pages") < 0 ||
               static_cast<std::size_t>(a.integer("pages")) > p->stats().wired) {
             return sc::OpResult::error(EINVAL);
           }
           p->unwire(static_cast<std::size_t>(a.integer("pages")));
           return sc::OpResult::ok();
         }});
}

void register_fake_ops(sc::OpRegistry& r) {
  r.add({.name = "pager.fake_create",
         .doc = "a file of the fake fs whose putpages allocates a KM_SLEEP message of "
                "message_pages pages (0: a plain fs)",
         .args = {sc::ArgSpec::string("name", "the file's name"),
                  sc::ArgSpec::integer("message_pages", "message size in pages").optional(8)},
         .run = [](sc::OpContext& c, const sc::Args& a) {
           Pager* p = find_pager(c);
           auto& st = c.state<PagerModuleState>();
           if (p == nullptr) return sc::OpResult::error(ENXIO);
           if (st.fakes.contains(a.string("name"))) return sc::OpResult::error(EEXIST);
           if (a.integer("message_pages") < 0) return sc::OpResult::error(EINVAL);
           PagerModuleState::Fake f;
           f.fs = std::make_unique<FakeMessageFs>(
               *p, static_cast<std::size_t>(a.integer("message_pages")) * kPageSize);
           f.obj = &p->create_object("fake " + a.string("name"), *f.fs);
           st.fakes.emplace(a.string("name"), std::move(f));
           return sc::OpResult::ok();
         }});
  r.add({.name = "pager.fake_write",
         .doc = "writes `pages` whole pages from page `first` of a fake file (dirty pages)",
         .args = {sc::ArgSpec::string("name", "the file"),
                  sc::ArgSpec::integer("pages", "how many pages"),
                  sc::ArgSpec::integer("first", "first page").optional(0)},
         .run = [](sc::OpContext& c, const sc::Args& a) {
           auto& st = c.state<PagerModuleState>();
           auto it = st.fakes.find(a.string("name"));
           if (it == st.fakes.end() || a.integer("pages") < 0 || a.integer("first") < 0)
             return sc::OpResult::error(it == st.fakes.end() ? ENOENT : EINVAL);
           std::vector<std::byte> page(kPageSize, std::byte{0x5a});
           for (std::int64_t i = 0; i < a.integer("pages"); ++i) {
             const auto off = static_cast<std::uint64_t>(a.integer("first") + i) * kPageSize;
             // A syscall's context: may wait for the pagedaemon.
             const Status e = st.pager->write(*it->second.obj, off, page, KM_SLEEP);
             if (!e.ok()) return sc::OpResult::error(e.err());
           }
           return sc::OpResult::ok(a.integer("pages"));
         }});
  r.add({.name = "pager.fake_fsync",
         .doc = "puts every dirty page of a fake file; value: pages stored by its fs",
         .args = {sc::ArgSpec::string("name", "the file")},
         .run = [](sc::OpContext& c, const sc::Args& a) {
           auto& st = c.state<PagerModuleState>();
           auto it = st.fakes.find(a.string("name"));
           if (it == st.fakes.end()) return sc::OpResult::error(ENOENT);
           const Status e = st.pager->fsync(*it->second.obj);
           if (!e.ok()) return sc::OpResult::error(e.err());
           return sc::OpResult::ok(static_cast<std::int64_t>(it->second.fs->stored_pages()));
         }});
}

class PagerModule final : public sc::Module {
 public:
  std::string_view name() const override { return "pager"; }
  std::string_view doc() const override {
    return "physical memory, kmem, page cache, swap, syncer and pagedaemon";
  }
  std::vector<sc::KnobSpec> knobs() const override {
    return {
        sc::KnobSpec::integer(kPages, 0, "physical pages of 4 KiB (0: no memory model)"),
        sc::KnobSpec::integer(kSwap, 256, "swap slots for memfs pages"),
        sc::KnobSpec::integer(kFreemin, 0, "pagedaemon wakes below this many free pages (0: auto)"),
        sc::KnobSpec::integer(kFreetarg, 0, "pagedaemon frees up to this many (0: auto)"),
        sc::KnobSpec::integer(kSyncer, 100, "syncer period in virtual ms (0: no syncer)"),
        sc::KnobSpec::boolean(kNosleep, true,
                              "KM_SLEEP does not sleep in the pagedaemon's context (PERFUSE fix)"),
        sc::KnobSpec::boolean(kKept, true,
                              "write-back errors are kept for fsync/close; false: ignored and "
                              "the data dropped (msdosfs before 1.53)"),
        sc::KnobSpec::integer(kFailNth, 0, "fail the k-th memory allocation (0: never)"),
        sc::KnobSpec::json(kFailP, 0, "fail each memory allocation with this probability"),
    };
  }
  // The knobs into BootConfig::pager (none when pager.pages is 0); the
  // thresholds' relations are BootConfig::check's.
  std::optional<sc::ConfigIssue> configure(const sc::Config& config,
                                           boot::BootConfig* boot) const override {
    for (const char* key : {kPages, kSwap, kFreemin, kFreetarg, kSyncer, kFailNth}) {
      if (config.get_int(key) < 0) return sc::ConfigIssue{key, "must not be negative"};
    }
    const auto& p = config.get(kFailP);
    if (!p.is_number() || p.get<double>() < 0 || p.get<double>() > 1) {
      return sc::ConfigIssue{kFailP, "must be a number from 0 to 1"};
    }
    if (config.get_int(kPages) > 1 << 20) return sc::ConfigIssue{kPages, "at most 1048576"};
    if (config.get_int(kPages) == 0) {
      // No memory model: a threshold given anyway would be silently ignored.
      for (const char* key : {kFreemin, kFreetarg}) {
        if (config.get_int(key) != 0) {
          return sc::ConfigIssue{key, "must be at most pager.pages (0: no memory model)"};
        }
      }
    }
    boot->pager = pager_config_from(config);
    return std::nullopt;
  }
  void register_ops(sc::OpRegistry& r) const override {
    register_memory_ops(r);
    register_fake_ops(r);
  }
  std::unique_ptr<sc::ModuleState> start(sim::Machine&, const sc::Config&,
                                         boot::World& world) const override {
    return std::make_unique<PagerModuleState>(world.pager());
  }
};

}  // namespace

std::shared_ptr<const sc::Module> make_pager_module() { return std::make_shared<PagerModule>(); }

}  // namespace vfsim::pager
