// Tests of the block-device model (sim/blockdev.h): both media move the bytes
// and refuse out-of-range and oversized requests, a request is a scheduling
// point and takes its latency of virtual time, a host image file sees every
// write, and FaultyDisk's faults fire as configured, tear writes on sector
// boundaries and replay from the seed.
#include "sim/blockdev.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>

#include "test_util.h"

namespace vfsim::sim {
namespace {

using testing::run_once;

std::vector<std::byte> pattern(std::size_t n, int seed = 0) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
  return v;
}

std::unique_ptr<MemDisk> mem(Machine& m, std::size_t n, BlockDevOptions o = {}) {
  std::string why;
  auto d = MemDisk::make(m, std::vector<std::byte>(n), std::move(o), &why);
  EXPECT_TRUE(d) << why;
  return d;
}

// A write followed by a read returns the same bytes; requests past the end
// or longer than max_request_bytes answer EIO; a read-only disk answers EROFS.
TEST(BlockDev, MemDiskReadsWritesAndChecksRanges) {
  auto r = run_once([](Machine& m) {
    m.spawn("io", [&m] {
      BlockDevOptions o;
      o.max_request_bytes = 4096;
      auto d = mem(m, 8192, o);
      auto data = pattern(1000);
      EXPECT_EQ(d->write(100, data).err(), 0);
      std::vector<std::byte> back(1000);
      EXPECT_EQ(d->read(100, back).err(), 0);
      EXPECT_EQ(back, data);
      EXPECT_EQ(d->read(8192 - 10, std::span(back).first(11)).err(), EIO);
      EXPECT_EQ(d->read(~std::uint64_t{0}, std::span(back).first(1)).err(), EIO);
      std::vector<std::byte> big(4097);
      EXPECT_EQ(d->write(0, big).err(), EIO);
      EXPECT_EQ(d->stats().writes, 1u);
      EXPECT_EQ(d->stats().bytes_read, 1000u);
      o.read_only = true;
      auto ro = mem(m, 512, o);
      EXPECT_EQ(ro->write(0, std::span(data).first(10)).err(), EROFS);
    });
  });
  EXPECT_FALSE(r.failed()) << r.message;
}

// A medium larger than max_bytes is refused with a reason naming it.
TEST(BlockDev, RefusesOversizedMedium) {
  auto r = run_once([](Machine& m) {
    BlockDevOptions o;
    o.name = "img";
    o.max_bytes = 1024;
    std::string why;
    EXPECT_EQ(MemDisk::make(m, std::vector<std::byte>(1025), o, &why), nullptr);
    EXPECT_NE(why.find("img"), std::string::npos) << why;
  });
  EXPECT_FALSE(r.failed()) << r.message;
}

// Two lwps doing I/O interleave at requests: under the random strategy the
// order of their requests differs between seeds, so a request is a point
// where another lwp may run. With latency, the clock moves by it per request.
TEST(BlockDev, RequestsAreSchedulingPointsAndTakeTime) {
  std::set<std::string> orders;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::string order;
    auto r = run_once(
        [&order](Machine& m) {
          auto d = std::shared_ptr<MemDisk>(mem(m, 4096));
          for (char name : {'a', 'b'}) {
            m.spawn(std::string(1, name), [&m, d, name, &order] {
              std::vector<std::byte> buf(16);
              for (int i = 0; i < 3; ++i) {
                EXPECT_EQ(d->read(0, buf).err(), 0);
                order += name;
              }
            });
          }
        },
        "random", seed);
    EXPECT_FALSE(r.failed()) << r.message;
    orders.insert(order);
  }
  EXPECT_GT(orders.size(), 1u);

  auto r = run_once([](Machine& m) {
    m.spawn("slow", [&m] {
      BlockDevOptions o;
      o.read_latency = 3 * kMillisecond;
      o.write_latency = 5 * kMillisecond;
      auto d = mem(m, 4096, o);
      std::vector<std::byte> buf(16);
      EXPECT_EQ(d->read(0, buf).err(), 0);
      EXPECT_EQ(d->write(0, buf).err(), 0);
      EXPECT_EQ(m.now(), 8 * kMillisecond);
    });
  });
  EXPECT_FALSE(r.failed()) << r.message;
}

// A host image file: writes reach the file at once (unbuffered), reads see
// its content, a missing file is a one-line reason naming the path.
TEST(BlockDev, FileDiskReadsAndWritesTheHostFile) {
  char path[] = "/tmp/vfsim-blockdev-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  auto init = pattern(4096, 3);
  ASSERT_EQ(::write(fd, init.data(), init.size()), 4096);
  ::close(fd);
  auto r = run_once([&path, &init](Machine& m) {
    m.spawn("io", [&] {
      std::string why;
      auto d = FileDisk::open(m, path, {}, &why);
      ASSERT_TRUE(d) << why;
      EXPECT_EQ(d->size_bytes(), 4096u);
      std::vector<std::byte> buf(4096);
      EXPECT_EQ(d->read(0, buf).err(), 0);
      EXPECT_EQ(buf, init);
      const char msg[] = "hello";
      EXPECT_EQ(d->write(10, std::as_bytes(std::span(msg, 5))).err(), 0);
      EXPECT_EQ(d->flush().err(), 0);
      EXPECT_EQ(FileDisk::open(m, "/nonexistent/x.img", {}, &why), nullptr);
      EXPECT_NE(why.find("/nonexistent/x.img"), std::string::npos);
    });
  });
  EXPECT_FALSE(r.failed()) << r.message;
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  ::unlink(path);
  EXPECT_EQ(content.substr(10, 5), "hello");
  EXPECT_EQ(content.size(), 4096u);
}

// The k-th write fails with EIO and stores nothing; other writes go through;
// the fault shows in the trace.
TEST(BlockDev, KthWriteFailsWithEio) {
  auto r = run_once(
      [](Machine& m) {
        m.spawn("io", [&m] {
          auto d = mem(m, 4096);
          FaultyDisk f(m, *d, {{DiskFault::write_eio, 0, {2}, 1'000'000}});
          auto data = pattern(512, 1);
          EXPECT_EQ(f.write(0, data).err(), 0);
          EXPECT_EQ(f.write(512, data).err(), EIO);
          EXPECT_EQ(f.write(1024, data).err(), 0);
          EXPECT_EQ(f.faults(), 1u);
          std::vector<std::byte> back(512);
          EXPECT_EQ(f.read(512, back).err(), 0);
          EXPECT_EQ(back, std::vector<std::byte>(512));
        });
      },
      "random", 1, true);
  EXPECT_FALSE(r.failed()) << r.message;
  bool seen = false;
  for (const TraceEvent& e : r.events) seen |= e.kind == "disk_fault_write_eio";
  EXPECT_TRUE(seen);
}

// A torn write stores a sector-aligned prefix of the request and answers
// EIO; over many seeds every cut (none, 1, 2, 3 sectors) shows up and the
// same seed always tears at the same place.
TEST(BlockDev, TornWriteStoresASectorAlignedPrefix) {
  auto kept_for = [](std::uint64_t seed) {
    std::size_t kept = 0;
    auto r = run_once(
        [&kept](Machine& m) {
          m.spawn("io", [&m, &kept] {
            auto d = mem(m, 8192);
            FaultyDisk f(m, *d, {{DiskFault::torn_write, 1'000'000, {}, 1'000'000}});
            auto data = pattern(2048, 5);
            EXPECT_EQ(f.write(1024, data).err(), EIO);
            const auto& b = d->bytes();
            while (kept < data.size() && b[1024 + kept] == data[kept]) ++kept;
            for (std::size_t i = kept; i < data.size(); ++i) EXPECT_EQ(b[1024 + i], std::byte{0});
          });
        },
        "random", seed);
    EXPECT_FALSE(r.failed()) << r.message;
    return kept;
  };
  std::set<std::size_t> cuts;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const std::size_t k = kept_for(seed);
    EXPECT_EQ(k % 512, 0u);
    EXPECT_EQ(k, kept_for(seed)) << "seed " << seed;
    cuts.insert(k);
  }
  EXPECT_EQ(cuts, (std::set<std::size_t>{0, 512, 1024, 1536}));
}

// Read faults: with probability one every read fails; a rule switched off
// for the run (active_per_million 0) never fires.
TEST(BlockDev, ReadFaultsAndInactiveRules) {
  auto r = run_once([](Machine& m) {
    m.spawn("io", [&m] {
      auto d = mem(m, 4096);
      std::vector<std::byte> buf(64);
      FaultyDisk on(m, *d, {{DiskFault::read_eio, 1'000'000, {}, 1'000'000}});
      EXPECT_EQ(on.read(0, buf).err(), EIO);
      EXPECT_EQ(on.write(0, buf).err(), 0);
      FaultyDisk off(m, *d, {{DiskFault::read_eio, 1'000'000, {1}, 0}});
      EXPECT_EQ(off.read(0, buf).err(), 0);
      EXPECT_EQ(off.faults(), 0u);
    });
  });
  EXPECT_FALSE(r.failed()) << r.message;
}

}  // namespace
}  // namespace vfsim::sim
