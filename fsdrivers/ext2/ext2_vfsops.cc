// ext2 vfsops: opening the disk, mounting the volume (or refusing it with the
// core's reason), loading vnodes, statvfs, sync and unmount, and the
// mount-by-type factory with its text options.
#include <cstdlib>

#include "fsdrivers/ext2/ext2_node.h"
#include "sim/host_images.h"
#include "vnode/vnode_pager.h"

namespace vfsim::ext2drv {

Ext2Mount::Ext2Mount(sim::Machine& m, std::unique_ptr<sim::BlockDevice> disk,
                     std::unique_ptr<sim::FaultyDisk> faulty, pager::Pager* pager)
    : machine_(m),
      disk_(std::move(disk)),
      faulty_(std::move(faulty)),
      io_(faulty_ ? static_cast<sim::BlockDevice&>(*faulty_) : *disk_),
      pager_(pager),
      vol_lock_(m, "ext2 volume"),
      ops_(*this) {}

Ext2Mount::~Ext2Mount() = default;

vn::Status Ext2Mount::mount_volume(const Ext2Options& o, std::string* reason) {
  ext2::MountOptions mo;
  mo.read_only = o.read_only;
  mo.cache_blocks = o.cache_blocks;
  mo.defer_free_unlinked = true;  // open-but-unlinked files live until inactive
  mo.test_panic_entry = o.test_panic;
  ext2::MountResult r;
  {
    sim::MutexGuard guard(vol_lock_);
    try {
      r = ext2::Volume::mount(io_, mo);
    } catch (const sim::PanicError& p) {
      core_bug(p.message);
    }
  }
  if (!r.volume) {
    *reason = r.reason;
    return !r.err.ok() ? r.err : vn::Status(EINVAL);
  }
  volume_ = std::move(r.volume);
  auto sv = call([](ext2::Volume& v) { return v.statvfs(); });
  block_size_ = sv.ok() ? sv->block_size : 1024;
  return vn::kOk;
}

vn::Status Ext2Mount::loadvnode(vn::Vnode& vp, std::uint64_t key) {
  if (key == 0 || key > UINT32_MAX) return vn::Status(ENOENT);
  const auto ino = static_cast<std::uint32_t>(key);
  auto a = call([ino](ext2::Volume& v) { return v.getattr(ino); });
  if (!a.ok()) return vn::Status(a.err());
  const vn::VType t = vtype_of(a->type);
  if (t == vn::VType::VNON) return vn::Status(EIO);
  vp.type = t;
  vp.op = &ops_;
  auto* node = new Ext2Node{ino};
  vp.data = node;
  if (pager_ != nullptr && t == vn::VType::VREG) {
    node->obj = &vn::vnode_object(*pager_, vp, "ext2 ino " + std::to_string(ino));
  }
  return vn::kOk;
}

vn::Status Ext2Mount::statvfs(vn::StatVfs* out) {
  auto s = call([](ext2::Volume& v) { return v.statvfs(); });
  if (!s.ok()) return vn::Status(s.err());
  out->bsize = out->frsize = s->block_size;
  out->blocks = s->blocks;
  out->bfree = s->blocks_free;
  out->bavail = s->blocks_avail;
  out->files = s->files;
  out->ffree = out->favail = s->files_free;
  out->fsid = mount().id();
  out->namemax = s->name_max;
  out->fstypename = "ext2";
  return vn::kOk;
}

vn::Status Ext2Mount::sync() {
  vn::Status s = to_vn(call([](ext2::Volume& v) { return v.sync(); }));
  const vn::Status f = io_flush();
  return s.ok() ? f : s;
}

// Every vnode is reclaimed by now: write everything back and close the volume.
// A disk error on the way (NetBSD's ffs_unmount when its flush fails) fails
// the unmount with that errno and keeps the volume mounted and usable, its
// unwritten blocks still dirty for a later try; a forced unmount gives the
// volume up all the same (the image is then not clean) and succeeds. Once
// the volume is written back, a failed flush of the host file changes
// nothing any more: it is only reported in the trace (as Linux's umount
// ignores it).
vn::Status Ext2Mount::unmount(bool force) {
  const vn::Status s = to_vn(call([](ext2::Volume& v) { return v.unmount(); }));
  if (!s.ok()) {
    machine_.event("ext2_unmount", disk_->options().name + ": write-back failed with errno " +
                                       std::to_string(s.err()) +
                                       (force ? "; forced: the image is not clean" : ""));
    if (!force) return s;
  }
  if (const vn::Status f = io_flush(); !f.ok()) {
    machine_.event("ext2_unmount",
                   disk_->options().name + ": flush failed with errno " + std::to_string(f.err()));
  }
  sim::MutexGuard guard(vol_lock_);
  volume_.reset();
  return vn::kOk;
}

vn::Status Ext2Mount::io_flush() {
  sim::BlockDevice& d = faulty_ ? static_cast<sim::BlockDevice&>(*faulty_) : *disk_;
  return d.flush();
}

Ext2Stats Ext2Mount::stats() const {
  Ext2Stats s;
  s.volume_calls = volume_calls_;
  s.disk_reads = disk_->stats().reads;
  s.disk_writes = disk_->stats().writes;
  s.disk_faults = faulty_ ? faulty_->faults() : 0;
  s.block_size = block_size_;
  return s;
}

std::optional<Ext2Stats> ext2_stats(const vn::FileSystem& fs) {
  const auto* e = dynamic_cast<const Ext2Mount*>(&fs);
  if (e == nullptr) return std::nullopt;
  return e->stats();
}

// --- making a mount --------------------------------------------------------

namespace {

std::unique_ptr<sim::BlockDevice> open_disk(sim::Machine& m, const Ext2Options& o,
                                            std::string* reason, vn::Status* err) {
  sim::BlockDevOptions d = o.disk;
  d.read_only = o.read_only;
  if (o.image_bytes) {
    if (d.name == "disk") d.name = "ext2 image in memory";
    auto disk = sim::MemDisk::make(m, *o.image_bytes, d, reason);
    *err = vn::Status(EFBIG);
    return disk;
  }
  if (o.image_path.empty()) {
    *reason = "ext2: no image given (mount option image=PATH)";
    *err = vn::Status(EINVAL);
    return nullptr;
  }
  *err = vn::Status(EIO);
  // Under a scenario the machine's HostImages gives each run its own view of
  // the image as it was on the host (nothing reaches the host file); the
  // image tools have none and edit the file itself.
  if (sim::HostImages* images = m.options().images) return images->open(m, o.image_path, d, reason);
  return sim::FileDisk::open(m, o.image_path, d, reason);
}

}  // namespace

vn::Result<std::unique_ptr<vn::FileSystem>> make_ext2(sim::Machine& m, const Ext2Options& o,
                                                      std::string* reason) {
  vn::Status err;
  std::unique_ptr<sim::BlockDevice> disk = open_disk(m, o, reason, &err);
  if (!disk) return err;
  std::unique_ptr<sim::FaultyDisk> faulty;
  if (!o.faults.empty()) faulty = std::make_unique<sim::FaultyDisk>(m, *disk, o.faults);
  const std::string name = disk->options().name;
  auto fs = std::make_unique<Ext2Mount>(m, std::move(disk), std::move(faulty), o.pager);
  if (vn::Status s = fs->mount_volume(o, reason); !s.ok()) {
    *reason = name + ": " + *reason;
    return s;
  }
  return std::unique_ptr<vn::FileSystem>(std::move(fs));
}

namespace {

bool parse_number(const std::string& text, std::uint64_t* out) {
  if (text.empty() || text[0] == '-') return false;
  char* end = nullptr;
  *out = std::strtoull(text.c_str(), &end, 0);
  return end != nullptr && *end == '\0';
}

// "read_eio_nth" / "torn_write_ppm" ... → a fault rule.
bool fault_rule(std::string_view key, std::uint64_t value, sim::DiskFaultRule* rule) {
  static constexpr std::pair<std::string_view, sim::DiskFault> kKinds[] = {
      {"read_eio", sim::DiskFault::read_eio},
      {"write_eio", sim::DiskFault::write_eio},
      {"torn_write", sim::DiskFault::torn_write}};
  for (auto [prefix, kind] : kKinds) {
    if (key == std::string(prefix) + "_nth") {
      *rule = {kind, 0, {value}, 1'000'000};
      return true;
    }
    if (key == std::string(prefix) + "_ppm" && value <= 1'000'000) {
      *rule = {kind, static_cast<std::uint32_t>(value), {}, 1'000'000};
      return true;
    }
  }
  return false;
}

}  // namespace

vn::Result<Ext2Options> ext2_options_from_args(const TextArgs& args, std::string* reason) {
  Ext2Options o;
  for (const auto& [key, value] : args) {
    if (key == "image") {
      o.image_path = value;
      continue;
    }
    std::uint64_t n = 0;
    sim::DiskFaultRule rule;
    const bool numeric = parse_number(value, &n);
    if (numeric && key == "ro" && n <= 1) {
      o.read_only = n == 1;
    } else if (numeric && key == "test_panic" && n <= 1) {
      o.test_panic = n == 1;
    } else if (numeric && key == "cache_blocks" && n >= 8 && n <= (1u << 20)) {
      o.cache_blocks = n;
    } else if (numeric && fault_rule(key, n, &rule)) {
      o.faults.push_back(rule);
    } else {
      *reason = "ext2: bad mount option " + key + "=" + value;
      return vn::Status(EINVAL);
    }
  }
  return o;
}

vn::Result<std::unique_ptr<vn::FileSystem>> make_ext2_from_args(sim::Machine& m,
                                                                const TextArgs& args,
                                                                pager::Pager* pager) {
  std::string reason;
  auto o = ext2_options_from_args(args, &reason);
  if (!o.ok()) {
    m.event("ext2_mount", reason);
    return o.status();
  }
  o->pager = pager;
  auto fs = make_ext2(m, *o, &reason);
  if (!fs.ok()) m.event("ext2_mount", reason);
  return fs;
}

vn::FsType fstype() {
  return {"ext2",
          "ext2 (rev 0/1) on a host image; options image=PATH, ro, cache_blocks, fault "
          "injection (*_eio_nth, *_eio_ppm, torn_write_*)",
          [](vn::MountEnv& env, const vn::MountArgs& args) {
            return make_ext2_from_args(env.machine(), args, env.pager());
          }};
}

}  // namespace vfsim::ext2drv
