// Property test: any sequence of reads, writes, truncations and fsyncs on an
// anonymous object under memory pressure behaves like a plain byte array.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "pager/tests/test_util.h"

namespace vfsim::pager {
namespace {

using testing::Rig;

struct Op {
  int kind;  // 0 write, 1 read, 2 truncate, 3 fsync
  std::uint64_t off;
  std::size_t len;
  std::uint8_t fill;
};

// The model is a std::vector<byte> that grows with writes and shrinks with
// truncate; reads past its end are clipped by the caller, as a file system
// does, so they compare only the modelled prefix.
RC_GTEST_PROP(PagerProperty, AnonymousObjectIsAByteArray, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(
      rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::inRange(0, 4)),
                         rc::gen::set(&Op::off, rc::gen::inRange<std::uint64_t>(0, 40 * kPageSize)),
                         rc::gen::set(&Op::len, rc::gen::inRange<std::size_t>(1, 3 * kPageSize)),
                         rc::gen::set(&Op::fill, rc::gen::arbitrary<std::uint8_t>())));
  const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1000);
  PagerConfig c;
  c.pages = 16;
  c.swap_slots = 64;
  Rig rig(c, seed);
  std::string failure;
  rig.machine->spawn("t", [&] {
    Pager& p = *rig.pager;
    PageObject& obj = p.create_anon_object("f");
    std::vector<std::byte> model;
    for (const Op& op : ops) {
      if (!failure.empty()) break;
      if (op.kind == 0) {
        std::vector<std::byte> data(op.len, std::byte{op.fill});
        std::size_t n = 0;
        const Status e = p.write(obj, op.off, data, KM_SLEEP, &n);
        if (!e.ok() && e.err() != ENOSPC) failure = "write " + std::to_string(e.err());
        if (n == 0) continue;
        if (model.size() < op.off + n) model.resize(op.off + n);
        std::fill(model.begin() + op.off, model.begin() + op.off + n, std::byte{op.fill});
      } else if (op.kind == 1) {
        if (op.off >= model.size()) continue;
        const std::size_t n = std::min<std::size_t>(op.len, model.size() - op.off);
        std::vector<std::byte> got(n);
        if (!p.read(obj, op.off, got).ok()) failure = "read failed";
        if (!std::equal(got.begin(), got.end(), model.begin() + op.off))
          failure = "read differs at " + std::to_string(op.off);
      } else if (op.kind == 2) {
        const std::uint64_t size = std::min<std::uint64_t>(op.off, model.size());
        if (!p.truncate(obj, size).ok()) failure = "truncate failed";
        model.resize(size);
      } else if (!p.fsync(obj).ok()) {
        failure = "fsync failed";
      }
    }
    p.destroy_object(obj);
  });
  const auto r = rig.run();
  RC_ASSERT(r.outcome == sim::Outcome::pass);
  RC_ASSERT(failure.empty());
}

}  // namespace
}  // namespace vfsim::pager
