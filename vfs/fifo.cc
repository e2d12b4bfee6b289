// Fifos: the rules are in fifo.h.
#include "vfs/fifo.h"

#include <algorithm>

namespace vfsim::vfs {

// One open fifo. [t] changed only between scheduling points (the table's
// rule); [l] Fifo::lock.
struct FifoTable::Fifo {
  Fifo(sim::Machine& m, Key k, const std::string& name)
      : key(k), lock(m, name), readable(m, name + " read"), writable(m, name + " write") {}

  const Key key;
  std::uint32_t users = 0;  // [t] open files on it + opens in progress; freed at 0
  sim::Mutex lock;
  sim::CondVar readable;      // readers wait here: data, end of file, a writer's open
  sim::CondVar writable;      // writers wait here: room, no reader left, a reader's open
  std::uint32_t readers = 0;  // [l] open for reading (O_RDONLY, O_RDWR)
  std::uint32_t writers = 0;  // [l] open for writing (O_WRONLY, O_RDWR)
  // [l] Opens for reading / writing so far: a blocking open of the other
  // side waits for one of these to move (or for the count to be non-zero).
  std::uint64_t reader_opens = 0;
  std::uint64_t writer_opens = 0;
  std::string buf;  // [l] written and not yet read, oldest first; at most kFifoCapacity
};

FifoTable::FifoTable(sim::Machine& m) : machine_(m) {}

FifoTable::~FifoTable() = default;

FifoTable::Key FifoTable::key_of(const vn::Vnode& vp) { return {vp.mount().id(), vp.key()}; }

FifoTable::Fifo& FifoTable::hold(const vn::Vnode& vp, std::string_view path) {
  const Key key = key_of(vp);
  auto it = fifos_.find(key);
  if (it == fifos_.end()) {
    auto f = std::make_unique<Fifo>(machine_, key, "fifo " + std::string(path));
    it = fifos_.emplace(key, std::move(f)).first;
  }
  ++it->second->users;
  return *it->second;
}

void FifoTable::drop(Fifo& f) {
  VFSIM_KASSERT(machine_, f.users > 0, "fifo '" + f.lock.name() + "' dropped with no users");
  if (--f.users > 0) return;
  // No open file and no open(2) refers to it, so nothing waits here: every
  // waiter is one of those.
  VFSIM_KASSERT(machine_,
                !f.lock.held() && f.lock.waiters().empty() && f.readable.waiters().empty() &&
                    f.writable.waiters().empty(),
                "fifo '" + f.lock.name() + "' freed while in use");
  fifos_.erase(f.key);
}

FifoTable::Fifo& FifoTable::find(const vn::Vnode& vp) {
  auto it = fifos_.find(key_of(vp));
  VFSIM_KASSERT(machine_, it != fifos_.end() && it->second->users > 0,
                "I/O on fifo " + vp.describe() + " that is not open");
  return *it->second;
}

bool FifoTable::contains(const vn::Vnode& vp) const { return fifos_.count(key_of(vp)) != 0; }

Status FifoTable::open(const vn::Vnode& vp, std::string_view path, int fflags, bool nonblock) {
  const bool rd = (fflags & vn::kFRead) != 0;
  const bool wr = (fflags & vn::kFWrite) != 0;
  VFSIM_KASSERT(machine_, rd || wr, "fifo open with neither read nor write");
  Fifo& f = hold(vp, path);
  Status s = vn::kOk;
  try {
    sim::MutexGuard guard(f.lock);
    s = open_locked(f, rd, wr, nonblock);
  } catch (...) {
    drop(f);  // the run is ending (LwpKilled, a panic): leave the table consistent
    throw;
  }
  if (!s.ok()) drop(f);
  return s;
}

Status FifoTable::open_locked(Fifo& f, bool rd, bool wr, bool nonblock) {
  if (wr && !rd && nonblock && f.readers == 0) return Status(ENXIO);
  if (rd) {
    ++f.reader_opens;
    if (f.readers++ == 0) f.writable.broadcast();
  }
  if (wr) {
    ++f.writer_opens;
    if (f.writers++ == 0) f.readable.broadcast();
  }
  if (nonblock || (rd && wr)) return vn::kOk;
  try {
    if (rd) {
      const std::uint64_t seen = f.writer_opens;
      while (f.writers == 0 && f.writer_opens == seen) f.readable.wait(f.lock);
    } else {
      const std::uint64_t seen = f.reader_opens;
      while (f.readers == 0 && f.reader_opens == seen) f.writable.wait(f.lock);
    }
  } catch (...) {
    // Unwound out of the wait: this open never happened.
    if (rd) --f.readers;
    if (wr) --f.writers;
    throw;
  }
  return vn::kOk;
}

void FifoTable::close(const vn::Vnode& vp, int fflags) {
  Fifo& f = find(vp);
  {
    sim::MutexGuard guard(f.lock);
    if ((fflags & vn::kFRead) != 0) {
      VFSIM_KASSERT(machine_, f.readers > 0, "fifo '" + f.lock.name() + "' reader count");
      if (--f.readers == 0) f.writable.broadcast();  // writers see EPIPE
    }
    if ((fflags & vn::kFWrite) != 0) {
      VFSIM_KASSERT(machine_, f.writers > 0, "fifo '" + f.lock.name() + "' writer count");
      if (--f.writers == 0) f.readable.broadcast();  // readers see end of file
    }
    // POSIX: when every descriptor is closed the data is discarded, even if
    // an open(2) already holds the entry.
    if (f.readers == 0 && f.writers == 0) f.buf.clear();
  }
  drop(f);
}

Result<std::string> FifoTable::read(const vn::Vnode& vp, std::size_t len, bool nonblock) {
  if (len == 0) return std::string();
  Fifo& f = find(vp);
  sim::MutexGuard guard(f.lock);
  while (f.buf.empty()) {
    if (f.writers == 0) return std::string();  // end of file
    if (nonblock) return Status(EAGAIN);
    f.readable.wait(f.lock);
  }
  const std::size_t n = std::min(len, f.buf.size());
  std::string out = f.buf.substr(0, n);
  f.buf.erase(0, n);
  f.writable.broadcast();
  return out;
}

Result<std::size_t> FifoTable::write(const vn::Vnode& vp, std::string_view data, bool nonblock,
                                     const PersonalityRules& rules) {
  const std::size_t pipe_buf = rules.pipe_buf;
  VFSIM_KASSERT(machine_, pipe_buf > 0 && pipe_buf <= kFifoCapacity,
                "PIPE_BUF larger than a fifo's buffer");
  Fifo& f = find(vp);
  sim::MutexGuard guard(f.lock);
  // At most PIPE_BUF bytes go in whole; a longer write takes what fits.
  const bool atomic = data.size() <= pipe_buf;
  std::size_t done = 0;
  for (;;) {
    if (f.readers == 0) {
      // Bytes already in mean a split write that waited for room: an atomic
      // one goes in at once, and a non-blocking one returned after its part.
      VFSIM_KASSERT(machine_, done == 0 || (!atomic && !nonblock),
                    "fifo '" + f.lock.name() + "': bytes in from a write that was not split");
      if (done > 0 && rules.fifo_split_write_short_on_epipe) return done;
      return Status(EPIPE);
    }
    const std::size_t left = data.size() - done;
    const std::size_t room = kFifoCapacity - f.buf.size();
    if (left == 0) return done;
    if (room >= (atomic ? left : 1)) {
      const std::size_t n = std::min(left, room);
      f.buf.append(data.substr(done, n));
      done += n;
      f.readable.broadcast();
      if (done == data.size() || nonblock) return done;
      continue;
    }
    // A non-blocking write returned as soon as it wrote something: nothing fits.
    if (nonblock) return Status(EAGAIN);
    f.writable.wait(f.lock);
  }
}

std::string FifoTable::check_invariants() const {
  for (const auto& [key, f] : fifos_) {
    const std::string& name = f->lock.name();
    if (f->key != key) return name + ": filed under another key";
    if (f->users == 0) return name + ": kept with no users";
    if (f->readers > f->users || f->writers > f->users) {
      return name + ": more readers or writers than users";
    }
    if (f->buf.size() > kFifoCapacity) return name + ": buffers more than its capacity";
  }
  return "";
}

std::vector<std::string> FifoTable::leaked() const {
  std::vector<std::string> out;
  for (const auto& [key, f] : fifos_) {
    out.push_back(f->lock.name() + " (m" + std::to_string(key.first) + ":" +
                  std::to_string(key.second) + ") still open: " + std::to_string(f->users) +
                  " users, " + std::to_string(f->buf.size()) + " bytes buffered");
  }
  return out;
}

}  // namespace vfsim::vfs
