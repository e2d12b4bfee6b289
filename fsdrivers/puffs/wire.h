// Little-endian byte encoding for the puffs wire format. WireReader never
// reads past its input: once a read would overrun, it is marked bad, returns
// zeros and empty strings, and the caller reports why it went bad.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vfsim::puffs {

// Reads `n` (<= 8) little-endian bytes at `at`; the caller checked the size.
inline std::uint64_t le_at(std::string_view in, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return v;
}

class WireWriter {
 public:
  WireWriter() { buf_.reserve(128); }
  void u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    buf_.append(s);
  }
  std::string& buf() { return buf_; }
  // Overwrites 4 bytes at `at` (the length field once the size is known).
  void patch_u32(std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) buf_[at + i] = static_cast<char>(v >> (8 * i));
  }

 private:
  void put(std::uint64_t v, int n) {
    char b[8];
    for (int i = 0; i < n; ++i) b[i] = static_cast<char>(v >> (8 * i));
    buf_.append(b, static_cast<std::size_t>(n));
  }
  std::string buf_;
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::string str() {
    const std::uint32_t n = u32();
    if (bad_ || n > in_.size() - pos_) {
      bad_ = true;
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool bad() const { return bad_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t pos() const { return pos_; }

 private:
  std::uint64_t get(std::size_t n) {
    if (bad_ || n > in_.size() - pos_) {
      bad_ = true;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    }
    pos_ += n;
    return v;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool bad_ = false;
};

}  // namespace vfsim::puffs
