// memfs as a mountable type: its mount options (memfs.h) from text.
#include "fsdrivers/memfs/memfs.h"

namespace vfsim::memfs {

namespace {

vn::Result<std::unique_ptr<vn::FileSystem>> make_from_args(vn::MountEnv& env,
                                                           const vn::MountArgs& args) {
  for (const auto& [key, value] : args) {
    if (key != "size_max" && key != "inodes_max" && key != "mode" && key != "uid" && key != "gid" &&
        key != "backing_blocks") {
      return vn::Status(EINVAL);
    }
  }
  auto size = vn::mount_arg_number(args, "size_max", 0);
  auto inodes = vn::mount_arg_number(args, "inodes_max", 0);
  auto mode = vn::mount_arg_number(args, "mode", 0755);
  auto uid = vn::mount_arg_number(args, "uid", 0);
  auto gid = vn::mount_arg_number(args, "gid", 0);
  auto blocks = vn::mount_arg_number(args, "backing_blocks", 0);
  for (const auto* r : {&size, &inodes, &mode, &uid, &gid, &blocks}) {
    if (!r->ok()) return r->status();
  }
  MemfsOptions o;
  o.size_max_bytes = *size;
  o.inodes_max = *inodes;
  o.root_mode = static_cast<std::uint32_t>(*mode) & vn::kModeMask;
  o.root_uid = static_cast<vn::Uid>(*uid);
  o.root_gid = static_cast<vn::Gid>(*gid);
  o.pager = env.pager();
  o.backing_blocks = *blocks;
  return make_memfs(env.machine(), o);
}

}  // namespace

vn::FsType fstype() {
  return {"memfs",
          "tmpfs-like, in memory (the page cache with a pager); options size_max, inodes_max, "
          "mode, uid, gid, backing_blocks",
          make_from_args};
}

}  // namespace vfsim::memfs
