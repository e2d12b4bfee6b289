#include "fsdrivers/puffs/puffs_fstype.h"

#include <cerrno>
#include <charconv>

#include "fsdrivers/memfs/memfs.h"
#include "fsdrivers/puffs/p2k.h"
#include "fsdrivers/puffs/puffs_server.h"
#include "sim/socket_faults.h"

namespace vfsim::puffs {

namespace {

// Everything one puffs mount builds besides the kernel stub itself.
struct Transport {
  std::unique_ptr<sim::SocketPair> pair;
  std::unique_ptr<sim::FaultySocket> kernel_faults;  // requests leaving the kernel
  std::unique_ptr<sim::FaultySocket> server_faults;  // replies leaving the server
  std::unique_ptr<P2k> p2k;
  std::unique_ptr<Server> server;
  sim::Socket* kernel_end = nullptr;
};

struct Parsed {
  sim::SocketOptions sock;
  ServerOptions server;
  PuffsMountOptions mount;
  std::vector<sim::SockFaultRule> req_faults, reply_faults;
};

bool number(const MountOptions& a, std::string_view key, std::uint64_t* out) {
  auto it = a.find(key);
  if (it == a.end()) return true;
  const std::string& v = it->second;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size();
}

bool boolean(const MountOptions& a, std::string_view key, bool* out) {
  auto it = a.find(key);
  if (it == a.end()) return true;
  if (it->second == "true" || it->second == "1") *out = true;
  else if (it->second == "false" || it->second == "0") *out = false;
  else return false;
  return true;
}

// "3,5" -> drop rule on messages 3 and 5; "_ppm" -> by probability.
bool drop_rule(const MountOptions& a, std::string_view prefix,
               std::vector<sim::SockFaultRule>* rules) {
  sim::SockFaultRule r;
  r.kind = sim::SockFault::drop;
  if (auto it = a.find(std::string(prefix) + "_drop_at"); it != a.end()) {
    std::string_view s = it->second;
    while (!s.empty()) {
      const std::size_t comma = std::min(s.find(','), s.size());
      std::uint64_t n = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + comma, n);
      if (ec != std::errc() || p != s.data() + comma || n == 0) return false;
      r.at_messages.push_back(n);
      s.remove_prefix(std::min(comma + 1, s.size()));
    }
  }
  std::uint64_t ppm = 0;
  if (!number(a, std::string(prefix) + "_drop_ppm", &ppm) || ppm > 1'000'000) return false;
  r.per_million = static_cast<std::uint32_t>(ppm);
  if (!r.at_messages.empty() || r.per_million > 0) rules->push_back(r);
  return true;
}

bool parse(const MountOptions& a, Parsed* out) {
  std::uint64_t timeout_ms = 0, retry = 0, workers = 1, latency_us = 0;
  const auto r = a.find("retry");
  const bool forever = r != a.end() && r->second == "forever";
  std::uint64_t rcv_bytes = 65536, rcv_msgs = 0, crash_at = 0;
  bool ok = number(a, "timeout_ms", &timeout_ms) && (forever || number(a, "retry", &retry)) &&
            number(a, "workers", &workers) && number(a, "server_latency_us", &latency_us) &&
            number(a, "rcvbuf_bytes", &rcv_bytes) && number(a, "rcvbuf_msgs", &rcv_msgs) &&
            number(a, "server_crash_at", &crash_at) &&
            boolean(a, "size_lock", &out->mount.size_lock) &&
            boolean(a, "reclaim_nlookup", &out->mount.reclaim_nlookup) &&
            drop_rule(a, "req", &out->req_faults) && drop_rule(a, "reply", &out->reply_faults);
  if (!ok || workers == 0 || workers > 64 || retry > 100) return false;
  if (auto it = a.find("transport"); it != a.end()) {
    auto t = sim::sock_type_from_name(it->second);
    if (!t) return false;
    out->sock.type = *t;
  }
  if (auto it = a.find("framing"); it != a.end()) {
    if (it->second == "naive") out->server.framing = Framing::naive;
    else if (it->second == "reassemble") out->server.framing = Framing::reassemble;
    else return false;
  }
  if (auto it = a.find("backend"); it != a.end() && it->second != "memfs") return false;
  out->sock.name = "puffs";
  for (auto& b : out->sock.buf) {
    b.rcvbuf_bytes = rcv_bytes;
    b.rcvbuf_msgs = rcv_msgs;
  }
  out->server.reclaim_nlookup = out->mount.reclaim_nlookup;
  out->server.workers = static_cast<int>(workers);
  out->server.crash_at_request = crash_at;
  out->server.op_latency = latency_us * sim::kMicrosecond;
  out->mount.timeout = timeout_ms * sim::kMillisecond;
  out->mount.retries = forever ? -1 : static_cast<int>(retry);
  return true;
}

// Nodes the server still has after a clean unmount are a leak.
std::vector<std::string> server_leaks(const Transport& t) {
  std::vector<std::string> out;
  if (t.server->dead() || !t.pair->end(0).closed()) return out;
  for (std::uint64_t c : t.server->nodes().cookies()) {
    out.push_back("puffs server node cookie " + std::to_string(c) + " never reclaimed");
  }
  return out;
}

}  // namespace

// Message memory from the machine's kmem with the caller's flag, KM_SLEEP,
// which the pager turns into KM_NOSLEEP in the pagedaemon's context when
// pager.pagedaemon_nosleep is on (the PERFUSE fix). Held only while the
// message is built: the allocation is the point where the caller may sleep.
MsgAlloc kmem_msg_alloc(pager::Pager* p) {
  if (p == nullptr) return {};
  return [p](std::size_t bytes) {
    pager::KmemBlock b = p->kmem_alloc(bytes, pager::KM_SLEEP);
    if (!b) return vn::Status(ENOMEM);
    p->kmem_free(b);
    return vn::kOk;
  };
}

vn::Result<std::unique_ptr<vn::FileSystem>> make_puffs(sim::Machine& m, const MountOptions& args,
                                                       pager::Pager* pager) {
  Parsed p;
  if (!parse(args, &p)) return vn::Status(EINVAL);
  auto t = std::make_shared<Transport>();
  t->pair = std::make_unique<sim::SocketPair>(m, p.sock);
  t->kernel_end = &t->pair->end(0);
  sim::Socket* server_end = &t->pair->end(1);
  if (!p.req_faults.empty()) {
    t->kernel_faults = std::make_unique<sim::FaultySocket>(m, *t->kernel_end, p.req_faults);
    t->kernel_end = t->kernel_faults.get();
  }
  if (!p.reply_faults.empty()) {
    t->server_faults = std::make_unique<sim::FaultySocket>(m, *server_end, p.reply_faults);
    server_end = t->server_faults.get();
  }
  t->p2k = std::make_unique<P2k>(m, memfs::make_memfs(m, memfs::MemfsOptions{}));
  t->server = std::make_unique<Server>(m, *server_end, *t->p2k, p.server);
  VN_TRY(t->p2k->attach(*t->server));
  t->server->start();
  p.mount.root_cookie = t->server->root_cookie();
  p.mount.msg_alloc = kmem_msg_alloc(pager);
  p.mount.pager = pager;
  auto fs = std::make_unique<PuffsMount>(m, *t->kernel_end, p.mount);
  fs->start();
  m.add_leak_check("puffs server", [t] { return server_leaks(*t); });
  return std::unique_ptr<vn::FileSystem>(std::move(fs));
}

vn::Result<std::unique_ptr<vn::FileSystem>> make_puffs_from_args(sim::Machine& m,
                                                                 const MountOptions& args) {
  return make_puffs(m, args, nullptr);
}

}  // namespace vfsim::puffs
