#include "fsdrivers/puffs/puffs_server.h"

#include <cerrno>

#include "fsdrivers/puffs/wire.h"
#include "sim/trace_span.h"

namespace vfsim::puffs {

// ---------------------------------------------------------------------------
// NodeMap

std::uint64_t NodeMap::add(std::unique_ptr<PuffsNode> n) {
  const std::uint64_t cookie = next_++;
  by_key_[n->key] = cookie;
  nodes_.emplace(cookie, std::move(n));
  return cookie;
}

PuffsNode* NodeMap::find(std::uint64_t cookie) const {
  auto it = nodes_.find(cookie);
  return it == nodes_.end() ? nullptr : it->second.get();
}

std::optional<std::uint64_t> NodeMap::cookie_of_key(std::uint64_t key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

void NodeMap::unhook_key(std::uint64_t cookie) {
  auto it = nodes_.find(cookie);
  if (it == nodes_.end()) return;
  auto k = by_key_.find(it->second->key);
  if (k != by_key_.end() && k->second == cookie) by_key_.erase(k);
}

void NodeMap::remove(std::uint64_t cookie) {
  auto it = nodes_.find(cookie);
  if (it == nodes_.end()) return;
  auto k = by_key_.find(it->second->key);
  if (k != by_key_.end() && k->second == cookie) by_key_.erase(k);
  nodes_.erase(it);
}

std::vector<std::uint64_t> NodeMap::cookies() const {
  std::vector<std::uint64_t> out;
  for (const auto& [c, n] : nodes_) out.push_back(c);
  return out;
}

PuffsNode* OpCtx::other(std::uint64_t cookie) const { return server.nodes().find(cookie); }

// ---------------------------------------------------------------------------
// Server

Server::Server(sim::Machine& m, sim::Socket& sock, PuffsOps& ops, ServerOptions options)
    : machine_(m),
      sock_(sock),
      ops_(ops),
      options_(std::move(options)),
      stream_lock_(m, "puffs server '" + options_.name + "' stream") {}

std::uint64_t Server::set_root(std::unique_ptr<PuffsNode> root) {
  root_ = nodes_.add(std::move(root));
  return root_;
}

void Server::start() {
  for (int i = 0; i < options_.workers; ++i) {
    workers_.push_back(machine_.spawn(
        options_.name + " worker " + std::to_string(i), [this] { worker_loop(); },
        /*daemon=*/true));
    machine_.set_group(workers_.back(), "server " + options_.name);
  }
}

void Server::crash() {
  if (dead_) return;
  dead_ = true;
  machine_.event("puffs_server_crash", options_.name);
  sock_.close();
}

void Server::worker_loop() {
  std::string msg;
  while (!dead_ && receive(&msg)) {
    sim::DaemonWork work(machine_);  // a request in hand: not idle
    handle(msg);
  }
}

// One message, by the server's framing; false when the socket is gone.
bool Server::receive(std::string* msg) {
  if (options_.framing == Framing::reassemble && sock_.type() == sim::SockType::stream) {
    return receive_reassembled(msg);
  }
  for (;;) {
    sim::IoResult r = sock_.recv(msg, options_.max_read);
    if (!r.ok() || r.eof) return false;
    if (r.truncated) {
      machine_.event("puffs_bad_request", options_.name + ": message longer than " +
                                              std::to_string(options_.max_read) + " bytes");
      continue;
    }
    return true;
  }
}

// Gathers bytes until the length field's worth is there. A length field that
// cannot be right (shorter than a header, longer than any message) leaves no
// way to find the next message in a stream: the server gives up on it.
bool Server::receive_reassembled(std::string* msg) {
  sim::MutexGuard g(stream_lock_);
  std::string chunk;
  for (;;) {
    if (stream_buf_.size() >= 4) {
      const std::size_t len = static_cast<std::size_t>(le_at(stream_buf_, 0, 4));
      if (len < kHeaderBytes || len > kMaxMessageBytes) {
        bad_request(stream_buf_,
                    DecodeError{"stream length field " + std::to_string(len) + " out of range",
                                std::nullopt, std::nullopt, EPROTO});
        return false;
      }
      if (stream_buf_.size() >= len) {
        msg->assign(stream_buf_, 0, len);
        stream_buf_.erase(0, len);
        return true;
      }
    }
    sim::IoResult r = sock_.recv(&chunk, options_.max_read);
    if (!r.ok() || r.eof) return false;
    stream_buf_ += chunk;
  }
}

void Server::bad_request(std::string_view bytes, const DecodeError& e) {
  ++bad_;
  std::string what = e.id ? "message claiming to be req " + std::to_string(*e.id) : "message";
  if (e.op && op_known(*e.op)) what += " " + std::string(op_name(static_cast<PuffsOp>(*e.op)));
  if (!e.id && bytes.size() >= 6) {  // a fragment: say what its first bytes claim
    const std::uint64_t len = le_at(bytes, 0, 4);
    const auto op = static_cast<std::uint16_t>(le_at(bytes, 4, 2));
    what += " whose first bytes claim length " + std::to_string(len) + " and opcode " +
            (op_known(op) ? std::string(op_name(static_cast<PuffsOp>(op))) : std::to_string(op));
  }
  const std::string text = "puffs server '" + options_.name + "' cannot parse a " +
                           std::to_string(bytes.size()) + "-byte " + what + ": " + e.why;
  machine_.event("puffs_bad_request", text);
  if (options_.fatal_protocol_errors) machine_.fail(sim::Outcome::protocol, text);
  if (!e.id || !e.op || !op_known(*e.op)) return;  // nothing to answer
  Request rq = make_request(static_cast<PuffsOp>(*e.op));
  rq.h.id = *e.id;
  Reply rp;
  rp.h.error = EPROTO;
  send_reply(rq, rp);
}

void Server::handle(std::string_view bytes) {
  DecodedRequest d = decode_request(bytes);
  if (!d.req) {
    bad_request(bytes, d.error);
    return;
  }
  const Request& rq = *d.req;
  const sim::TraceSpan span(machine_, [&] { return describe(rq.h); });
  if (++received_ == options_.crash_at_request) {
    machine_.event("puffs_server_crash", options_.name + " on " + describe(rq.h));
    crash();
    return;
  }
  if (options_.dedup_requests && !answered_ids_.insert(rq.h.id).second) {
    machine_.event("puffs_duplicate_request",
                   options_.name + ": " + describe(rq.h) + " already answered; dropped");
    return;
  }
  Reply rp;
  PuffsNode* node = nodes_.find(rq.h.cookie);
  const bool vfs_op = static_cast<std::uint16_t>(rq.h.op) < kFirstVnOp;
  if (node == nullptr && !vfs_op) {
    machine_.event("puffs_unknown_cookie", options_.name + ": " + describe(rq.h));
    rp.h.error = EIO;
  } else {
    if (options_.op_latency > 0) machine_.sleep_for(options_.op_latency);
    PuffsNode dummy;
    OpCtx c{*this, rq, node != nullptr ? *node : dummy};
    if (const ReclaimArgs* ra = rq.args_of<PuffsOp::reclaim>()) {
      rp.h.error = reclaim(c, *ra, &rp).err();
    } else {
      rp.h.error = dispatch(c, &rp).err();
      if (rp.h.error == 0) count_lookup(rq, rp);
    }
  }
  ++served_;
  send_reply(rq, rp);
}

// Hands the request to its op with its arguments, typed. A request whose
// arguments are not its op's type (none comes off the wire: the decoder
// chooses the type from the opcode, but a Request may be built in memory)
// is logged and answered EINVAL; nothing is asserted about it.
sim::Status Server::dispatch(OpCtx& c, Reply* rp) {
  switch (c.rq.h.op) {
#define VFSIM_PUFFS_CASE(name)                                                      \
  case PuffsOp::name:                                                               \
    if (const auto* a = c.rq.args_of<PuffsOp::name>()) return ops_.name(c, *a, rp); \
    break;
    VFSIM_PUFFS_OPS(VFSIM_PUFFS_CASE)
#undef VFSIM_PUFFS_CASE
  }
  const std::string text = "puffs server '" + options_.name + "': " + describe(c.rq.h) +
                           " carries arguments of another op (variant index " +
                           std::to_string(c.rq.args.index()) + ")";
  machine_.event("puffs_bad_request", text);
  if (options_.fatal_protocol_errors) machine_.fail(sim::Outcome::protocol, text);
  return sim::Status(EINVAL);
}

// A successful reply that hands a node's cookie to the kernel counts once.
// It runs right after the op returned, with no scheduling point since the op
// chose the cookie, so no RECLAIM can free the node in between.
void Server::count_lookup(const Request& rq, const Reply& rp) {
  switch (rq.h.op) {
    case PuffsOp::lookup:
    case PuffsOp::create:
    case PuffsOp::mknod:
    case PuffsOp::mkdir:
    case PuffsOp::symlink: break;
    default: return;
  }
  if (PuffsNode* n = nodes_.find(rp.new_cookie)) ++n->nlookup;
}

// RECLAIM of a node the kernel named (c.node is in the map). With lookup
// counts the kernel's nlookup is checked against the node's count and
// subtracted; the node goes only when the count reaches zero, and the root
// never (the mount, not a reply, hands it out). Without counts it goes at
// once. A node on its way out is unhooked from its key first, so a LOOKUP on
// another worker while the file system's reclaim sleeps makes a new node
// rather than answering this cookie. (Should the file system's reclaim
// fail, the node stays reachable by cookie but is never handed out again.)
sim::Status Server::reclaim(OpCtx& c, const ReclaimArgs& a, Reply* rp) {
  const std::uint64_t cookie = c.rq.h.cookie;
  if (options_.reclaim_nlookup) {
    PuffsNode& n = c.node;
    const auto said = static_cast<std::uint64_t>(a.nlookup);  // decoding refused < 0
    const bool root = cookie == root_;
    if ((said == 0 && !root) || said > n.nlookup) {
      const std::string text = "puffs server '" + options_.name + "': " + describe(c.rq.h) +
                               " says nlookup " + std::to_string(a.nlookup) +
                               " but the server handed the cookie out " +
                               std::to_string(n.nlookup) + " times; node kept";
      machine_.event("puffs_bad_reclaim", text);
      if (options_.fatal_protocol_errors) machine_.fail(sim::Outcome::protocol, text);
      return sim::Status(EINVAL);
    }
    n.nlookup -= said;
    if (n.nlookup > 0 || root) {
      machine_.event("puffs_reclaim_kept", options_.name + ": cookie " + std::to_string(cookie) +
                                               (root ? " is the root" : " handed out again") +
                                               ", nlookup " + std::to_string(n.nlookup));
      return sim::kOk;
    }
  }
  nodes_.unhook_key(cookie);
  const sim::Status e = dispatch(c, rp);
  if (e.ok()) nodes_.remove(cookie);
  return e;
}

void Server::send_reply(const Request& rq, Reply& rp) {
  rp.h.id = rq.h.id;
  rp.h.cookie = rq.h.cookie;
  const std::string bytes = encode_reply(rp, rq.h.op);
  const bool keep = machine_.trace().keeping();
  std::string tag;
  if (keep) {
    tag = "reply " + std::to_string(rq.h.id) + " " + std::string(op_name(rq.h.op));
    if (rq.h.op == PuffsOp::getattr && rp.h.error == 0)
      tag += " size " + std::to_string(rp.va.size);
  }
  sim::IoResult r = sock_.send(bytes, tag);
  if (!r.ok()) machine_.event("puffs_reply_lost", options_.name + ": " + describe(rp.h));
}

}  // namespace vfsim::puffs
