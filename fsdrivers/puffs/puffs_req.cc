// The request machinery of the puffs kernel stub (state diagram in
// puffs_kernel.h): send, wait, retry, the reply reader and the forced
// unmount when the server goes away. Replies are untrusted bytes: anything
// wrong with one is logged in the trace and turned into an errno for the
// request it names (EPROTO), never asserted.
#include <cerrno>

#include "fsdrivers/puffs/puffs_kernel.h"
#include "vnode/vcache.h"

namespace vfsim::puffs {

std::string_view req_state_name(ReqState s) {
  switch (s) {
    case ReqState::created: return "created";
    case ReqState::sent: return "sent";
    case ReqState::answered: return "answered";
    case ReqState::failed: return "failed";
    case ReqState::done: return "done";
  }
  return "?";
}

PuffsRequest::PuffsRequest(sim::Machine& m, Request r)
    : rq(std::move(r)), done(m, "puffs reply to " + describe(rq.h)) {}

PuffsVnode::PuffsVnode(sim::Machine& m, std::uint64_t c)
    : cookie(c), size_lock(m, "puffs size lock of cookie " + std::to_string(c)) {}

PuffsMount::PuffsMount(sim::Machine& m, sim::Socket& sock, PuffsMountOptions options)
    : machine_(m), sock_(sock), options_(std::move(options)) {}

PuffsMount::~PuffsMount() = default;

void PuffsMount::start() {
  reader_ = machine_.spawn(
      options_.name + " reply reader", [this] { reader_loop(); },
      /*daemon=*/true);
}

void PuffsMount::state_change(PuffsRequest& r, ReqState from, ReqState to) {
  VFSIM_KASSERT(machine_, r.state == from,
                describe(r.rq.h) + " is " + std::string(req_state_name(r.state)) + ", not " +
                    std::string(req_state_name(from)));
  const bool edge = (from == ReqState::created && (to == ReqState::sent || to == ReqState::done)) ||
                    (from == ReqState::sent && (to == ReqState::sent || to == ReqState::answered ||
                                                to == ReqState::failed)) ||
                    (from == ReqState::answered && to == ReqState::done) ||
                    (from == ReqState::failed && to == ReqState::done);
  VFSIM_KASSERT(machine_, edge,
                "bad request transition " + std::string(req_state_name(from)) + " -> " +
                    std::string(req_state_name(to)));
  r.state = to;
}

vn::Status PuffsMount::call(Request& rq, Reply* rp) {
  // make_request<Op>() fixes the arguments' type by the op at compile time;
  // a request changed since is our bug.
  VFSIM_KASSERT(machine_, args_match(rq.h.op, rq.args),
                describe(rq.h) + " carries arguments of another op");
  if (dead_) return vn::Status(ENXIO);
  rq.h.id = next_id_++;
  if (const sim::Lwp* l = machine_.in_lwp() ? &machine_.current() : nullptr) rq.h.pid = l->id;
  PuffsRequest r(machine_, std::move(rq));
  // Only the reply reader wakes the caller: a wait-for edge for the
  // deadlock oracle (the reader's own wait names who answers it).
  if (reader_ != sim::kNoLwp) r.done.add_waker(reader_);
  r.bytes = encode_request(r.rq);
  if (options_.msg_alloc && !options_.msg_alloc(r.bytes.size()).ok()) {
    machine_.event("puffs_nomem", describe(r.rq.h));
    state_change(r, ReqState::created, ReqState::done);
    return vn::Status(ENOMEM);
  }
  // However the call ends (even unwound by the end of the run), the pending
  // map must not keep a pointer to this request.
  struct Forget {
    std::map<std::uint64_t, PuffsRequest*>& pending;
    std::uint64_t id;
    ~Forget() { pending.erase(id); }
  } forget{pending_, r.rq.h.id};
  vn::Status s = send(r);
  if (s.ok()) s = wait(r);
  if (s.ok()) *rp = std::move(r.rep);
  finish(r);
  rq = std::move(r.rq);
  return s.ok() ? vn::Status(rp->h.error) : s;
}

// Puts the request on the wire (again, on a retry).
vn::Status PuffsMount::send(PuffsRequest& r) {
  if (dead_) {
    if (r.state == ReqState::created) {
      state_change(r, ReqState::created, ReqState::done);
    } else {
      state_change(r, ReqState::sent, ReqState::failed);
    }
    return vn::Status(ENXIO);
  }
  if (r.state == ReqState::created) {
    pending_.emplace(r.rq.h.id, &r);
    state_change(r, ReqState::created, ReqState::sent);
  } else {
    state_change(r, ReqState::sent, ReqState::sent);
  }
  ++r.sends;
  const bool keep = machine_.trace().keeping();
  sim::IoResult s = sock_.send(r.bytes, keep ? describe(r.rq.h) : std::string());
  if (!s.ok()) server_gone("send failed with errno " + std::to_string(s.err()));
  return vn::kOk;
}

// Sleeps until the reader answers the request, the server goes away, or the
// timeout runs out (then resends while retries are left).
vn::Status PuffsMount::wait(PuffsRequest& r) {
  for (;;) {
    if (r.state == ReqState::answered) return vn::kOk;
    if (r.state == ReqState::failed) return r.error;
    if (r.done.sleep("puffs reply", options_.timeout)) continue;
    if (r.state != ReqState::sent) continue;
    if (options_.retries < 0 || r.sends <= options_.retries) {
      machine_.event("puffs_retry", describe(r.rq.h));
      (void)send(r);
      continue;
    }
    machine_.event("puffs_timeout",
                   describe(r.rq.h) + " after " + std::to_string(r.sends) + " sends");
    r.error = vn::Status(EIO);
    state_change(r, ReqState::sent, ReqState::failed);
  }
}

void PuffsMount::finish(PuffsRequest& r) {
  pending_.erase(r.rq.h.id);
  if (r.state != ReqState::done) state_change(r, r.state, ReqState::done);
}

// The reader is the one that notices a dead server for good (whoever else
// noticed first, the socket is closed for it too), and the one that then
// reclaims the mount's vnodes: it holds no vnode lock, and no one waits for
// it once every request has failed.
// Between two reads it is busy (sim::DaemonWork): the run does not end, and
// no leak check runs, in the middle of a delivery or of the forced unmount.
void PuffsMount::reader_loop() {
  std::string msg;
  while (!unmounting_ && read_reply(&msg)) {
    sim::DaemonWork work(machine_);
    deliver(msg);
  }
  if (unmounting_) return;  // the VFS is unmounting: its flush reclaims
  sim::DaemonWork work(machine_);
  server_gone("socket closed");
  revoke_vnodes();
}

// One reply. On a stream the kernel reassembles by the length field (it is
// the careful side); a length that cannot be right leaves no way to find the
// next message, so the connection is given up.
bool PuffsMount::read_reply(std::string* msg) {
  if (sock_.type() != sim::SockType::stream) {
    for (;;) {
      sim::IoResult r = sock_.recv(msg, kMaxMessageBytes);
      if (!r.ok() || r.eof) return false;
      if (!r.truncated) return true;
    }
  }
  std::string chunk;
  for (;;) {
    if (stream_buf_.size() >= kHeaderBytes) {
      const std::optional<Header> h = peek_header(stream_buf_);
      if (h->length < kHeaderBytes || h->length > kMaxMessageBytes) {
        reject_reply(stream_buf_, DecodeError{"stream length field " + std::to_string(h->length) +
                                                  " out of range",
                                              h->id, static_cast<std::uint16_t>(h->op), EPROTO});
        return false;
      }
      if (stream_buf_.size() >= h->length) {
        msg->assign(stream_buf_, 0, h->length);
        stream_buf_.erase(0, h->length);
        return true;
      }
    }
    sim::IoResult r = sock_.recv(&chunk, kMaxMessageBytes);
    if (!r.ok() || r.eof) return false;
    stream_buf_ += chunk;
  }
}

void PuffsMount::deliver(std::string_view bytes) {
  DecodedReply d = decode_reply(bytes);
  if (!d.rep) {
    reject_reply(bytes, d.error);
    return;
  }
  auto it = pending_.find(d.rep->h.id);
  if (it == pending_.end() || it->second->state != ReqState::sent) {
    ++bad_replies_;
    machine_.event("puffs_unknown_reply",
                   options_.name + ": " + describe(d.rep->h) + " answers no request in flight");
    return;
  }
  PuffsRequest& r = *it->second;
  if (d.rep->h.op != r.rq.h.op || d.rep->h.cookie != r.rq.h.cookie) {
    reject_reply(bytes, DecodeError{"answers " + describe(r.rq.h) + " with op " +
                                        std::string(op_name(d.rep->h.op)) + " cookie " +
                                        std::to_string(d.rep->h.cookie),
                                    d.rep->h.id, static_cast<std::uint16_t>(d.rep->h.op), EPROTO});
    return;
  }
  r.rep = std::move(*d.rep);
  state_change(r, ReqState::sent, ReqState::answered);
  r.done.wakeup();
}

// A reply that makes no sense: logged; the request it names (if any is in
// flight under that id) fails with EPROTO.
void PuffsMount::reject_reply(std::string_view bytes, const DecodeError& e) {
  ++bad_replies_;
  machine_.event("puffs_bad_reply",
                 options_.name + ": " + std::to_string(bytes.size()) + "-byte reply: " + e.why);
  if (!e.id) return;
  auto it = pending_.find(*e.id);
  if (it == pending_.end() || it->second->state != ReqState::sent) return;
  it->second->error = vn::Status(EPROTO);
  state_change(*it->second, ReqState::sent, ReqState::failed);
  it->second->done.wakeup();
}

// The server died or its socket closed: puffs unmounts by force. Every
// request in flight fails with ENXIO and every later op answers ENXIO
// without a message; then the reader reclaims every vnode (revoke_vnodes).
// This part may run in any lwp that noticed, even one inside a VOP holding
// vnode locks, so it only flags and wakes: it never sleeps.
void PuffsMount::server_gone(std::string_view why) {
  if (dead_) return;
  dead_ = true;
  machine_.event("puffs_server_gone", options_.name + ": " + std::string(why) + "; " +
                                          std::to_string(pending_.size()) + " requests failed");
  for (auto& [id, r] : pending_) {
    if (r->state != ReqState::sent) continue;
    r->error = vn::Status(ENXIO);
    state_change(*r, ReqState::sent, ReqState::failed);
    r->done.wakeup_quiet();
  }
}

// The forced unmount's reclaim, NetBSD's vgone on every vnode of the mount:
// referenced vnodes too, at once, each under its vnode lock (so after the
// lwps inside a VOP on it got their ENXIO and let go). Their holders keep a
// dead vnode (every VOP answers ENXIO) that their last vrele frees. No new
// vnode can appear meanwhile: loadvnode answers ENXIO on a dead mount.
void PuffsMount::revoke_vnodes() {
  VFSIM_KASSERT(machine_, dead_ && machine_.in_lwp() && machine_.current_id() == reader_,
                "puffs vnodes revoked outside the reader of a dead mount");
  if (!bound()) return;  // a stub driven without a VFS has no vnodes
  const vn::Status s = vcache().flush(mount(), /*force=*/true);
  VFSIM_KASSERT(machine_, s.ok(), "forced flush failed with errno " + std::to_string(s.err()));
  machine_.event("puffs_revoked", options_.name + ": every vnode reclaimed");
}

}  // namespace vfsim::puffs
