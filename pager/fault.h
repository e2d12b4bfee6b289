// Allocation fault injection (SQLite-style out-of-memory testing).
//
// Fault model: any memory allocation the pager performs — kmem_alloc, wiring
// and the allocation of a page-cache page — may fail as if memory were
// exhausted, even a KM_SLEEP one (as if its sleep had been interrupted). It
// fails either as the k-th allocation of the run (`nth`, 1-based) or with
// probability `p` per allocation, decided by the machine's RNG so a seed
// replays the same failures. Why the layers above must survive it: an
// allocation failure in a syscall's context must come back as ENOMEM (or
// ENOSPC) from that syscall; one in the pagedaemon's or the syncer's context
// makes a page-out fail, and the page stays dirty for a later retry. Nothing
// may panic, leak a page or lose written data.
#pragma once

#include <cstdint>

#include "sim/rng.h"

namespace vfsim::pager {

class AllocFaults {
 public:
  AllocFaults(std::uint64_t nth, double p) : nth_(nth), p_(p) {}

  // Counts one allocation; true when it must fail.
  bool should_fail(sim::Rng& rng) {
    ++count_;
    if (nth_ != 0 && count_ == nth_) return true;
    return p_ > 0 && rng.chance(p_);
  }
  std::uint64_t count() const { return count_; }

 private:
  std::uint64_t nth_;
  double p_;
  std::uint64_t count_ = 0;
};

}  // namespace vfsim::pager
