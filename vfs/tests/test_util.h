// Helpers for the vfs tests: run a body through ukfs and expect a clean run
// (no panic, no leaked vnode), as root or another user.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>

#include "boot/ukfs.h"

namespace vfsim::vfs::testing {

inline void run_ukfs(const std::function<void(ukfs::Ukfs&)>& body,
                     Personality personality = Personality::NetBSD, ukfs::Options o = {}) {
  o.personality = personality;
  auto r = ukfs::run(o, body);
  EXPECT_EQ(r.outcome, sim::Outcome::pass) << r.message;
}

// The errno of a Status or Result (0 on success).
template <class R>
int err(const R& r) {
  return r.err();
}

}  // namespace vfsim::vfs::testing
