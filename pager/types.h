// Vocabulary of the pager: the page size, the kmem sleep flags, errno values,
// the lwp tags the pager puts on its daemons and the machine configuration
// (one PagerConfig per machine; the scenario module maps knobs onto it).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "sim/errno.h"
#include "sim/machine.h"
#include "sim/types.h"

namespace vfsim::pager {

inline constexpr std::size_t kPageSize = 4096;

// Errors are the kernel's one errno result type (sim/errno.h): kOk or an
// errno, [[nodiscard]]; ignoring one is an explicit `(void)` cast.
using sim::kOk;
using sim::Status;

// What an allocation may do when memory is short (kmem(9)).
enum class Km : std::uint8_t {
  sleep,    // KM_SLEEP: wait until the pagedaemon freed memory
  nosleep,  // KM_NOSLEEP: return null / ENOMEM at once
};
inline constexpr Km KM_SLEEP = Km::sleep;
inline constexpr Km KM_NOSLEEP = Km::nosleep;

// Tags the pager sets on its lwps (sim::Lwp::tags), so that a rule can depend
// on the calling context: "is this the pagedaemon?".
inline constexpr sim::LwpTags kTagPagedaemon = 1u << 0;
inline constexpr sim::LwpTags kTagSyncer = 1u << 1;

// An error a later retry may not see again: the page stays dirty and nothing
// is recorded against the object.
inline bool is_transient(Status e) { return e.err() == ENOMEM || e.err() == EAGAIN; }

struct PagerConfig {
  std::size_t pages = 256;       // physical pages of kPageSize
  std::size_t swap_slots = 256;  // swap area for anonymous (memfs) pages
  std::size_t freemin = 0;       // pagedaemon wakes below this; 0 = pages / 32, at least 4
  std::size_t freetarg = 0;      // and scans until this; 0 = pages / 16, at least 8
  sim::VTime syncer_period = 100 * sim::kMillisecond;  // 0 = no syncer lwp
  bool start_pagedaemon = true;
  // Knob pager.pagedaemon_nosleep: in the pagedaemon's context a KM_SLEEP
  // allocation does not sleep (it fails like KM_NOSLEEP), so a putpages that
  // needs memory fails and is retried later instead of deadlocking.
  bool pagedaemon_nosleep = true;
  // Knob pager.writeback_errors_kept: a putpages error is kept on the object
  // and returned by the next fsync/close. false = the historic msdosfs
  // behaviour: the error is ignored and the page's data dropped.
  bool writeback_errors_kept = true;
  // Fault injection: fail the k-th allocation (1-based, 0 = off) and/or each
  // allocation with probability p (machine RNG).
  std::uint64_t kmem_fail_nth = 0;
  double kmem_fail_p = 0;

  std::size_t freemin_pages() const;
  std::size_t freetarg_pages() const;
};

}  // namespace vfsim::pager
