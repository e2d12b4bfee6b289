// libFuzzer target: a lying FUSE daemon. The input is a script of replies
// and notifications that a fake daemon lwp gives the kernel, through the
// whole kernel side of PERFUSE — the VFS, the puffs kernel stub, the puffs
// server whose op vector is the perfused bridge, and FuseConn on /dev/fuse —
// while a process runs a fixed syscall workload (stat, readdir, lookup,
// create, write, read, mkdir, rename, unlink, xattrs, statvfs).
//
// The daemon answers INIT well (so the mount happens) and then every
// request from the input: a byte of mode, a claimed length (the true one or
// a lie), an errno field (anything), and a body of input bytes; a mode bit
// first writes a notification (unique 0, a code and a body from the input).
// When the input runs out it answers ENOSYS. The unique is always the
// request's, so the kernel can attribute a bad reply (and fail the request
// with EIO/EPROTO) rather than wait for ever.
//
// What must hold: the kernel never crashes (ASan/UBSan), never panics (a
// kernel assertion), and a run ends as pass — a lie is an errno to the
// syscall, logged as fuse_bad_reply (fatal_protocol_errors is off here) —
// or, when a lie leaves a request the daemon never answers properly, a
// hang or deadlock the oracle names. A leak or a panic is a finding.
#include <linux/fuse.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fsdrivers/fuse/fuse_abi.h"
#include "fsdrivers/fuse/fuse_bridge.h"
#include "fsdrivers/fuse/fuse_conn.h"
#include "fsdrivers/puffs/puffs_kernel.h"
#include "fsdrivers/puffs/puffs_server.h"
#include "sim/machine.h"
#include "sim/socket.h"
#include "sim/strategy.h"
#include "vfs/kernel.h"

namespace {

using namespace vfsim;

// Reads the input front to back; zeros when it runs out.
class Script {
 public:
  Script(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  bool done() const { return n_ == 0; }
  std::uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  std::string bytes(std::size_t want) {
    const std::size_t k = std::min(want, n_);
    std::string out(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return out;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

std::string out_message(std::uint32_t len, std::int32_t error, std::uint64_t unique,
                        std::string_view body) {
  fuse_out_header h{};
  h.len = len;
  h.error = error;
  h.unique = unique;
  std::string out(reinterpret_cast<const char*>(&h), sizeof(h));
  out.append(body);
  return out;
}

std::string init_reply(std::uint64_t unique) {
  fuse_init_out o{};
  o.major = FUSE_KERNEL_VERSION;
  o.minor = 31;  // what Debian's libfuse answers
  o.max_readahead = 128 * 1024;
  o.max_write = 64 * 1024;
  o.time_gran = 1;
  o.max_background = 16;
  o.congestion_threshold = 12;
  const std::string body(reinterpret_cast<const char*>(&o), sizeof(o));
  return out_message(static_cast<std::uint32_t>(sizeof(fuse_out_header) + body.size()), 0, unique,
                     body);
}

// The fake daemon: one lwp reading /dev/fuse until the kernel closes it.
void daemon_loop(sim::Socket& dev, Script& script) {
  for (;;) {
    std::string req;
    sim::IoResult r = dev.recv(&req, fuse::kMaxReplyBytes);
    if (!r.ok() || r.eof) return;
    auto d = fuse::decode_request(req);
    if (!d.ok()) continue;  // the kernel's own request: cannot be, but not ours to judge
    const fuse::InHeader& h = d.value->first;
    if (h.opcode == FUSE_FORGET || h.opcode == FUSE_BATCH_FORGET || h.opcode == FUSE_INTERRUPT ||
        h.opcode == FUSE_NOTIFY_REPLY) {
      continue;
    }
    if (h.opcode == FUSE_INIT) {
      (void)dev.send(init_reply(h.unique));
      continue;
    }
    if (script.done()) {
      (void)dev.send(out_message(sizeof(fuse_out_header), -ENOSYS, h.unique, {}));
      continue;
    }
    const std::uint8_t mode = script.byte();
    if ((mode & 0x80) != 0) {
      const std::int32_t code = static_cast<std::int32_t>(script.byte() % 9);
      const std::string body = script.bytes(script.byte());
      (void)dev.send(out_message(static_cast<std::uint32_t>(sizeof(fuse_out_header) + body.size()),
                                 code, 0, body));
    }
    const std::int32_t error = (mode & 0x03) == 0
                                   ? 0
                                   : ((mode & 0x03) == 1 ? -static_cast<std::int32_t>(script.byte())
                                                         : static_cast<std::int32_t>(script.u32()));
    const std::size_t body_len = (mode & 0x04) != 0 ? script.byte() * 4u : script.byte();
    const std::string body = script.bytes(body_len);
    const auto true_len = static_cast<std::uint32_t>(sizeof(fuse_out_header) + body.size());
    const std::uint32_t len = (mode & 0x08) != 0 ? script.u32() : true_len;
    (void)dev.send(out_message(len, error, h.unique, body));
  }
}

// The workload: every result is allowed to be an errno.
void workload(vfs::Kernel& k, vfs::Proc& p) {
  (void)k.stat(p, "/");
  if (auto fd = k.open(p, "/", O_RDONLY | O_DIRECTORY); fd.ok()) {
    (void)k.getdents(p, *fd);
    (void)k.close(p, *fd);
  }
  (void)k.stat(p, "/a");
  if (auto fd = k.open(p, "/f", O_CREAT | O_RDWR, 0644); fd.ok()) {
    (void)k.write(p, *fd, "hello, lying daemon");
    (void)k.read(p, *fd, 64);
    (void)k.close(p, *fd);
  }
  if (auto fd = k.open(p, "/a", O_RDONLY); fd.ok()) {
    (void)k.read(p, *fd, 4096);
    (void)k.close(p, *fd);
  }
  (void)k.mkdir(p, "/d", 0755);
  (void)k.rename(p, "/f", "/d/g");
  (void)k.setxattr(p, "/d", "user.x", "1", 0, true);
  (void)k.getxattr(p, "/d", "user.x", 64);
  (void)k.statvfs(p, "/");
  (void)k.unlink(p, "/d/g");
  (void)k.stat(p, "/d/..");
}

struct Stack {
  std::unique_ptr<sim::SocketPair> dev, hop;
  std::unique_ptr<fuse::FuseConn> conn;
  std::unique_ptr<fuse::FuseBridge> bridge;
  std::unique_ptr<puffs::Server> server;
};

sim::RunResult run(Script& script) {
  sim::StrategyParams sp;
  sp.seed = 1;
  auto strategy = sim::make_strategy("random", sp);
  (void)strategy->begin_run(0, 1);
  sim::MachineOptions mo;
  mo.seed = 1;
  mo.step_budget = 200000;
  sim::Machine m(mo, *strategy);
  vfs::Kernel k(m, vfs::KernelOptions{});
  Stack st;  // outlives every lwp (destroyed after the machine's run)
  k.register_fs_type(
      "fuse", [&](const vfs::MountArgs&) -> vn::Result<std::unique_ptr<vn::FileSystem>> {
        sim::SocketOptions so;
        so.name = "/dev/fuse";
        for (auto& b : so.buf) b.rcvbuf_bytes = 2u << 20;
        st.dev = std::make_unique<sim::SocketPair>(m, so);
        so.name = "puffs";
        st.hop = std::make_unique<sim::SocketPair>(m, so);
        m.spawn(
            "lying daemon", [&] { daemon_loop(st.dev->end(1), script); }, /*daemon=*/true);
        fuse::ConnOptions co;
        co.fatal_protocol_errors = false;
        st.conn = std::make_unique<fuse::FuseConn>(m, st.dev->end(0), co);
        st.bridge = std::make_unique<fuse::FuseBridge>(m, *st.conn, fuse::BridgeOptions{});
        puffs::ServerOptions so2;
        so2.workers = 2;
        so2.max_read = 2u << 20;
        st.server = std::make_unique<puffs::Server>(m, st.hop->end(1), *st.bridge, so2);
        fuse::FuseBridge* bridge = st.bridge.get();
        st.conn->set_notify_handler(
            [bridge](const fuse::Notification& n) { return bridge->notify(n); });
        st.conn->start();
        VN_TRY(st.conn->init());
        VN_TRY(st.bridge->attach(*st.server));
        st.server->start();
        puffs::PuffsMountOptions pm;
        pm.name = "lying";
        pm.root_cookie = st.server->root_cookie();
        pm.on_unmount = [bridge] { bridge->set_kernel(nullptr); };
        auto fs = std::make_unique<puffs::PuffsMount>(m, st.hop->end(0), pm);
        st.bridge->set_kernel(fs.get());
        fs->start();
        return std::unique_ptr<vn::FileSystem>(std::move(fs));
      });
  m.spawn("main", [&] {
    if (!k.mount_root("fuse", {}).ok()) return;  // INIT is answered well: cannot fail
    vfs::Proc& p = k.proc_create("main", vn::Cred{});
    k.attach_current_lwp(p);
    workload(k, p);
    (void)k.shutdown();
  });
  return m.run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script(data, size);
  const sim::RunResult r = run(script);
  if (r.outcome == sim::Outcome::panic || r.outcome == sim::Outcome::leak) {
    std::fprintf(stderr, "fuse_reply_fuzz: %s: %s\n",
                 std::string(sim::outcome_name(r.outcome)).c_str(), r.message.c_str());
    std::abort();
  }
  return 0;
}
