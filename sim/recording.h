// A recording of a machine that served the outside world (vfsim mount
// --record): every batch of messages that arrived, with its virtual time; every
// message the machine sent; every scheduling decision; when the outside
// closed; named blobs the serving code adds (the final tree); and, at the
// end, the run's outcome and trace hash. RecordedSource plays a recording
// back as an OutsideSource, so the same run re-executes inside the
// simulator with no device at all.
//
// The stream file (little-endian):
//
//   "VFSIMREC" u32 version(1) u32 flags(0)
//   records, each a tag byte:
//     'A' u64 at  u32 count  { u32 len, bytes }*count     a batch arrived
//     'S' u32 len bytes                                   a message sent
//     'D' u32 count  varint*count                         decisions (lwp ids)
//     'C' u64 at                                          the outside closed
//     'B' u32 namelen name u64 len bytes                  a named blob
//     'E' u64 trace_hash u64 steps u64 end_time u8 outcome u32 msglen msg
//         u8[32] sha256 of every byte before this record  the end
//
// A stream that does not parse, ends before 'E', or whose digest does not
// match is refused with one line naming the file and the byte offset.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/machine.h"
#include "sim/outside.h"
#include "sim/sha256.h"

namespace vfsim::sim {

struct Recording {
  struct Batch {
    VTime at = 0;
    std::vector<std::string> messages;
  };
  std::vector<Batch> batches;
  std::vector<std::string> sent;
  std::optional<VTime> closed_at;
  Schedule decisions;
  std::map<std::string, std::string, std::less<>> blobs;
  // The end of the recorded run.
  std::uint64_t trace_hash = 0;
  std::uint64_t steps = 0;
  VTime end_time = 0;
  Outcome outcome = Outcome::pass;
  std::string message;
  std::uint64_t requests() const;
};

// Reads a whole stream file; false with a one-line reason naming the file
// (and the offset) when it cannot be read or is not a complete recording.
[[nodiscard]] bool read_recording(const std::string& path, Recording* out, std::string* reason);

// Writes a stream file as the run goes (buffered); finish() appends the end
// record. Not thread-safe: the machine's thread only.
class RecordingWriter {
 public:
  // nullptr with a reason when the file cannot be created.
  [[nodiscard]] static std::unique_ptr<RecordingWriter> create(const std::string& path,
                                                               std::string* reason);
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  void arrival(VTime at, const std::vector<std::string>& batch);
  void sent(std::string_view bytes);
  void decision(LwpId chosen);
  void closed(VTime at);
  void blob(std::string_view name, std::string_view data);
  // Appends the end record and closes the file; false with a reason on an
  // I/O error (at any point of the recording).
  [[nodiscard]] bool finish(const RunResult& r, std::string* reason);
  const std::string& path() const { return path_; }

 private:
  RecordingWriter(std::string path, std::FILE* f);
  void put(std::string_view bytes);
  void put_u8(std::uint8_t v);
  void put_u32(std::uint32_t v);
  void put_u64(std::uint64_t v);
  void flush_decisions();

  std::string path_;
  std::FILE* f_;
  Sha256 digest_;
  std::vector<LwpId> decisions_;
  bool failed_ = false;
};

// Plays a recording back. Each wait() at an idle point delivers the next
// batch if it is due by the deadline (at its recorded time), else lets the
// deadline pass; after the last batch the outside closes at its recorded
// time. With `check_sent`, every message sent must be the recorded one,
// byte for byte, in order: the first that is not (or one too many) ends the
// run as Outcome::expectation naming it. Blobs are offered to the serving
// code through recorded_blob().
class RecordedSource final : public OutsideSource {
 public:
  RecordedSource(std::shared_ptr<const Recording> rec, bool check_sent)
      : rec_(std::move(rec)), check_sent_(check_sent) {}
  Wake wait(VTime now, VTime deadline, std::vector<std::string>* batch, VTime* at) override;
  void send(Machine& m, std::string_view bytes) override;
  [[nodiscard]] std::optional<std::string> recorded_blob(std::string_view name) const override;
  const Recording& recording() const { return *rec_; }
  std::uint64_t matched() const { return matched_; }

 private:
  std::shared_ptr<const Recording> rec_;
  bool check_sent_;
  std::size_t next_batch_ = 0;
  std::size_t next_sent_ = 0;
  std::uint64_t matched_ = 0;
};

// The first difference between a sent message and the recorded one, for
// messages: "differs at byte 16 (sent 0x02, recorded 0x01), 80 bytes vs 80".
[[nodiscard]] std::string describe_difference(std::string_view got, std::string_view want);

}  // namespace vfsim::sim
