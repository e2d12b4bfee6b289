#include "pager/page.h"

namespace vfsim::pager {

std::string_view page_state_name(PageState s) {
  switch (s) {
    case PageState::free: return "free";
    case PageState::busy_in: return "busy_in";
    case PageState::clean: return "clean";
    case PageState::dirty: return "dirty";
    case PageState::busy_out: return "busy_out";
  }
  return "?";
}

// The edges of the diagram in page.h, and no others.
bool page_transition_allowed(PageState from, PageState to) {
  using S = PageState;
  switch (from) {
    case S::free: return to == S::busy_in || to == S::dirty;
    case S::busy_in: return to == S::clean || to == S::free;
    case S::clean: return to == S::dirty || to == S::free;
    case S::dirty: return to == S::busy_out || to == S::free;
    case S::busy_out: return to == S::clean || to == S::dirty || to == S::free;
  }
  return false;
}

}  // namespace vfsim::pager
