#include "fsdrivers/fuse/fuse_conn.h"

#include <cerrno>
#include <charconv>
#include <cstring>

namespace vfsim::fuse {

namespace {

// The channel a caller sleeps on for its reply. Renamed when a pooled
// Pending is reused (the name is only read for deadlock reports), so the
// name's and the waiter lists' buffers survive from one request to the next.
class ReplyChannel : public sim::WaitChannel {
 public:
  ReplyChannel(sim::Machine& m) : sim::WaitChannel(m, std::string()) {}
  void name_for(std::uint64_t unique, std::uint32_t opcode) {
    char num[24];
    const auto [end, ec] = std::to_chars(num, num + sizeof num, unique);
    (void)ec;  // 24 bytes hold any uint64_t
    name_.assign("fuse reply to req ");
    name_.append(num, end);
    name_.push_back(' ');
    name_.append(opcode_name(opcode));
  }
};

}  // namespace

struct FuseConn::Pending {
  Pending(sim::Machine& m, std::uint64_t unique, std::uint32_t opcode) : done(m) {
    reset(unique, opcode);
  }
  // Ready for a new request, as a fresh Pending would be.
  void reset(std::uint64_t unique, std::uint32_t op) {
    opcode = op;
    finished = false;
    error = 0;
    body.clear();
    done.clear_wakers();
    done.name_for(unique, op);
    on_done = nullptr;
  }
  std::uint32_t opcode = 0;
  bool finished = false;
  int error = 0;  // positive errno when finished with an error
  std::string body;
  std::string request;  // call's encoded request (its buffer kept with the pool)
  ReplyChannel done;
  FuseConn::Done on_done;  // call_async: run by whoever finishes it
};

// A synchronous call's Pending comes from a pool and goes back to it when
// the call returns (unless an lwp still sleeps on it, which only an
// unwinding caller could leave): a request allocates no channel, name or
// map node of its own. Nothing of a finished request is read again.
std::unique_ptr<FuseConn::Pending> FuseConn::take_pending(std::uint64_t unique,
                                                          std::uint32_t opcode) {
  if (spare_pending_.empty()) return std::make_unique<Pending>(m_, unique, opcode);
  std::unique_ptr<Pending> p = std::move(spare_pending_.back());
  spare_pending_.pop_back();
  p->reset(unique, opcode);
  return p;
}

void FuseConn::give_pending(std::unique_ptr<Pending> p) {
  constexpr std::size_t kKept = 64;
  if (p == nullptr || p->done.has_sleepers() || spare_pending_.size() >= kKept) return;
  p->on_done = nullptr;
  constexpr std::size_t kKeptBytes = std::size_t{64} * 1024;  // a large write's buffer goes
  if (p->request.capacity() > kKeptBytes) std::string().swap(p->request);
  if (p->body.capacity() > kKeptBytes) std::string().swap(p->body);
  spare_pending_.push_back(std::move(p));
}

void FuseConn::pending_add(std::uint64_t unique, Pending* p) {
  if (spare_nodes_.empty()) {
    pending_.emplace(unique, p);
    return;
  }
  auto node = std::move(spare_nodes_.back());
  spare_nodes_.pop_back();
  node.key() = unique;
  node.mapped() = p;
  pending_.insert(std::move(node));
}

void FuseConn::pending_erase(std::uint64_t unique) {
  auto node = pending_.extract(unique);
  if (!node.empty()) spare_nodes_.push_back(std::move(node));
}

FuseConn::FuseConn(sim::Machine& m, sim::Socket& kernel_end, ConnOptions options)
    : m_(m), sock_(kernel_end), options_(std::move(options)) {
  proto_.minor = kOurMinor;
}

FuseConn::~FuseConn() = default;

void FuseConn::start() {
  if (has_message_) return;  // replies are delivered by their writers
  reader_ = m_.spawn(
      options_.name + " fuse reader", [this] { reader_loop(); }, /*daemon=*/true);
  for (auto& [unique, p] : pending_) p->done.add_waker(reader_);
}

void FuseConn::deliver_in_writer(std::function<bool()> has_message) {
  has_message_ = std::move(has_message);
}

void FuseConn::add_reply_waker(sim::LwpId id) {
  reply_wakers_.push_back(id);
  if (!has_message_) return;
  for (auto& [unique, p] : pending_) p->done.add_waker(id);
}

void FuseConn::declare_reply_wakers(sim::Resource& r) const {
  if (reader_ != sim::kNoLwp) {
    r.add_waker(reader_);
    return;
  }
  if (!has_message_) return;
  for (sim::LwpId id : reply_wakers_) r.add_waker(id);
}

// In the writer's lwp, right after its message went onto /dev/fuse. Only
// this connection reads the kernel end, and only one lwp at a time pumps:
// a writer that finds another pumping leaves its message to that one,
// which loops until the end is empty; so a receive here never waits. Each
// receive is a scheduling point (the kernel taking the message).
void FuseConn::pump() {
  if (!has_message_ || pumping_) return;
  pumping_ = true;
  struct Clear {
    bool& f;
    ~Clear() { f = false; }
  } clear{pumping_};
  while (!dead_ && has_message_()) {
    sim::IoResult r = sock_.recv(&pump_msg_, kMaxReplyBytes);
    if (!r.ok() || r.eof) {
      daemon_gone(r.eof ? "the daemon closed /dev/fuse" : "recv errno " + std::to_string(r.err()));
      return;
    }
    if (r.truncated) {
      bad_reply(pump_msg_, "message longer than " + std::to_string(kMaxReplyBytes) + " bytes",
                std::nullopt);
      continue;
    }
    deliver(pump_msg_);
  }
}

// The daemon's end closed (it exited, crashed or gave up): what it wrote
// before is delivered, then every request still waiting ends with ENXIO,
// as the reader's end-of-file does.
void FuseConn::peer_closed() {
  if (!has_message_) return;
  pump();
  daemon_gone("the daemon closed /dev/fuse");
}

vn::Status FuseConn::init() {
  Caller root;
  auto r = call(FUSE_INIT, 0, body_init(options_.max_readahead, options_.init_flags), root);
  if (!r.ok()) {
    m_.event("fuse_init_failed", options_.name + ": errno " + std::to_string(r.err()));
    return r.status();
  }
  auto out = decode_init_out(*r, kOurMinor);
  Decoded<Negotiated> n;
  if (out.ok()) n = negotiate(kOurMinor, options_.init_flags, *out);
  if (!out.ok() || !n.ok()) {
    const std::string why = !out.ok() ? out.error.why : n.error.why;
    bad_reply(*r, "INIT: " + why, std::nullopt);
    return vn::Status(EPROTO);
  }
  proto_ = *n;
  initialised_ = true;
  m_.event("fuse_init", options_.name + ": protocol 7." + std::to_string(proto_.minor) +
                            " (daemon 7." + std::to_string(out->minor) + "), max_write " +
                            std::to_string(proto_.max_write));
  return vn::kOk;
}

vn::Result<std::string> FuseConn::call(std::uint32_t opcode, std::uint64_t nodeid,
                                       std::string_view body, const Caller& who) {
  if (dead_) return vn::Status(ENXIO);
  const std::uint64_t unique = next_unique_;
  next_unique_ += 2;
  struct Give {  // back to the pool on every path out, after Forget below
    FuseConn& c;
    std::unique_ptr<Pending> p;
    ~Give() { c.give_pending(std::move(p)); }
  } give{*this, take_pending(unique, opcode)};
  Pending& p = *give.p;
  // Only the reader (or, without one, the daemon's writers) answers:
  // waiting here while it waits on this lwp is a cycle the deadlock oracle
  // can see.
  declare_reply_wakers(p.done);
  encode_request_into(&p.request, {opcode, unique, nodeid, who.uid, who.gid, who.pid}, body);
  pending_add(unique, &p);
  const bool keep = m_.trace().keeping();
  sim::IoResult r = sock_.send(
      p.request, keep ? "req " + std::to_string(unique) + " " + std::string(opcode_name(opcode))
                      : std::string());
  if (!r.ok()) {
    pending_erase(unique);
    daemon_gone("send failed: errno " + std::to_string(r.err()));
    return vn::Status(ENXIO);
  }
  struct Forget {  // out of the map on every path out, unwinding included
    FuseConn& c;
    std::uint64_t unique;
    ~Forget() { c.pending_erase(unique); }
  } forget{*this, unique};
  while (!p.finished) {
    if (!p.done.sleep("fuse reply", options_.timeout)) {
      m_.event("fuse_timeout", options_.name + ": req " + std::to_string(unique) + " " +
                                   std::string(opcode_name(opcode)));
      return vn::Status(EIO);
    }
  }
  if (p.error != 0) return vn::Status(p.error);
  return std::move(p.body);
}

vn::Status FuseConn::call_async(std::uint32_t opcode, std::uint64_t nodeid, std::string_view body,
                                const Caller& who, Done done) {
  if (dead_) return vn::Status(ENXIO);
  const std::uint64_t unique = next_unique_;
  next_unique_ += 2;
  auto owned = std::make_unique<Pending>(m_, unique, opcode);
  owned->on_done = std::move(done);
  Pending* p = owned.get();
  async_.emplace(unique, std::move(owned));
  pending_add(unique, p);
  const std::string bytes =
      encode_request({opcode, unique, nodeid, who.uid, who.gid, who.pid}, body);
  const bool keep = m_.trace().keeping();
  sim::IoResult r = sock_.send(bytes, keep ? "req " + std::to_string(unique) + " " +
                                                 std::string(opcode_name(opcode)) + " (background)"
                                           : std::string());
  if (!r.ok()) {
    daemon_gone("send failed: errno " + std::to_string(r.err()));  // runs on_done (ENXIO)
    return vn::Status(ENXIO);
  }
  return vn::kOk;
}

// Ends a pending request: wakes its caller, or runs call_async's `done`.
void FuseConn::finish(std::uint64_t unique, int error, std::string_view body, bool quiet) {
  auto it = pending_.find(unique);
  if (it == pending_.end()) return;
  Pending& p = *it->second;
  p.finished = true;
  p.error = error;
  if (!p.on_done) {
    p.body.assign(body);
    if (quiet) p.done.wakeup_quiet();
    else p.done.wakeup();
    return;
  }
  pending_erase(unique);
  auto owned = async_.extract(unique);
  owned.mapped()->on_done(error);
}

vn::Status FuseConn::send_noreply(std::uint32_t opcode, std::uint64_t nodeid, std::string_view body,
                                  const Caller& who) {
  if (dead_) return vn::Status(ENXIO);
  const std::uint64_t unique = next_unique_;
  next_unique_ += 2;
  const std::string bytes =
      encode_request({opcode, unique, nodeid, who.uid, who.gid, who.pid}, body);
  sim::IoResult r = sock_.send(bytes);
  if (!r.ok()) {
    daemon_gone("send failed: errno " + std::to_string(r.err()));
    return vn::Status(ENXIO);
  }
  return vn::kOk;
}

vn::Status FuseConn::interrupt(std::uint64_t unique) {
  if (dead_) return vn::Status(ENXIO);
  const std::string bytes =
      encode_request({FUSE_INTERRUPT, unique | 1, 0, 0, 0, 0}, body_interrupt(unique));
  sim::IoResult r = sock_.send(bytes);
  return r.ok() ? vn::kOk : vn::Status(ENXIO);
}

void FuseConn::close() {
  if (closing_) return;
  closing_ = true;
  sock_.close();
  // What the reader's receive would answer now (EBADF): nothing more comes.
  if (has_message_) daemon_gone("the kernel closed /dev/fuse");
}

// The kernel side frames a stream by fuse_out_header.len (what is under
// test on a stream is the daemon's reading, not ours); a length that cannot
// be right leaves no way to find the next message: the connection is lost.
bool FuseConn::next_message(std::string* msg) {
  if (sock_.type() != sim::SockType::stream) {
    for (;;) {
      sim::IoResult r = sock_.recv(msg, kMaxReplyBytes);
      if (!r.ok() || r.eof) {
        daemon_gone(r.eof ? "the daemon closed /dev/fuse"
                          : "recv errno " + std::to_string(r.err()));
        return false;
      }
      if (!r.truncated) return true;
      bad_reply(*msg, "message longer than " + std::to_string(kMaxReplyBytes) + " bytes",
                std::nullopt);
    }
  }
  std::string chunk;
  for (;;) {
    if (stream_buf_.size() >= sizeof(std::uint32_t)) {
      std::uint32_t len = 0;
      std::memcpy(&len, stream_buf_.data(), sizeof(len));
      if (len < kOutHeaderBytes || len > kMaxReplyBytes) {
        bad_reply(stream_buf_, "stream length field " + std::to_string(len) + " out of range",
                  std::nullopt);
        daemon_gone("unframeable stream");
        return false;
      }
      if (stream_buf_.size() >= len) {
        msg->assign(stream_buf_, 0, len);
        stream_buf_.erase(0, len);
        return true;
      }
    }
    sim::IoResult r = sock_.recv(&chunk, kMaxReplyBytes);
    if (!r.ok() || r.eof) {
      daemon_gone(r.eof ? "the daemon closed /dev/fuse" : "recv errno " + std::to_string(r.err()));
      return false;
    }
    stream_buf_ += chunk;
  }
}

void FuseConn::reader_loop() {
  std::string msg;
  while (!dead_ && next_message(&msg)) deliver(msg);
}

void FuseConn::deliver(std::string_view bytes) {
  auto d = decode_message(bytes);
  if (!d.ok()) {
    std::optional<std::uint64_t> id;
    if (bytes.size() >= kOutHeaderBytes) {
      fuse_out_header oh;
      std::memcpy(&oh, bytes.data(), sizeof(oh));
      if (oh.unique != 0) id = oh.unique;
    }
    bad_reply(bytes, d.error.why, id);
    return;
  }
  if (d->h.notification()) {
    notification(*d);
    return;
  }
  if (!pending_.contains(d->h.unique)) {
    // A reply to an INTERRUPT (EAGAIN), or to a request that timed out.
    m_.event("fuse_unknown_reply", options_.name + ": unique " + std::to_string(d->h.unique) +
                                       " error " + std::to_string(d->h.error));
    return;
  }
  // The kernel's write(2) of /dev/fuse wakes the caller and returns: the
  // reader's next step is its next receive, and a writer's (pump) its next
  // receive or its return to libfuse, whose next step that another lwp can
  // see is a lock, a read or a write: each a scheduling point, so waking
  // the caller needs no other.
  finish(d->h.unique, -d->h.error, d->body, /*quiet=*/true);
}

void FuseConn::notification(const Message& msg) {
  auto n = decode_notification(msg.h.error, msg.body);
  if (!n.ok()) {
    bad_reply(std::string_view(), "notification: " + n.error.why, std::nullopt);
    return;
  }
  if (notify_) {
    (void)notify_(*n.value);
    return;
  }
  m_.event("fuse_notify", options_.name + ": " + std::string(notify_name(msg.h.error)));
  if (const auto* r = std::get_if<NotifyRetrieve>(&*n.value)) {
    answer_retrieve(*r, {});  // nothing cached to give back
  }
}

void FuseConn::answer_retrieve(const NotifyRetrieve& r, std::string_view data) {
  const std::string bytes = encode_request({FUSE_NOTIFY_REPLY, r.notify_unique, r.nodeid, 0, 0, 0},
                                           body_notify_reply(r.offset, data));
  (void)sock_.send(bytes);
}

// The daemon's writev of a notification: decoded here, in its lwp. A
// malformed one is the daemon's error (EINVAL to its writev), logged, and
// with fatal_protocol_errors the end of the run.
int FuseConn::notify_from_writer(std::string_view bytes) {
  auto d = decode_message(bytes);
  if (!d.ok() || !d->h.notification()) {
    bad_reply(bytes, d.ok() ? "not a notification" : d.error.why, std::nullopt);
    return EINVAL;
  }
  auto n = decode_notification(d->h.error, d->body);
  if (!n.ok()) {
    bad_reply(bytes, "notification: " + n.error.why, std::nullopt);
    return n.error.err;
  }
  if (notify_) return notify_(*n.value);
  m_.event("fuse_notify", options_.name + ": " + std::string(notify_name(d->h.error)));
  if (const auto* r = std::get_if<NotifyRetrieve>(&*n.value)) answer_retrieve(*r, {});
  return 0;
}

void FuseConn::bad_reply(std::string_view bytes, const std::string& why,
                         std::optional<std::uint64_t> id) {
  ++bad_replies_;
  const std::string text = "fuse '" + options_.name + "': bad message from the daemon (" +
                           std::to_string(bytes.size()) + " bytes" +
                           (id ? ", unique " + std::to_string(*id) : std::string()) + "): " + why;
  m_.event("fuse_bad_reply", text);
  if (id) finish(*id, EIO, {});
  if (options_.fatal_protocol_errors) m_.fail(sim::Outcome::protocol, text);
}

void FuseConn::daemon_gone(std::string_view why) {
  if (dead_) return;
  dead_ = true;
  if (!closing_) m_.event("fuse_daemon_gone", options_.name + ": " + std::string(why));
  std::vector<std::uint64_t> uniques;
  for (const auto& [unique, p] : pending_) uniques.push_back(unique);
  for (std::uint64_t u : uniques) finish(u, ENXIO, {});
}

}  // namespace vfsim::fuse
