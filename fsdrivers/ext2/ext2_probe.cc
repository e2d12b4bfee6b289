// probe_image (ext2.h): mounts an image read-only in a machine of its own to
// tell a tool, before it runs anything, whether the image mounts (and if not,
// why, in one line) and the newest timestamp stored in it.
#include <deque>
#include <set>

#include "fsdrivers/ext2/ext2_node.h"
#include "sim/strategy.h"

namespace vfsim::ext2drv {

namespace {

constexpr std::size_t kProbeMaxInodes = 100'000;  // bounds the walk on a hostile image

// Breadth-first over the directories by inode number; unreadable parts of
// the tree are skipped, not reported (the tool will meet them itself).
std::int64_t newest_time(Ext2Mount& fs) {
  std::int64_t newest = 0;
  std::set<std::uint32_t> seen{ext2::Volume::root()};
  std::deque<std::uint32_t> dirs{ext2::Volume::root()};
  auto note = [&](std::uint32_t ino) {
    auto a = fs.call([ino](ext2::Volume& v) { return v.getattr(ino); });
    if (a.ok()) newest = std::max({newest, a->atime.sec, a->mtime.sec, a->ctime.sec});
    return a.ok() && a->type == ext2::FileType::Directory;
  };
  note(ext2::Volume::root());
  while (!dirs.empty() && seen.size() < kProbeMaxInodes) {
    const std::uint32_t dir = dirs.front();
    dirs.pop_front();
    std::uint64_t cookie = 0;
    for (;;) {
      auto r = fs.call([&](ext2::Volume& v) { return v.readdir(dir, cookie, 64); });
      if (!r.ok()) break;
      for (const ext2::DirEntry& e : r->entries) {
        if (e.name == "." || e.name == ".." || !seen.insert(e.ino).second) continue;
        if (note(e.ino)) dirs.push_back(e.ino);
      }
      if (r->eof || r->next_cookie <= cookie) break;
      cookie = r->next_cookie;
    }
  }
  return newest;
}

}  // namespace

ImageProbe probe_image(const std::string& path) {
  ImageProbe out;
  sim::StrategyParams params;
  auto strategy = sim::make_strategy("random", params);
  strategy->begin_run(0, params.seed);
  sim::Machine m({}, *strategy);
  m.spawn("probe", [&] {
    Ext2Options o;
    o.image_path = path;
    o.read_only = true;
    auto fs = make_ext2(m, o, &out.reason);
    if (!fs.ok()) {
      out.err = fs.err();
      return;
    }
    out.mounts = true;
    auto& e2 = static_cast<Ext2Mount&>(**fs);
    out.newest_time = newest_time(e2);
    (void)e2.unmount(false);
  });
  const sim::RunResult r = m.run();
  if (r.failed() && out.reason.empty()) {
    out.mounts = false;
    out.err = EIO;
    out.reason = path + ": " + r.message;
  }
  return out;
}

}  // namespace vfsim::ext2drv
