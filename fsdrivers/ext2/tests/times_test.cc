// Inode times as Linux's ext4 encodes them. Shows: in a 256-byte inode with
// i_extra_isize 32, a time keeps its nanoseconds and the seconds above the
// signed 32-bit field go to the two epoch bits (2^32 s, 2^34-1+INT32_MIN s
// and a time before 1970 round-trip, with the raw bytes Linux writes); with
// an i_extra_isize too small for a field, or in a 128-byte inode, only the
// 32-bit seconds are kept and read back signed, as Linux reads them.
#include <gtest/gtest.h>

#include <vector>

#include "fsdrivers/ext2/ondisk.h"

namespace vfsim::ext2 {
namespace {

Inode round_trip(const Inode& n, size_t inode_size) {
  std::vector<std::byte> raw(inode_size);
  n.encode(raw);
  return Inode::decode(raw);
}

TEST(InodeTimes, ExtraFieldsKeepNanosecondsAndEpochBits) {
  Inode n;
  n.mode = kSIFREG | 0644;
  n.extra_isize = kExtraIsizeDefault;
  n.atime = Time(1'000'000'000, 123'456'789);
  n.mtime = Time(int64_t{1} << 32, 987'654'321);
  n.ctime = Time(kTimeMaxExtra, 999'999'999);
  n.crtime = Time(-5, 7);
  std::vector<std::byte> raw(256);
  n.encode(raw);
  EXPECT_EQ(get32(raw, 16), 0u);                          // mtime: low 32 bits of 2^32
  EXPECT_EQ(get32(raw, 136), (987'654'321u << 2) | 1u);   // one epoch bit
  EXPECT_EQ(get32(raw, 140), 123'456'789u << 2);          // atime: epoch 0
  EXPECT_EQ(get32(raw, 144), static_cast<uint32_t>(-5));  // crtime before 1970
  EXPECT_EQ(get32(raw, 148), 7u << 2);                    // and its epoch bits 0
  const Inode back = Inode::decode(raw);
  EXPECT_EQ(back.atime, n.atime);
  EXPECT_EQ(back.mtime, n.mtime);
  EXPECT_EQ(back.ctime, n.ctime);
  EXPECT_EQ(back.crtime, n.crtime);
}

TEST(InodeTimes, NoExtraFieldMeansSignedSeconds) {
  Inode n;
  n.mode = kSIFREG | 0644;
  n.atime = Time(1'000'000'000, 5);
  n.mtime = Time(int64_t{1} << 31, 5);  // reads back negative, as Linux reads it
  const Inode small = round_trip(n, 128);
  EXPECT_EQ(small.atime, Time(1'000'000'000));
  EXPECT_EQ(small.mtime, Time(INT32_MIN));
  // A large inode whose i_extra_isize stops before i_atime_extra (offset
  // 140): ctime and mtime keep their extra fields, atime does not.
  n.extra_isize = 12;
  n.ctime = Time(3, 9);
  const Inode partial = round_trip(n, 256);
  EXPECT_EQ(partial.ctime, Time(3, 9));
  EXPECT_EQ(partial.mtime, Time(int64_t{1} << 31, 5));
  EXPECT_EQ(partial.atime, Time(1'000'000'000));
}

}  // namespace
}  // namespace vfsim::ext2
