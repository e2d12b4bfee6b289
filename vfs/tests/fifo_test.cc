// Fifo tests: every rule of vfs/fifo.h as an errno or a result (ENXIO,
// EAGAIN, EPIPE, end of file, ESPIPE, PIPE_BUF atomicity, blocking opens,
// close waking the other side, the personality's answer to a split write the
// reader leaves, the times read and write mark), then the explorer: a writer
// and a reader moving data through a fifo in every schedule, and two lwps
// each waiting for the other's fifo ending as a failure rather than hanging
// the host.
#include "vfs/fifo.h"

#include <cstdio>
#include <functional>
#include <ostream>
#include <string>

#include "sim/explore.h"
#include "sim/sync.h"
#include "vfs/tests/test_util.h"

namespace vfsim::vfs {
namespace {

using testing::run_ukfs;
using ukfs::Ukfs;

constexpr sim::VTime kPause = sim::kMillisecond;

// run_ukfs with a fifo at /p (mode 0600) made by the ukfs process; the body
// gets the kernel and that process.
void run_with_fifo(const std::function<void(Ukfs&, Kernel&, Proc&)>& body,
                   Personality personality = Personality::NetBSD) {
  run_ukfs(
      [&](Ukfs& fs) {
        ASSERT_TRUE(fs.kernel().mkfifo(fs.proc(), "/p", 0600).ok());
        body(fs, fs.kernel(), fs.proc());
      },
      personality);
}

// The name of what lwp `id` is blocked on, or "" if it is not blocked.
std::string blocked_on(sim::Machine& m, sim::LwpId id) {
  const sim::Lwp* l = m.lwp(id);
  if (l->state != sim::LwpState::blocked || l->waiting_on == nullptr) return "";
  return l->waiting_on->name();
}

// Shows: O_WRONLY|O_NONBLOCK with no reader is ENXIO; O_RDONLY|O_NONBLOCK
// returns at once without a writer, and from then on a non-blocking writer
// may open; the last close frees the fifo's buffer.
TEST(Fifo, NonblockingOpens) {
  run_with_fifo([](Ukfs&, Kernel& k, Proc& p) {
    EXPECT_EQ(k.open(p, "/p", O_WRONLY | O_NONBLOCK).err(), ENXIO);
    EXPECT_EQ(k.fifos().size(), 0u);  // the failed open left nothing behind
    auto r = k.open(p, "/p", O_RDONLY | O_NONBLOCK);
    ASSERT_TRUE(r.ok());
    auto w = k.open(p, "/p", O_WRONLY | O_NONBLOCK);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(k.fifos().size(), 1u);
    EXPECT_TRUE(k.close(p, *r).ok());
    EXPECT_TRUE(k.close(p, *w).ok());
    EXPECT_EQ(k.fifos().size(), 0u);
  });
}

// Shows: read returns what is buffered, up to len; empty with a writer it is
// EAGAIN under O_NONBLOCK; empty with no writer it is end of file (0 bytes),
// both before any writer came and after the last one left.
TEST(Fifo, ReadEagainAndEof) {
  run_with_fifo([](Ukfs&, Kernel& k, Proc& p) {
    auto r = k.open(p, "/p", O_RDONLY | O_NONBLOCK);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*k.read(p, *r, 10), "");   // no writer yet: end of file
    auto w = k.open(p, "/p", O_WRONLY);  // a reader is there: no wait
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(k.read(p, *r, 10).err(), EAGAIN);
    EXPECT_EQ(*k.write(p, *w, "abc"), 3u);
    EXPECT_EQ(*k.read(p, *r, 2), "ab");
    EXPECT_EQ(*k.read(p, *r, 10), "c");
    EXPECT_EQ(*k.read(p, *r, 0), "");
    EXPECT_EQ(k.read(p, *r, 10).err(), EAGAIN);
    ASSERT_TRUE(k.write(p, *w, "tail").ok());
    EXPECT_TRUE(k.close(p, *w).ok());
    EXPECT_EQ(*k.read(p, *r, 10), "tail");  // buffered data outlives the writer
    EXPECT_EQ(*k.read(p, *r, 10), "");      // then end of file
    EXPECT_TRUE(k.close(p, *r).ok());
  });
}

// Shows: a write with no reader left is EPIPE (no SIGPIPE: signals are not
// modelled), whether or not the descriptor is non-blocking.
TEST(Fifo, WriteWithoutReaderIsEpipe) {
  run_with_fifo([](Ukfs&, Kernel& k, Proc& p) {
    auto r = k.open(p, "/p", O_RDONLY | O_NONBLOCK);
    ASSERT_TRUE(r.ok());
    auto w = k.open(p, "/p", O_WRONLY);
    auto wn = k.open(p, "/p", O_WRONLY | O_NONBLOCK);
    ASSERT_TRUE(w.ok() && wn.ok());
    EXPECT_EQ(*k.write(p, *w, "x"), 1u);
    EXPECT_TRUE(k.close(p, *r).ok());
    EXPECT_EQ(k.write(p, *w, "y").err(), EPIPE);
    EXPECT_EQ(k.write(p, *wn, "y").err(), EPIPE);
    EXPECT_EQ(k.write(p, *w, std::string(10000, 'z')).err(), EPIPE);
    EXPECT_TRUE(k.close(p, *w).ok());
    EXPECT_TRUE(k.close(p, *wn).ok());
  });
}

// Shows: pread, pwrite and lseek on a fifo are ESPIPE; ftruncate is EINVAL;
// read needs a descriptor open for reading (EBADF).
TEST(Fifo, NoSeekingOrTruncating) {
  run_with_fifo([](Ukfs&, Kernel& k, Proc& p) {
    auto rw = k.open(p, "/p", O_RDWR);
    ASSERT_TRUE(rw.ok());
    EXPECT_EQ(k.pread(p, *rw, 1, 0).err(), ESPIPE);
    EXPECT_EQ(k.pwrite(p, *rw, "x", 0).err(), ESPIPE);
    EXPECT_EQ(k.lseek(p, *rw, 0, SEEK_CUR).err(), ESPIPE);
    EXPECT_EQ(k.ftruncate(p, *rw, 0).err(), EINVAL);
    auto w = k.open(p, "/p", O_WRONLY);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(k.read(p, *w, 1).err(), EBADF);
    EXPECT_TRUE(k.close(p, *w).ok());
    EXPECT_TRUE(k.close(p, *rw).ok());
  });
}

// Shows: with O_NONBLOCK a write of at most PIPE_BUF bytes goes in whole or
// is EAGAIN; a longer one writes what fits and is EAGAIN only when nothing
// fits; the buffer holds kFifoCapacity (4096) bytes. NetBSD's PIPE_BUF: 512.
TEST(Fifo, NonblockingWritesAndCapacity) {
  run_with_fifo([](Ukfs&, Kernel& k, Proc& p) {
    auto rw = k.open(p, "/p", O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(rw.ok());
    EXPECT_EQ(*k.write(p, *rw, std::string(4000, 'a')), 4000u);
    EXPECT_EQ(k.write(p, *rw, std::string(200, 'b')).err(), EAGAIN);  // atomic, 96 free
    EXPECT_EQ(*k.write(p, *rw, std::string(1000, 'c')), 96u);         // > PIPE_BUF: split
    EXPECT_EQ(k.write(p, *rw, "d").err(), EAGAIN);                    // full
    auto all = k.read(p, *rw, 10000);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, std::string(4000, 'a') + std::string(96, 'c'));
    EXPECT_EQ(k.read(p, *rw, 1).err(), EAGAIN);  // empty; this descriptor is a writer
    EXPECT_TRUE(k.close(p, *rw).ok());
  });
}

// Shows: the last close discards what the fifo still buffers: a new open
// finds it empty.
TEST(Fifo, LastCloseDiscardsData) {
  run_with_fifo([](Ukfs&, Kernel& k, Proc& p) {
    auto rw = k.open(p, "/p", O_RDWR);
    ASSERT_TRUE(rw.ok());
    ASSERT_TRUE(k.write(p, *rw, "lost").ok());
    EXPECT_TRUE(k.close(p, *rw).ok());
    EXPECT_EQ(k.fifos().size(), 0u);
    rw = k.open(p, "/p", O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(rw.ok());
    EXPECT_EQ(k.read(p, *rw, 10).err(), EAGAIN);
    EXPECT_TRUE(k.close(p, *rw).ok());
  });
}

// Shows: O_RDONLY without O_NONBLOCK waits in open, on the CondVar
// "fifo /p read", until a writer opens; the writer's open returns at once
// because a reader is there. O_RDWR never waits.
TEST(Fifo, ReaderOpenWaitsForAWriter) {
  run_with_fifo([](Ukfs& fs, Kernel& k, Proc& p) {
    auto& m = fs.machine();
    auto rw = k.open(p, "/p", O_RDWR);  // alone, and it returns
    ASSERT_TRUE(rw.ok());
    EXPECT_TRUE(k.close(p, *rw).ok());
    Proc& rp = fs.new_process("reader", vn::Cred{});
    int rfd = -1;
    auto reader = m.spawn("reader", [&] {
      auto fd = k.open(rp, "/p", O_RDONLY);
      ASSERT_TRUE(fd.ok());
      rfd = *fd;
    });
    m.sleep_for(kPause);
    EXPECT_EQ(blocked_on(m, reader), "fifo /p read");
    auto w = k.open(p, "/p", O_WRONLY);
    ASSERT_TRUE(w.ok());
    m.join(reader);
    ASSERT_GE(rfd, 0);
    ASSERT_TRUE(k.write(p, *w, "hi").ok());
    EXPECT_EQ(*k.read(rp, rfd, 10), "hi");
    EXPECT_TRUE(k.close(p, *w).ok());
    EXPECT_TRUE(k.close(rp, rfd).ok());
  });
}

// Shows: O_WRONLY without O_NONBLOCK waits on "fifo /p write" until a
// reader opens.
TEST(Fifo, WriterOpenWaitsForAReader) {
  run_with_fifo([](Ukfs& fs, Kernel& k, Proc& p) {
    auto& m = fs.machine();
    Proc& wp = fs.new_process("writer", vn::Cred{});
    int wfd = -1;
    auto writer = m.spawn("writer", [&] {
      auto fd = k.open(wp, "/p", O_WRONLY);
      ASSERT_TRUE(fd.ok());
      wfd = *fd;
    });
    m.sleep_for(kPause);
    EXPECT_EQ(blocked_on(m, writer), "fifo /p write");
    auto r = k.open(p, "/p", O_RDONLY | O_NONBLOCK);
    ASSERT_TRUE(r.ok());
    m.join(writer);
    ASSERT_GE(wfd, 0);
    EXPECT_TRUE(k.close(wp, wfd).ok());
    EXPECT_TRUE(k.close(p, *r).ok());
  });
}

// Shows: a reader waiting in open is released by a writer's open even if
// that writer closes before the reader runs again (no lost wakeup); the
// reader then sees end of file.
TEST(Fifo, WriterThatCameAndWentReleasesTheReader) {
  run_with_fifo([](Ukfs& fs, Kernel& k, Proc& p) {
    auto& m = fs.machine();
    Proc& rp = fs.new_process("reader", vn::Cred{});
    std::string got = "unset";
    auto reader = m.spawn("reader", [&] {
      auto fd = k.open(rp, "/p", O_RDONLY);
      ASSERT_TRUE(fd.ok());
      got = *k.read(rp, *fd, 10);
      EXPECT_TRUE(k.close(rp, *fd).ok());
    });
    m.sleep_for(kPause);
    auto w = k.open(p, "/p", O_WRONLY | O_NONBLOCK);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(k.close(p, *w).ok());
    m.join(reader);
    EXPECT_EQ(got, "");
  });
}

// Shows: close wakes the other side: a reader blocked in read on an empty
// fifo returns end of file when the last writer closes; a writer blocked
// part way through a long write gets EPIPE when the last reader closes.
TEST(Fifo, CloseWakesBlockedReaderAndWriter) {
  run_with_fifo([](Ukfs& fs, Kernel& k, Proc& p) {
    auto& m = fs.machine();
    Proc& other = fs.new_process("other", vn::Cred{});
    // A reader blocked in read, then the writer leaves.
    int rfd = -1;
    std::string got = "unset";
    auto reader = m.spawn("reader", [&] {
      auto fd = k.open(other, "/p", O_RDONLY);
      ASSERT_TRUE(fd.ok());
      rfd = *fd;
      got = *k.read(other, rfd, 10);
    });
    auto w = k.open(p, "/p", O_WRONLY);
    ASSERT_TRUE(w.ok());
    m.sleep_for(kPause);
    EXPECT_EQ(blocked_on(m, reader), "fifo /p read");
    EXPECT_TRUE(k.close(p, *w).ok());
    m.join(reader);
    EXPECT_EQ(got, "");
    // A writer blocked part way (more than the buffer holds), then the
    // reader leaves.
    ASSERT_GE(rfd, 0);
    w = k.open(p, "/p", O_WRONLY);
    ASSERT_TRUE(w.ok());
    int err = -1;
    auto writer = m.spawn("writer", [&] { err = k.write(p, *w, std::string(5000, 'x')).err(); });
    m.sleep_for(kPause);
    EXPECT_EQ(blocked_on(m, writer), "fifo /p write");
    EXPECT_TRUE(k.close(other, rfd).ok());
    m.join(writer);
    EXPECT_EQ(err, EPIPE);
    EXPECT_TRUE(k.close(p, *w).ok());
  });
}

// Shows: when the last reader leaves while a long write (5000 bytes, more
// than PIPE_BUF under both personalities) waits for room after putting 4096
// bytes in, NetBSD answers EPIPE and Linux the 4096 bytes written, a short
// write; a long write that waits on a full fifo before anything went in is
// EPIPE under both.
TEST(Fifo, SplitWriteTheReaderLeaves) {
  for (const Personality pers : {Personality::NetBSD, Personality::Linux}) {
    SCOPED_TRACE(std::string(personality_name(pers)));
    run_with_fifo(
        [pers](Ukfs& fs, Kernel& k, Proc& p) {
          auto& m = fs.machine();
          Proc& rp = fs.new_process("reader", vn::Cred{});
          // Writes 5000 bytes from its own lwp; the reader leaves while it waits.
          auto write_until_reader_leaves = [&](int rfd, int wfd) {
            int err = -1;
            std::size_t wrote = 0;
            auto writer = m.spawn("writer", [&] {
              auto r = k.write(p, wfd, std::string(5000, 'x'));
              err = r.err();
              if (r.ok()) wrote = *r;
            });
            m.sleep_for(kPause);
            EXPECT_EQ(blocked_on(m, writer), "fifo /p write");
            EXPECT_TRUE(k.close(rp, rfd).ok());
            m.join(writer);
            return std::make_pair(err, wrote);
          };
          // Bytes went in: the personality decides.
          auto r = k.open(rp, "/p", O_RDONLY | O_NONBLOCK);
          auto w = k.open(p, "/p", O_WRONLY);
          ASSERT_TRUE(r.ok() && w.ok());
          const auto [err, wrote] = write_until_reader_leaves(*r, *w);
          if (pers == Personality::NetBSD) {
            EXPECT_EQ(err, EPIPE);
          } else {
            EXPECT_EQ(err, 0);
            EXPECT_EQ(wrote, kFifoCapacity);  // short: 4096 of 5000
          }
          EXPECT_TRUE(k.close(p, *w).ok());
          // Nothing went in (the fifo was full): EPIPE under both.
          r = k.open(rp, "/p", O_RDONLY | O_NONBLOCK);
          w = k.open(p, "/p", O_WRONLY);
          ASSERT_TRUE(r.ok() && w.ok());
          ASSERT_EQ(*k.write(p, *w, std::string(kFifoCapacity, 'f')), kFifoCapacity);
          const auto [err_full, wrote_full] = write_until_reader_leaves(*r, *w);
          EXPECT_EQ(err_full, EPIPE);
          EXPECT_EQ(wrote_full, 0u);
          EXPECT_TRUE(k.close(p, *w).ok());
        },
        pers);
  }
}

// A fifo's times as stat(2) reports them.
struct Times {
  sim::VTime atime = 0, mtime = 0, ctime = 0;
  bool operator==(const Times&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Times& t) {
  return os << "{atime " << t.atime << ", mtime " << t.mtime << ", ctime " << t.ctime << "}";
}

Times times_of(Kernel& k, Proc& p, std::string_view path) {
  auto st = k.stat(p, path);
  EXPECT_TRUE(st.ok()) << path;
  return st.ok() ? Times{st->atime, st->mtime, st->ctime} : Times{};
}

// Shows: a read of more than zero bytes from a fifo sets st_atime to the
// virtual clock's time and leaves st_mtime and st_ctime (POSIX marks the
// access alone), as stat and fstat both report; a read at end of file, an
// EAGAIN read and a read of zero bytes mark nothing. The clock moves
// (sleep_for) between steps, so a stale or extra mark shows.
TEST(FifoTimes, ReadMarksAtime) {
  run_with_fifo([](Ukfs& fs, Kernel& k, Proc& p) {
    auto& m = fs.machine();
    auto r = k.open(p, "/p", O_RDONLY | O_NONBLOCK);
    ASSERT_TRUE(r.ok());
    m.sleep_for(kPause);
    const Times made = times_of(k, p, "/p");
    EXPECT_EQ(*k.read(p, *r, 10), "");  // no writer: end of file
    auto w = k.open(p, "/p", O_WRONLY);
    ASSERT_TRUE(w.ok());
    m.sleep_for(kPause);
    EXPECT_EQ(k.read(p, *r, 10).err(), EAGAIN);
    EXPECT_EQ(*k.read(p, *r, 0), "");
    EXPECT_EQ(times_of(k, p, "/p"), made);
    ASSERT_EQ(*k.write(p, *w, "abc"), 3u);
    const Times written = times_of(k, p, "/p");
    m.sleep_for(kPause);
    EXPECT_EQ(*k.read(p, *r, 2), "ab");
    const sim::VTime read_at = m.now();
    const Times after = times_of(k, p, "/p");
    EXPECT_GT(read_at, written.mtime);
    EXPECT_EQ(after, (Times{read_at, written.mtime, written.ctime}));
    auto st = k.fstat(p, *r);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ((Times{st->atime, st->mtime, st->ctime}), after);
    EXPECT_TRUE(k.close(p, *w).ok());
    m.sleep_for(kPause);
    EXPECT_EQ(*k.read(p, *r, 10), "c");  // what the writer left still marks
    const sim::VTime last_read_at = m.now();
    EXPECT_EQ(times_of(k, p, "/p").atime, last_read_at);
    m.sleep_for(kPause);
    EXPECT_EQ(*k.read(p, *r, 10), "");  // end of file after the writer left
    EXPECT_EQ(times_of(k, p, "/p"), (Times{last_read_at, written.mtime, written.ctime}));
    EXPECT_TRUE(k.close(p, *r).ok());
  });
}

// Shows: a write of more than zero bytes to a fifo sets st_mtime and
// st_ctime to the virtual clock's time and leaves st_atime, as stat and
// fstat both report, whether it went in whole or split (a non-blocking long
// write taking what fits); a write of zero bytes, an EAGAIN write (the fifo
// is full) and an EPIPE write (no reader) mark nothing.
TEST(FifoTimes, WriteMarksMtimeAndCtime) {
  run_with_fifo([](Ukfs& fs, Kernel& k, Proc& p) {
    auto& m = fs.machine();
    auto r = k.open(p, "/p", O_RDONLY | O_NONBLOCK);
    auto w = k.open(p, "/p", O_WRONLY | O_NONBLOCK);
    ASSERT_TRUE(r.ok() && w.ok());
    m.sleep_for(kPause);
    const Times made = times_of(k, p, "/p");
    EXPECT_EQ(*k.write(p, *w, ""), 0u);
    EXPECT_EQ(times_of(k, p, "/p"), made);
    ASSERT_EQ(*k.write(p, *w, std::string(4000, 'a')), 4000u);
    const sim::VTime first_write_at = m.now();
    EXPECT_GT(first_write_at, made.mtime);
    EXPECT_EQ(times_of(k, p, "/p"), (Times{made.atime, first_write_at, first_write_at}));
    m.sleep_for(kPause);
    ASSERT_EQ(*k.write(p, *w, std::string(1000, 'b')), 96u);  // > PIPE_BUF: what fits
    const sim::VTime split_write_at = m.now();
    const Times full = times_of(k, p, "/p");
    EXPECT_EQ(full, (Times{made.atime, split_write_at, split_write_at}));
    auto st = k.fstat(p, *w);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ((Times{st->atime, st->mtime, st->ctime}), full);
    m.sleep_for(kPause);
    EXPECT_EQ(k.write(p, *w, "c").err(), EAGAIN);                     // full
    EXPECT_EQ(k.write(p, *w, std::string(1000, 'c')).err(), EAGAIN);  // nothing fits
    EXPECT_EQ(*k.write(p, *w, ""), 0u);
    EXPECT_EQ(times_of(k, p, "/p"), full);
    EXPECT_TRUE(k.close(p, *r).ok());
    EXPECT_EQ(k.write(p, *w, "d").err(), EPIPE);
    EXPECT_EQ(times_of(k, p, "/p"), full);
    EXPECT_TRUE(k.close(p, *w).ok());
  });
}

// --- under the explorer ---------------------------------------------------

// Data of `n` bytes that shows its position: a lost or reordered byte breaks
// the comparison.
std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (seed + i) % 26);
  return s;
}

// A writer lwp opens the fifo O_WRONLY and writes chunks of 1, 300, 512
// (NetBSD's PIPE_BUF: atomic), 700, 5000 (more than the buffer) and 2 bytes,
// then closes; a reader lwp opens O_RDONLY and reads 777 bytes at a time
// until end of file. Both opens wait for each other; the bytes must arrive
// whole and in order, and the fifo and every vnode be gone at the end.
sim::RunResult writer_reader(const sim::MachineOptions& o, sim::Strategy& s) {
  return ukfs::run({}, o, s, [](Ukfs& fs) {
    Kernel& k = fs.kernel();
    sim::Machine& m = fs.machine();
    if (!k.mkfifo(fs.proc(), "/p", 0600).ok()) m.panic("mkfifo");
    std::string sent;
    std::string received;
    Proc& wp = k.proc_create("writer", vn::Cred{});
    Proc& rp = k.proc_create("reader", vn::Cred{});
    auto writer = m.spawn("writer", [&] {
      auto fd = k.open(wp, "/p", O_WRONLY);
      VFSIM_KASSERT(m, fd.ok(), "writer open: errno " + std::to_string(fd.err()));
      char c = 0;
      for (std::size_t n : {1, 300, 512, 700, 5000, 2}) {
        const std::string chunk = pattern(n, c++);
        auto wrote = k.write(wp, *fd, chunk);
        VFSIM_KASSERT(m, wrote.ok() && *wrote == n, "short or failed write of a chunk");
        sent += chunk;
      }
      VFSIM_KASSERT(m, k.close(wp, *fd).ok(), "writer close");
    });
    auto reader = m.spawn("reader", [&] {
      auto fd = k.open(rp, "/p", O_RDONLY);
      VFSIM_KASSERT(m, fd.ok(), "reader open: errno " + std::to_string(fd.err()));
      for (;;) {
        auto got = k.read(rp, *fd, 777);
        VFSIM_KASSERT(m, got.ok(), "read: errno " + std::to_string(got.err()));
        if (got->empty()) break;
        received += *got;
      }
      VFSIM_KASSERT(m, k.close(rp, *fd).ok(), "reader close");
    });
    m.join(writer);
    m.join(reader);
    VFSIM_KASSERT(m, received == sent,
                  "received " + std::to_string(received.size()) + " bytes of " +
                      std::to_string(sent.size()) + ", or out of order");
    VFSIM_KASSERT(m, k.fifos().size() == 0, "fifo left after both closed");
  });
}

// Shows: 1,000 random and 1,000 PCT schedules of a writer and a reader on
// one fifo: the bytes arrive complete and in order in every one, with no
// deadlock, hang or leak, and a replayed schedule gives the same trace.
TEST(FifoConcurrency, WriterReaderEverySchedule) {
  for (const char* strategy : {"random", "pct"}) {
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 1000;
    eo.seed = 512;
    eo.check_determinism = true;  // every 50th schedule replayed: the same trace
    eo.determinism_sample = 50;
    auto summary = sim::explore(writer_reader, eo);
    ASSERT_EQ(summary.outcome, sim::Outcome::pass)
        << strategy << ": " << (summary.first_failure ? summary.first_failure->message : "");
    EXPECT_EQ(summary.schedules_explored, 1000u);
    EXPECT_TRUE(summary.determinism_errors.empty()) << summary.determinism_errors.front();
    std::printf("fifo writer/reader, %s: %.0f schedules/s, at most %llu steps\n", strategy,
                summary.schedules_per_second, static_cast<unsigned long long>(summary.max_steps));
  }
}

// Two lwps, each opening for reading a fifo that only the other would then
// open for writing: /a's reader waits for /b's reader to get past its open,
// and the other way round.
sim::RunResult cross_open(const sim::MachineOptions& o, sim::Strategy& s) {
  return ukfs::run({}, o, s, [](Ukfs& fs) {
    Kernel& k = fs.kernel();
    sim::Machine& m = fs.machine();
    if (!k.mkfifo(fs.proc(), "/a", 0600).ok() || !k.mkfifo(fs.proc(), "/b", 0600).ok()) {
      m.panic("mkfifo");
    }
    Proc& p1 = k.proc_create("p1", vn::Cred{});
    Proc& p2 = k.proc_create("p2", vn::Cred{});
    auto l1 = m.spawn("one", [&] {
      auto r = k.open(p1, "/a", O_RDONLY);
      auto w = k.open(p1, "/b", O_WRONLY);
      if (r.ok()) (void)k.close(p1, *r);
      if (w.ok()) (void)k.close(p1, *w);
    });
    auto l2 = m.spawn("two", [&] {
      auto r = k.open(p2, "/b", O_RDONLY);
      auto w = k.open(p2, "/a", O_WRONLY);
      if (r.ok()) (void)k.close(p2, *r);
      if (w.ok()) (void)k.close(p2, *w);
    });
    m.join(l1);
    m.join(l2);
  });
}

// Shows: the two-fifo cross open ends every explored schedule as a failure
// (deadlock or hang) whose report names the fifo waits, instead of hanging
// the host; the machine unwinds both lwps cleanly.
TEST(FifoConcurrency, CrossOpenFailsInEverySchedule) {
  for (const char* strategy : {"random", "pct"}) {
    int runs = 0;
    int stuck = 0;
    std::string example;
    auto run = [&](const sim::MachineOptions& o, sim::Strategy& s) {
      sim::RunResult r = cross_open(o, s);
      ++runs;
      if (r.outcome == sim::Outcome::deadlock || r.outcome == sim::Outcome::hang) {
        ++stuck;
        if (r.message.find("fifo /a read") != std::string::npos &&
            r.message.find("fifo /b read") != std::string::npos) {
          example = r.message;
        }
      }
      return r;
    };
    sim::ExploreOptions eo;
    eo.strategy = strategy;
    eo.schedules = 200;
    eo.seed = 2;
    eo.keep_going = true;
    auto summary = sim::explore(run, eo);
    // The explorer runs the first failure once more, keeping its trace.
    EXPECT_GE(runs, 200) << strategy;
    EXPECT_EQ(stuck, runs) << strategy << ": a schedule ended otherwise";
    EXPECT_EQ(summary.schedules_explored, 200u) << strategy;
    EXPECT_EQ(summary.failures, 200u) << strategy;
    EXPECT_FALSE(example.empty()) << strategy << ": no report named both fifo waits";
  }
}

}  // namespace
}  // namespace vfsim::vfs
