// A physical page and its life cycle.
//
//            alloc for page-in             getpages ok
//   free ───────────────────────▶ busy_in ─────────────▶ clean ◀──────┐
//    ▲ ▲ ▲                         │ getpages error        │ write     │ putpages ok
//    │ │ └─────────────────────────┘                       ▼           │
//    │ │        alloc for a write that needs no old data  dirty ─────▶ busy_out
//    │ └───────────────────────────────────────────────────▶ ▲           │
//    │                                                       └───────────┘ putpages error
//    └── clean / dirty: freed (pagedaemon, truncate, destroy);             (kept or transient)
//        busy_out: the historic msdosfs drop (error ignored, data gone)
//
// Every change goes through state_change(), which asserts the old state, the
// transition and that the caller holds the pager lock. The state, the owner
// fields and the LRU link are guarded by the pager lock (Pager::lock_).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string_view>

#include "sim/types.h"

namespace vfsim::pager {

class PageObject;

enum class PageState : std::uint8_t {
  free,      // on the free list (or used by kmem / wiring); no object
  busy_in,   // in an object, being filled by getpages; contents not valid yet
  clean,     // valid and equal to the backing store; on the LRU queue
  dirty,     // valid and newer than the backing store; on the LRU queue
  busy_out,  // being written by putpages; contents stable, writers wait
};

std::string_view page_state_name(PageState s);
bool page_transition_allowed(PageState from, PageState to);

struct Page {
  std::uint32_t frame = 0;                 // index in the pool; fixed
  std::byte* data = nullptr;               // kPageSize bytes; fixed
  std::uint32_t gen = 0;                   // [lock] bumped on every free: scans detect reuse
  PageState state = PageState::free;       // [lock]
  PageObject* obj = nullptr;               // [lock] owner when not free
  std::uint64_t offset = 0;                // [lock] offset in obj, page aligned
  sim::LwpId busy_owner = sim::kNoLwp;     // [lock] who made it busy
  bool on_lru = false;                     // [lock]
  std::list<std::uint32_t>::iterator lru;  // [lock] valid when on_lru
};

inline bool is_busy(PageState s) { return s == PageState::busy_in || s == PageState::busy_out; }

}  // namespace vfsim::pager
