// Pager construction, the daemons' start, the calling context, object
// creation and destruction, page state changes and the accounting checks.
#include "pager/pager.h"

#include <algorithm>

namespace vfsim::pager {

std::size_t PagerConfig::freemin_pages() const {
  return freemin != 0 ? freemin : std::max<std::size_t>(4, pages / 32);
}

std::size_t PagerConfig::freetarg_pages() const {
  return freetarg != 0 ? freetarg : std::max<std::size_t>(8, pages / 16);
}

Pager::Pager(sim::Machine& m, PagerConfig cfg)
    : m_(m),
      cfg_(cfg),
      freemin_(cfg.freemin_pages()),
      freetarg_(std::max(cfg.freetarg_pages(), cfg.freemin_pages())),
      lock_(m, "pager"),
      mem_chan_(m, "free memory"),
      pd_chan_(m, "pagedaemon"),
      syncer_chan_(m, "syncer"),
      phys_(cfg.pages),
      swap_(cfg.swap_slots),
      faults_(cfg.kmem_fail_nth, cfg.kmem_fail_p),
      // tmpfs-like limit: anonymous data may fill memory, less the
      // pagedaemon's target so it can always make room, plus swap.
      anon_limit_(cfg.pages > freetarg_ ? cfg.pages - freetarg_ + cfg.swap_slots : cfg.swap_slots) {
  m_.add_invariant("pager accounting", [this] { return check(); });
  m_.add_leak_check("pager", [this] {
    std::vector<std::string> leaked;
    if (kmem_bytes_ != 0) leaked.push_back(std::to_string(kmem_bytes_) + " kmem bytes");
    if (phys_.wired_count() != 0)
      leaked.push_back(std::to_string(phys_.wired_count()) + " wired pages");
    for (const auto& [id, obj] : objects_) {
      leaked.push_back("page object '" + obj->name() + "' (" +
                       std::to_string(obj->resident_pages()) + " pages)");
    }
    return leaked;
  });
}

Pager::~Pager() = default;

void Pager::start() {
  VFSIM_KASSERT(m_, pagedaemon_ == sim::kNoLwp && syncer_ == sim::kNoLwp, "pager started twice");
  if (cfg_.start_pagedaemon) {
    pagedaemon_ = m_.spawn(
        "pagedaemon", [this] { pagedaemon_main(); }, true, kTagPagedaemon);
    // Only the pagedaemon frees memory for sleeping allocators.
    mem_chan_.add_waker(pagedaemon_);
  }
  if (cfg_.syncer_period != 0) {
    syncer_ = m_.spawn(
        "syncer", [this] { syncer_main(); }, true, kTagSyncer);
  }
}

bool Pager::in_pagedaemon() const {
  return m_.in_lwp() && (m_.lwps()[m_.current_id()]->tags & kTagPagedaemon) != 0;
}

PageObject& Pager::create_object(std::string name, PagerOps& ops, void* cookie) {
  const std::uint64_t id = next_object_++;
  auto obj = std::unique_ptr<PageObject>(new PageObject(m_, id, std::move(name), &ops, cookie));
  PageObject& ref = *obj;
  objects_.emplace(id, std::move(obj));
  return ref;
}

PageObject& Pager::create_anon_object(std::string name, void* cookie) {
  const std::uint64_t id = next_object_++;
  auto obj = std::unique_ptr<PageObject>(new PageObject(m_, id, std::move(name), nullptr, cookie));
  PageObject& ref = *obj;
  objects_.emplace(id, std::move(obj));
  return ref;
}

void Pager::destroy_object(PageObject& obj) {
  PagerLock g(*this);
  VFSIM_KASSERT(m_, !obj.dying_, "page object '" + obj.name() + "' destroyed twice");
  obj.dying_ = true;
  while (obj.holds_ != 0 || has_busy_locked(obj, 0)) obj.busy_chan_->sleep(lock_, "objdestroy");
  if (obj.dirty_ != 0) {
    m_.event("pager",
             "discarding " + std::to_string(obj.dirty_) + " dirty pages of '" + obj.name() + "'");
  }
  while (!obj.pages_.empty()) drop_offset_locked(obj, obj.pages_.begin()->first);
  while (!obj.swap_slots_.empty()) drop_offset_locked(obj, obj.swap_slots_.begin()->first);
  VFSIM_KASSERT(m_, obj.dirty_ == 0, "dirty count of a destroyed object");
  objects_.erase(obj.id());
}

std::size_t PageObject::data_pages() const {
  std::size_t n = pages_.size();
  for (const auto& [off, slot] : swap_slots_) n += pages_.contains(off) ? 0 : 1;
  return n;
}

bool Pager::has_busy_locked(const PageObject& obj, std::uint64_t from) const {
  for (auto it = obj.pages_.lower_bound(from); it != obj.pages_.end(); ++it) {
    if (is_busy(phys_.page(it->second).state)) return true;
  }
  return false;
}

// The one place a page changes state; keeps the dirty counts with it.
void Pager::state_change(Page& pg, PageState from, PageState to) {
  VFSIM_KASSERT(m_, lock_.held_by_me() || m_.killing(), "page state change without the pager lock");
  VFSIM_KASSERT(m_, pg.state == from,
                "page " + std::to_string(pg.frame) + " is " +
                    std::string(page_state_name(pg.state)) + ", expected " +
                    std::string(page_state_name(from)));
  VFSIM_KASSERT(m_, page_transition_allowed(from, to),
                "page transition " + std::string(page_state_name(from)) + " -> " +
                    std::string(page_state_name(to)));
  VFSIM_KASSERT(m_, pg.obj != nullptr, "page without object");
  const std::size_t backed = pg.obj->anonymous() ? 0 : 1;
  if (from == PageState::dirty) {
    --pg.obj->dirty_;
    --dirty_total_;
    dirty_backed_ -= backed;
  }
  if (to == PageState::dirty) {
    ++pg.obj->dirty_;
    ++dirty_total_;
    dirty_backed_ += backed;
  }
  pg.state = to;
}

PagerStats Pager::stats() const {
  PagerStats s = st_;
  s.total = phys_.total();
  s.free = phys_.free_count();
  s.cache = phys_.cache_count();
  s.kmem = phys_.kmem_count();
  s.wired = phys_.wired_count();
  s.dirty = dirty_total_;
  s.swap_used = swap_.used();
  s.swap_total = swap_.total();
  s.anon_pages = anon_pages_;
  s.anon_limit = anon_limit_;
  s.allocations = faults_.count();
  return s;
}

std::string Pager::check() const {
  std::string err = phys_.check();
  if (!err.empty()) return err;
  std::size_t in_objects = 0, dirty = 0, slots = 0;
  for (const auto& [id, obj] : objects_) {
    in_objects += obj->pages_.size();
    dirty += obj->dirty_;
    slots += obj->swap_slots_.size();
  }
  if (in_objects != phys_.cache_count()) {
    return "objects hold " + std::to_string(in_objects) + " pages, cache count is " +
           std::to_string(phys_.cache_count());
  }
  if (dirty != dirty_total_) return "dirty counts disagree";
  if (dirty_backed_ > dirty_total_) return "dirty backed pages exceed dirty pages";
  if (slots != swap_.used()) return "swap slots in objects disagree with the swap area";
  if (anon_pages_ > anon_limit_) return "anonymous pages exceed memory + swap";
  const std::size_t kmem_frames = (kmem_bytes_ + kPageSize - 1) / kPageSize;
  if (kmem_frames != phys_.kmem_count()) return "kmem bytes and kmem pages disagree";
  return "";
}

}  // namespace vfsim::pager
