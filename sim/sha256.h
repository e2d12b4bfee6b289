// SHA-256 (FIPS 180-4) of host files and texts: the identity a report keeps
// of the scenario it was made from and of every host image a run read, so a
// replay can tell "the same input" from "a file of the same name". SHA-256
// rather than a faster hash because users check it with sha256sum.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace vfsim::sim {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  void update(std::string_view text) { update(std::as_bytes(std::span(text.data(), text.size()))); }
  // The digest as 64 lowercase hex digits; the object is spent afterwards.
  [[nodiscard]] std::string hex_digest();

 private:
  void block(const std::uint8_t* p);

  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

[[nodiscard]] std::string sha256_hex(std::string_view text);

// The digest of a host file's content; false with a one-line reason naming
// the file when it cannot be read.
[[nodiscard]] bool sha256_file(const std::string& path, std::string* hex, std::string* reason);

}  // namespace vfsim::sim
