// Recordings of served runs (recording.h).
#include "sim/recording.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vfsim::sim {

namespace {

constexpr std::string_view kMagic = "VFSIMREC";
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kDecisionChunk = 1 << 16;

// Reads the stream's fields in order; the first failure stays.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : b_(bytes) {}
  bool ok() const { return ok_; }
  std::size_t offset() const { return at_; }
  bool at_end() const { return at_ == b_.size(); }
  std::string_view take(std::size_t n) {
    if (!ok_ || b_.size() - at_ < n) {
      ok_ = false;
      return {};
    }
    std::string_view v = b_.substr(at_, n);
    at_ += n;
    return v;
  }
  std::uint64_t uint(int bytes) {
    std::string_view v = take(static_cast<std::size_t>(bytes));
    std::uint64_t out = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      out |= static_cast<std::uint64_t>(static_cast<unsigned char>(v[i])) << (8 * i);
    }
    return out;
  }
  std::uint64_t varint() {
    std::uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::string_view v = take(1);
      if (!ok_) return 0;
      const auto c = static_cast<unsigned char>(v[0]);
      out |= static_cast<std::uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) return out;
    }
    ok_ = false;
    return 0;
  }

 private:
  std::string_view b_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

std::string hex_byte(unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 15];
}

}  // namespace

std::uint64_t Recording::requests() const {
  std::uint64_t n = 0;
  for (const Batch& b : batches) n += b.messages.size();
  return n;
}

bool read_recording(const std::string& path, Recording* out, std::string* reason) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *reason = path + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = std::move(ss).str();
  auto bad = [&](std::size_t at, const std::string& why) {
    *reason = path + ": byte " + std::to_string(at) + ": " + why;
    return false;
  };
  Reader r(bytes);
  if (r.take(kMagic.size()) != kMagic) return bad(0, "not a vfsim recording stream");
  const auto version = r.uint(4);
  (void)r.uint(4);  // flags
  if (!r.ok() || version != kVersion) {
    return bad(8, "stream version " + std::to_string(version) + ", this vfsim reads " +
                      std::to_string(kVersion));
  }
  Recording rec;
  for (;;) {
    const std::size_t at = r.offset();
    if (r.at_end()) return bad(at, "the recording ends before its end record (cut short?)");
    const std::string_view tag = r.take(1);
    switch (tag[0]) {
      case 'A': {
        Recording::Batch b;
        b.at = r.uint(8);
        const auto n = r.uint(4);
        if (n == 0 || (!rec.batches.empty() && b.at < rec.batches.back().at)) {
          return bad(at, "a batch that is empty or arrived before the one before it");
        }
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
          const auto len = r.uint(4);
          b.messages.emplace_back(r.take(len));
        }
        rec.batches.push_back(std::move(b));
        break;
      }
      case 'S': {
        const auto len = r.uint(4);
        rec.sent.emplace_back(r.take(len));
        break;
      }
      case 'D': {
        const auto n = r.uint(4);
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
          rec.decisions.push_back(static_cast<LwpId>(r.varint()));
        }
        break;
      }
      case 'C': rec.closed_at = r.uint(8); break;
      case 'B': {
        const auto nlen = r.uint(4);
        std::string name(r.take(nlen));
        const auto len = r.uint(8);
        rec.blobs[name] = std::string(r.take(len));
        break;
      }
      case 'E': {
        rec.trace_hash = r.uint(8);
        rec.steps = r.uint(8);
        rec.end_time = r.uint(8);
        const auto outcome = r.uint(1);
        const auto mlen = r.uint(4);
        rec.message = std::string(r.take(mlen));
        const std::string_view digest = r.take(32);
        if (!r.ok()) return bad(at, "the end record is cut short");
        if (outcome > static_cast<std::uint64_t>(Outcome::setup)) return bad(at, "bad outcome");
        rec.outcome = static_cast<Outcome>(outcome);
        Sha256 h;
        h.update(std::string_view(bytes).substr(0, at));
        const std::string want = h.hex_digest();
        std::string got;
        for (char c : digest) got += hex_byte(static_cast<unsigned char>(c)).substr(2);
        if (got != want) return bad(at, "the stream's digest does not match its content");
        if (!r.at_end()) return bad(r.offset(), "bytes after the end record");
        if (!rec.closed_at) return bad(at, "the recording never saw the outside close");
        *out = std::move(rec);
        return true;
      }
      default:
        return bad(at, "unknown record '" + hex_byte(static_cast<unsigned char>(tag[0])) + "'");
    }
    if (!r.ok()) return bad(at, "a record is cut short");
  }
}

// --- writing ------------------------------------------------------------------

std::unique_ptr<RecordingWriter> RecordingWriter::create(const std::string& path,
                                                         std::string* reason) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    *reason = path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<RecordingWriter> w(new RecordingWriter(path, f));
  w->put(kMagic);
  w->put_u32(kVersion);
  w->put_u32(0);
  return w;
}

RecordingWriter::RecordingWriter(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
}

RecordingWriter::~RecordingWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

void RecordingWriter::put(std::string_view bytes) {
  if (bytes.empty()) return;
  digest_.update(bytes);
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size()) failed_ = true;
}

void RecordingWriter::put_u8(std::uint8_t v) {
  put(std::string_view(reinterpret_cast<char*>(&v), 1));
}

void RecordingWriter::put_u32(std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  put(std::string_view(b, 4));
}

void RecordingWriter::put_u64(std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  put(std::string_view(b, 8));
}

void RecordingWriter::arrival(VTime at, const std::vector<std::string>& batch) {
  put_u8('A');
  put_u64(at);
  put_u32(static_cast<std::uint32_t>(batch.size()));
  for (const std::string& m : batch) {
    put_u32(static_cast<std::uint32_t>(m.size()));
    put(m);
  }
}

void RecordingWriter::sent(std::string_view bytes) {
  put_u8('S');
  put_u32(static_cast<std::uint32_t>(bytes.size()));
  put(bytes);
}

void RecordingWriter::decision(LwpId chosen) {
  decisions_.push_back(chosen);
  if (decisions_.size() >= kDecisionChunk) flush_decisions();
}

void RecordingWriter::flush_decisions() {
  if (decisions_.empty()) return;
  put_u8('D');
  put_u32(static_cast<std::uint32_t>(decisions_.size()));
  std::string buf;
  for (LwpId id : decisions_) {
    std::uint64_t v = id;
    do {
      const auto low = static_cast<unsigned char>(v & 0x7f);
      v >>= 7;
      buf += static_cast<char>(v != 0 ? (low | 0x80) : low);
    } while (v != 0);
  }
  put(buf);
  decisions_.clear();
}

void RecordingWriter::closed(VTime at) {
  put_u8('C');
  put_u64(at);
}

void RecordingWriter::blob(std::string_view name, std::string_view data) {
  put_u8('B');
  put_u32(static_cast<std::uint32_t>(name.size()));
  put(name);
  put_u64(data.size());
  put(data);
}

bool RecordingWriter::finish(const RunResult& r, std::string* reason) {
  flush_decisions();
  std::string digest = digest_.hex_digest();
  std::string raw;
  for (std::size_t i = 0; i + 1 < digest.size(); i += 2) {
    raw += static_cast<char>(std::stoi(digest.substr(i, 2), nullptr, 16));
  }
  // The end record is not part of the digest it carries.
  auto raw_put = [&](std::string_view b) {
    if (std::fwrite(b.data(), 1, b.size(), f_) != b.size()) failed_ = true;
  };
  std::string e = "E";
  auto le = [&](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) e += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  le(r.trace_hash, 8);
  le(r.steps, 8);
  le(r.end_time, 8);
  le(static_cast<std::uint64_t>(r.outcome), 1);
  le(r.message.size(), 4);
  e += r.message;
  e += raw;
  raw_put(e);
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (failed_ || rc != 0) {
    *reason = path_ + ": writing the recording failed: " + std::strerror(errno);
    return false;
  }
  return true;
}

// --- playing back ---------------------------------------------------------------

OutsideSource::Wake RecordedSource::wait(VTime now, VTime deadline, std::vector<std::string>* batch,
                                         VTime* at) {
  if (next_batch_ < rec_->batches.size()) {
    const Recording::Batch& b = rec_->batches[next_batch_];
    if (b.at > deadline) return Wake::deadline;
    ++next_batch_;
    *batch = b.messages;
    *at = std::max(now, b.at);
    return Wake::arrived;
  }
  const VTime closed = rec_->closed_at.value_or(now);
  if (closed > deadline) return Wake::deadline;
  *at = std::max(now, closed);
  return Wake::closed;
}

void RecordedSource::send(Machine& m, std::string_view bytes) {
  if (!check_sent_) return;
  const std::size_t i = next_sent_++;
  if (i >= rec_->sent.size()) {
    m.fail(Outcome::expectation, "message " + std::to_string(i + 1) +
                                     " sent, but the recording sent only " +
                                     std::to_string(rec_->sent.size()));
  }
  if (bytes != rec_->sent[i]) {
    m.fail(Outcome::expectation, "message " + std::to_string(i + 1) + " sent " +
                                     describe_difference(bytes, rec_->sent[i]));
  }
  ++matched_;
}

std::optional<std::string> RecordedSource::recorded_blob(std::string_view name) const {
  auto it = rec_->blobs.find(name);
  if (it == rec_->blobs.end()) return std::nullopt;
  return it->second;
}

std::string describe_difference(std::string_view got, std::string_view want) {
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  std::string s = "differs from the recording at byte " + std::to_string(i);
  if (i < got.size() && i < want.size()) {
    s += " (sent " + hex_byte(static_cast<unsigned char>(got[i])) + ", recorded " +
         hex_byte(static_cast<unsigned char>(want[i])) + ")";
  }
  return s + ", " + std::to_string(got.size()) + " bytes vs " + std::to_string(want.size());
}

}  // namespace vfsim::sim
