// The configuration of one puffs mount, typed: the transport, the kernel
// stub's options, the server's, the faults on the wire, and the file system
// the server serves. One parser turns mount options (text, as mount(2) gets
// them) into it, and one check() holds every rule, whichever way the
// configuration came: the scenario knobs build a PuffsConfig directly
// (boot/, scenarios/modules/puffs_module.cc) and call the same check().
//
// Mount options (parse_mount_options):
//
//   transport        seqpacket | dgram | stream            (default seqpacket)
//   size_lock        true | false (or 1 | 0)               (default true)
//   reclaim_nlookup  true | false: lookup counts in RECLAIM (default true)
//   timeout_ms       request timeout, 0 = none              (default 0)
//   retry            resends after a timeout, -1 or "forever" = for ever,
//                    at most 100; needs timeout_ms > 0      (default 0)
//   workers          server worker lwps, 1 to 64            (default 1)
//   framing          naive | reassemble (server, stream)    (default naive)
//   rcvbuf_bytes     receive buffer of each end             (default 65536)
//   rcvbuf_msgs      most queued messages per end, 0 = any  (default 0)
//   server_latency_us  virtual time each server op takes    (default 0)
//   req_drop_at / reply_drop_at   drop these messages ("3,5"; 1-based)
//   req_drop_ppm / reply_drop_ppm drop with this chance per million
//   server_crash_at  the server dies on its n-th request   (default 0 = never)
//   backend          the registered file-system type the server serves
//                    through p2k                            (default memfs)
//
// Every other option is the backend's own (image=... for ext2, size_max=...
// for memfs), handed to its type unchanged; the backend refuses what it does
// not know.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fsdrivers/puffs/puffs_server.h"
#include "sim/socket.h"
#include "vnode/fstype.h"

namespace vfsim::puffs {

// mount(2)'s options as text (vn::MountArgs).
using MountOptions = vn::MountArgs;

// A bad option: which one (its mount-option name) and why.
struct OptionError {
  std::string option;
  std::string reason;
};

struct PuffsConfig {
  sim::SockType transport = sim::SockType::seqpacket;
  bool size_lock = true;
  bool reclaim_nlookup = true;
  std::uint64_t timeout_ms = 0;
  std::int64_t retry = 0;  // -1: for ever
  std::int64_t workers = 1;
  Framing framing = Framing::naive;
  std::uint64_t rcvbuf_bytes = 65536;
  std::uint64_t rcvbuf_msgs = 0;
  std::uint64_t server_latency_us = 0;
  std::vector<std::uint64_t> req_drop_at, reply_drop_at;  // message numbers, from 1
  std::uint64_t req_drop_ppm = 0, reply_drop_ppm = 0;
  std::uint64_t server_crash_at = 0;
  std::string backend = "memfs";
  vn::MountArgs backend_args;

  // Every rule on the values above (ranges, and what needs what).
  [[nodiscard]] std::optional<OptionError> check() const;
};

// Mount options (above) into *out, then check(). Absent options keep *out's
// values.
[[nodiscard]] std::optional<OptionError> parse_mount_options(const vn::MountArgs& args,
                                                             PuffsConfig* out);

// "3,5" -> {3, 5}; "" -> {}. nullopt when an entry is not a number from 1.
[[nodiscard]] std::optional<std::vector<std::uint64_t>> parse_message_list(std::string_view text);

// The names transport and framing are written with.
[[nodiscard]] std::optional<Framing> framing_from_name(std::string_view name);

}  // namespace vfsim::puffs
