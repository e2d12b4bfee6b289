// How runs of foreign code are kept apart.
//
// libfuse and a FUSE file system keep globals (libfuse's context key and
// its reference count; an example's `static struct options`, lookup
// counters, an is_stop flag). Two runs in one process would otherwise see
// each other's leftovers, and one seed could give two traces.
//
// The rule: every writable byte of the foreign code is reset to its image
// at process start before a machine starts its first FUSE daemon. The
// build (cmake/vfsim_fuse.cmake) moves the .data, .data.rel.local and .bss
// sections of the rewritten libfuse and of every file system compiled by
// vfsim_add_fuse_fs into two sections of their own, vfsim_fuse_data and
// vfsim_fuse_bss, whose bounds the linker provides (__start_/__stop_). The
// first daemon of the process copies both ranges aside (after static
// initialisation, before any foreign code ran in a machine) and every later
// first-daemon-of-a-machine copies them back: a run sees exactly what a fresh
// process would. What foreign code did to the C library (the environment,
// stdio buffers, a locale, host fds it left open) and heap blocks of a run
// that was killed mid-way are not undone: the latter leak, the former must
// not matter to a file system that is tested here.
//
// Heap blocks the foreign code still holds when a machine's last daemon is
// gone are freed then (foreign_track below).
//
// Because the state is the process's, one machine at a time may run FUSE
// daemons in a process, and one daemon of a given file system at a time:
// `explore --jobs N` runs FUSE scenarios in N processes, not N threads, and
// a second machine asking meanwhile is refused with one line. This module is
// the one place in vfsim with process-wide bookkeeping, because what it
// guards is process-wide.
#pragma once

#include <string>
#include <string_view>

#include "sim/machine.h"

namespace vfsim::fuse {

// Claims the foreign state for machine `m` and file system `fs`; the first
// claim of a machine restores the initial image. "" or a one-line refusal.
std::string claim_foreign_state(sim::Machine& m, std::string_view fs);
// Gives a claim back (a daemon is destroyed).
void release_foreign_state(sim::Machine& m, std::string_view fs);
// Bytes under snapshot (0 when nothing foreign is linked).
std::size_t foreign_state_bytes();

// The foreign heap: blocks the foreign code allocated (C's malloc family,
// through the shim) while a daemon ran, and has not freed. When the last
// daemon of the machine is gone they are freed, as a process's memory goes
// when it exits: a run that ended with its daemon killed mid-request, or a
// file system that never frees what it keeps in a global, leaks nothing
// into the next run. (C++ operator new is not tracked: libstdc++'s own code
// frees such blocks behind the shim's back.)
void* foreign_track(void* p);  // returns p
void foreign_untrack(void* p);
std::size_t foreign_heap_blocks();

// The receive buffers of the daemons' worker lwps (libfuse's are 1 MiB and
// 4 KiB): taken when a worker starts, given back when it ends (or is
// unwound), and kept for the process's next daemons rather than allocated
// and freed in every run, where glibc consolidated its whole heap around
// each of them. Memory only: libfuse reads only the bytes a read returned,
// so what a buffer held in an earlier run is never seen.
void* take_receive_buffer(std::size_t size);
void give_receive_buffer(void* p, std::size_t size);

}  // namespace vfsim::fuse
