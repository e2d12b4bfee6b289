// write(2) through puffs believes the server about how much it wrote, within
// reason: a server that stores fewer bytes than asked makes write(2) return
// that short count (and the file holds exactly those bytes); one that stores
// none and answers an errno makes write(2) return that errno; one that
// answers having stored nothing and no errno is EIO; one whose reply says it
// wrote MORE than asked (or before the offset asked) is a lying reply:
// EPROTO, logged as puffs_bad_reply, never a crash or a count larger than
// the caller's buffer. The server is p2k over memfs with its WRITE op
// wrapped to misbehave; the kernel has no pager, so every write(2) is one
// WRITE request. Each test runs the syscalls and checks count, errno and
// the bytes a read gets back.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

#include "fsdrivers/memfs/memfs.h"
#include "fsdrivers/puffs/p2k.h"
#include "fsdrivers/puffs/puffs_kernel.h"
#include "fsdrivers/puffs/puffs_server.h"
#include "sim/explore.h"
#include "sim/socket.h"
#include "vfs/kernel.h"

namespace vfsim::puffs {
namespace {

enum class Misbehave {
  none,
  store_half,         // stores the first half, says so
  store_none_enospc,  // stores nothing, answers ENOSPC
  store_none_silent,  // stores nothing, answers success at the offset asked
  claim_more,         // stores everything, says it wrote 7 bytes more
  claim_before,       // stores everything, says it ended before the offset
};

// p2k over memfs, every op passed through; WRITE misbehaves as told.
class WriteLiar final : public PuffsOps {
 public:
  WriteLiar(P2k& inner, Misbehave how) : inner_(inner), how_(how) {}
#define VFSIM_PASS(name)                                                           \
  sim::Status name(OpCtx& c, const ArgsOf<PuffsOp::name>& a, Reply* rp) override { \
    return pass(c, a, rp, &P2k::name);                                             \
  }
  VFSIM_PUFFS_OPS(VFSIM_PASS)
#undef VFSIM_PASS

 private:
  // Every op goes to p2k as it came, but WRITE (the only op taking
  // WriteArgs) goes through write_as_told.
  template <class A, class F>
  sim::Status pass(OpCtx& c, const A& a, Reply* rp, F op) {
    return (inner_.*op)(c, a, rp);
  }
  template <class F>
  sim::Status pass(OpCtx& c, const WriteArgs& a, Reply* rp, F) {
    return write_as_told(c, a, rp);
  }
  sim::Status write_as_told(OpCtx& c, const WriteArgs& a, Reply* rp) {
    switch (how_) {
      case Misbehave::none: return inner_.write(c, a, rp);
      case Misbehave::store_half: {
        WriteArgs half = a;
        half.data.resize(a.data.size() / 2);
        return inner_.write(c, half, rp);
      }
      case Misbehave::store_none_enospc: return sim::Status(ENOSPC);
      case Misbehave::store_none_silent: rp->offset = a.offset; return sim::kOk;
      case Misbehave::claim_more: {
        sim::Status s = inner_.write(c, a, rp);
        rp->offset += 7;
        return s;
      }
      case Misbehave::claim_before: {
        sim::Status s = inner_.write(c, a, rp);
        rp->offset = a.offset - 1;
        return s;
      }
    }
    return sim::Status(EIO);
  }
  P2k& inner_;
  Misbehave how_;
};

// What one mount builds; kept until the machine is gone (daemon lwps may
// touch it while a run is unwound).
struct Stack {
  std::unique_ptr<sim::SocketPair> pair;
  std::unique_ptr<P2k> p2k;
  std::unique_ptr<WriteLiar> liar;
  std::unique_ptr<Server> server;
};

// ENOTRECOVERABLE: the write never ran.
struct Outcome {
  sim::RunResult run;
  vn::Result<std::size_t> first = vn::Status(ENOTRECOVERABLE);   // the misbehaving write
  vn::Result<std::size_t> second = vn::Status(ENOTRECOVERABLE);  // a write after it
  std::string contents;                                          // the file read back
};

// Mounts the liar as the root; writes "0123456789" at offset 0 of /f (made
// with "abc" while WRITE behaved: memfs's create, then a first WRITE passes
// through), then "xy" after it, and reads the file back.
Outcome run_case(Misbehave how) {
  Outcome out;
  sim::StrategyParams sp;
  sp.seed = 1;
  auto st = sim::make_strategy("random", sp);
  st->begin_run(0, 1);
  sim::MachineOptions mo;
  mo.seed = 1;
  mo.keep_trace = true;
  sim::Machine m(mo, *st);
  vfs::Kernel k(m, vfs::KernelOptions{});
  auto stack = std::make_shared<Stack>();
  k.register_fs_type(
      "liar",
      [&m, stack, how](const vfs::MountArgs&) -> vn::Result<std::unique_ptr<vn::FileSystem>> {
        sim::SocketOptions so;
        so.name = "puffs";
        stack->pair = std::make_unique<sim::SocketPair>(m, so);
        stack->p2k = std::make_unique<P2k>(m, memfs::make_memfs(m, memfs::MemfsOptions{}));
        stack->liar = std::make_unique<WriteLiar>(*stack->p2k, how);
        stack->server =
            std::make_unique<Server>(m, stack->pair->end(1), *stack->liar, ServerOptions{});
        VN_TRY(stack->p2k->attach(*stack->server));
        stack->server->start();
        PuffsMountOptions pm;
        pm.root_cookie = stack->server->root_cookie();
        auto fs = std::make_unique<PuffsMount>(m, stack->pair->end(0), pm);
        fs->start();
        return std::unique_ptr<vn::FileSystem>(std::move(fs));
      });
  m.add_leak_check("vnodes", [&] { return k.vcache().referenced(); });
  m.spawn("main", [&] {
    if (!k.mount_root("liar", {}).ok()) {
      m.fail(sim::Outcome::panic, "mount_root failed");
      return;
    }
    vfs::Proc& p = k.proc_create("main", vn::Cred{});
    k.attach_current_lwp(p);
    auto fd = k.open(p, "/f", O_RDWR | O_CREAT, 0644);
    if (!fd.ok()) {
      m.fail(sim::Outcome::panic, "open: errno " + std::to_string(fd.err()));
      return;
    }
    out.first = k.write(p, *fd, "0123456789");
    out.second = k.write(p, *fd, "xy");
    auto got = k.pread(p, *fd, 100, 0);
    if (got.ok()) out.contents = *got;
    (void)k.close(p, *fd);
    if (!k.shutdown().ok()) m.fail(sim::Outcome::leak, "shutdown failed");
  });
  out.run = m.run();
  return out;
}

// Shows: the harness itself: a server that behaves stores all 10 bytes and
// write(2) says 10; the next write goes after them.
TEST(PuffsShortWrite, HonestServerWritesAll) {
  Outcome o = run_case(Misbehave::none);
  ASSERT_EQ(o.run.outcome, sim::Outcome::pass) << o.run.message;
  ASSERT_TRUE(o.first.ok());
  EXPECT_EQ(*o.first, 10u);
  ASSERT_TRUE(o.second.ok());
  EXPECT_EQ(*o.second, 2u);
  EXPECT_EQ(o.contents, "0123456789xy");
}

// Shows: a server that stores 5 of 10 bytes makes write(2) return 5, the
// file offset moves by 5 (the next write lands right after them) and the
// file holds exactly the bytes stored.
TEST(PuffsShortWrite, ShortStoreIsAShortCount) {
  Outcome o = run_case(Misbehave::store_half);
  ASSERT_EQ(o.run.outcome, sim::Outcome::pass) << o.run.message;
  ASSERT_TRUE(o.first.ok()) << "errno " << o.first.err();
  EXPECT_EQ(*o.first, 5u);
  ASSERT_TRUE(o.second.ok());
  EXPECT_EQ(*o.second, 1u);  // "xy" stored half too
  EXPECT_EQ(o.contents, "01234x");
}

// Shows: a server that stores nothing and answers ENOSPC makes write(2)
// answer ENOSPC, and the file stays empty.
TEST(PuffsShortWrite, NothingStoredIsTheServersErrno) {
  Outcome o = run_case(Misbehave::store_none_enospc);
  ASSERT_EQ(o.run.outcome, sim::Outcome::pass) << o.run.message;
  EXPECT_EQ(o.first.err(), ENOSPC);
  EXPECT_EQ(o.second.err(), ENOSPC);
  EXPECT_EQ(o.contents, "");
}

// Shows: a server that stores nothing yet answers success (its reply ends
// the write where it began) makes write(2) answer EIO, not 0, which a
// caller would retry for ever.
TEST(PuffsShortWrite, NothingStoredWithoutAnErrnoIsEio) {
  Outcome o = run_case(Misbehave::store_none_silent);
  ASSERT_EQ(o.run.outcome, sim::Outcome::pass) << o.run.message;
  EXPECT_EQ(o.first.err(), EIO);
  EXPECT_EQ(o.second.err(), EIO);
  EXPECT_EQ(o.contents, "");
}

// Shows: a reply saying the write ended past the bytes sent (more written
// than asked), or before the offset asked, is a lying reply: write(2)
// answers EPROTO, never a count above its buffer, the trace logs
// puffs_bad_reply, and the run (kernel, shutdown, leak checks) passes.
TEST(PuffsShortWrite, ClaimingMoreThanAskedIsEproto) {
  for (Misbehave how : {Misbehave::claim_more, Misbehave::claim_before}) {
    Outcome o = run_case(how);
    ASSERT_EQ(o.run.outcome, sim::Outcome::pass) << o.run.message;
    EXPECT_EQ(o.first.err(), EPROTO);
    EXPECT_EQ(o.second.err(), EPROTO);
    bool logged = false;
    for (const auto& e : o.run.events) {
      if (e.kind == "puffs_bad_reply" &&
          e.detail.find("outside the request") != std::string::npos) {
        logged = true;
      }
    }
    EXPECT_TRUE(logged);
  }
}

}  // namespace
}  // namespace vfsim::puffs
