// Fifos (named pipes) as NetBSD's fifofs serves them, POSIX where it speaks.
// The data and the reader/writer counts of a fifo live here, in the kernel,
// not in the file system that holds its name: the file system only answers
// lookup, stat and VOP_OPEN / VOP_CLOSE for the node.
//
//   open   O_RDONLY waits until a writer has opened it since the call began
//          (at once if one has it open); O_WRONLY waits the same way for a
//          reader; O_NONBLOCK never waits, and O_WRONLY|O_NONBLOCK without a
//          reader is ENXIO. O_RDWR never waits and counts as both.
//   read   what is buffered, up to len; empty with a writer: waits (EAGAIN
//          with O_NONBLOCK); empty without one: 0 bytes, end of file.
//   write  no reader: EPIPE (SIGPIPE is not modelled: there are no signals).
//          At most PIPE_BUF bytes (the personality's) go in at once or not
//          at all; a longer write may be split and wait part way, and if the
//          last reader leaves then, after some bytes went in, the answer is
//          the personality's: EPIPE (NetBSD) or those bytes, a short write
//          (Linux). O_NONBLOCK: what fits, EAGAIN if nothing.
//   close  the last reader wakes writers (EPIPE), the last writer wakes
//          readers (end of file); the last close of all frees the fifo and
//          discards what it still buffers.
//   times  a read(2) of more than zero bytes marks st_atime alone, a write(2)
//          of more than zero bytes st_mtime and st_ctime (POSIX); zero bytes,
//          EAGAIN or an error mark nothing. The times are the file system's:
//          read(2) and write(2) set them with VOP_SETATTR after this table
//          returned (vfs/syscalls_file.cc), so never under the fifo mutex.
//
// A reader's open waits for a writer's *open*, not for a writer to be open
// when it looks again: a writer that opens and closes before the reader runs
// still releases it (4.4BSD's fifo_open sleeps once for a wakeup; here a
// count of opens makes the same promise without a lost wakeup).
//
// Locks: each fifo has one sim Mutex ("fifo <path>") guarding its fields,
// and two CondVars over it: "fifo <path> read" (readers wait for data, end of
// file or a writer's open) and "fifo <path> write" (writers wait for room,
// EPIPE or a reader's open), like fifofs' fi_rcv / fi_wcv. <path> is the path
// of the open(2) that created the entry. The fifo mutex is a leaf: it is
// never held while taking another lock, and no vnode lock is held while
// waiting on it or its CondVars.
//
// Lifetime: an entry, keyed by (mount id, file-system key), is created by the
// first open and freed when its last user is gone (an open file on it or an
// open(2) in progress). The table itself is only changed between scheduling
// points, so a lookup and the user count it takes are one step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/sync.h"
#include "vfs/personality.h"
#include "vnode/vnode.h"

namespace vfsim::vfs {

using vn::Result;
using vn::Status;

// The bytes a fifo buffers: PIPSIZ (4096), the send and receive space of the
// AF_LOCAL stream socket pair fifofs builds each fifo from (NetBSD
// sys/kern/uipc_usrreq.c, unchanged since 4.4BSD). Linux's pipe buffer is 16
// pages; one number for both personalities keeps a scenario's blocking points
// the same under both. Every PIPE_BUF of the personality table fits in it.
inline constexpr std::size_t kFifoCapacity = 4096;

class FifoTable {
 public:
  explicit FifoTable(sim::Machine& m);
  ~FifoTable();
  FifoTable(const FifoTable&) = delete;
  FifoTable& operator=(const FifoTable&) = delete;

  // open(2)'s part on a referenced, unlocked VFIFO vnode, after the access
  // checks and VOP_OPEN: fflags is vn::kFRead and/or vn::kFWrite. May wait
  // (see the header). On success the caller's open file holds the fifo until
  // close(); ENXIO for a non-blocking writer without a reader.
  [[nodiscard]] Status open(const vn::Vnode& vp, std::string_view path, int fflags, bool nonblock);
  // The open file with these fflags went away.
  void close(const vn::Vnode& vp, int fflags);
  // read(2) / write(2) through an open file on the fifo; `rules` gives
  // PIPE_BUF and the answer to a split write the last reader walks away from.
  [[nodiscard]] Result<std::string> read(const vn::Vnode& vp, std::size_t len, bool nonblock);
  [[nodiscard]] Result<std::size_t> write(const vn::Vnode& vp, std::string_view data, bool nonblock,
                                          const PersonalityRules& rules);

  // Whether the vnode's fifo has an entry (an open file or an open in progress).
  bool contains(const vn::Vnode& vp) const;
  std::size_t size() const { return fifos_.size(); }
  // "" when the table's invariants hold.
  [[nodiscard]] std::string check_invariants() const;
  // One line per entry still in the table: after every process exited there
  // must be none.
  [[nodiscard]] std::vector<std::string> leaked() const;

 private:
  struct Fifo;
  using Key = std::pair<std::uint32_t, std::uint64_t>;  // (mount id, file-system key)
  static Key key_of(const vn::Vnode& vp);
  // The vnode's entry, created if absent, with one more user.
  Fifo& hold(const vn::Vnode& vp, std::string_view path);
  // One user fewer; the last frees the entry. The caller holds no fifo lock.
  void drop(Fifo& f);
  // The entry of a vnode an open file refers to: it exists.
  Fifo& find(const vn::Vnode& vp);
  [[nodiscard]] Status open_locked(Fifo& f, bool rd, bool wr, bool nonblock);

  sim::Machine& machine_;
  std::map<Key, std::unique_ptr<Fifo>> fifos_;
};

}  // namespace vfsim::vfs
