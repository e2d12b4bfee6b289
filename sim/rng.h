// The machine's pseudo-random generator: splitmix64 for seeding and
// xoshiro256** for the stream, with our own range reduction so the sequence
// is identical with every standard library (std::uniform_int_distribution is
// not specified bit for bit).
#pragma once

#include <cstdint>

namespace vfsim::sim {

// One step of splitmix64: a good 64-bit mixer, used to derive seeds.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Derives an independent seed for stream `stream` of run `seed`.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t s = seed ^ (stream * 0xd1342543de82ef95ULL);
  splitmix64(s);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  __extension__ using U128 = unsigned __int128;

  // Uniform in [0, n), n > 0: Lemire's multiply-shift with rejection.
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    U128 m = static_cast<U128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<U128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // True with probability num/den.
  bool chance(std::uint64_t num, std::uint64_t den) { return below(den) < num; }

  // True with probability p (0..1), resolved in millionths so it is exact.
  bool chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return below(1'000'000) < static_cast<std::uint64_t>(p * 1'000'000.0);
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace vfsim::sim
