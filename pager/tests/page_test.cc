#include "pager/page.h"

#include <gtest/gtest.h>

namespace vfsim::pager {
namespace {

// Exactly the edges drawn in page.h are allowed; everything else is refused.
TEST(PageState, OnlyDrawnTransitionsAreAllowed) {
  using S = PageState;
  const S all[] = {S::free, S::busy_in, S::clean, S::dirty, S::busy_out};
  const std::pair<S, S> drawn[] = {
      {S::free, S::busy_in},   {S::free, S::dirty},    {S::busy_in, S::clean},
      {S::busy_in, S::free},   {S::clean, S::dirty},   {S::clean, S::free},
      {S::dirty, S::busy_out}, {S::dirty, S::free},    {S::busy_out, S::clean},
      {S::busy_out, S::dirty}, {S::busy_out, S::free},
  };
  int allowed = 0;
  for (S a : all) {
    for (S b : all) {
      bool expect = false;
      for (auto [f, t] : drawn) expect = expect || (f == a && t == b);
      EXPECT_EQ(page_transition_allowed(a, b), expect)
          << page_state_name(a) << " -> " << page_state_name(b);
      allowed += page_transition_allowed(a, b) ? 1 : 0;
    }
  }
  EXPECT_EQ(allowed, 11);
}

}  // namespace
}  // namespace vfsim::pager
