// The mount-by-type table's built-in entries.
#include "vfs/fstypes.h"

#include <cstdlib>

#include "fsdrivers/ext2/ext2.h"
#include "fsdrivers/memfs/memfs.h"
#include "fsdrivers/puffs/puffs_fstype.h"

namespace vfsim::vfs {

Result<std::uint64_t> mount_arg_number(const MountArgs& args, std::string_view key,
                                       std::uint64_t def) {
  auto it = args.find(key);
  if (it == args.end()) return def;
  const std::string& text = it->second;
  if (text.empty()) return Status(EINVAL);
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (end == nullptr || *end != '\0' || text[0] == '-') return Status(EINVAL);
  return static_cast<std::uint64_t>(v);
}

static Result<std::unique_ptr<vn::FileSystem>> make_memfs_from_args(pager::Pager* pager,
                                                                    sim::Machine& m,
                                                                    const MountArgs& args) {
  for (const auto& [key, value] : args) {
    if (key != "size_max" && key != "inodes_max" && key != "mode" && key != "uid" && key != "gid" &&
        key != "backing_blocks") {
      return Status(EINVAL);
    }
  }
  auto size = mount_arg_number(args, "size_max", 0);
  auto inodes = mount_arg_number(args, "inodes_max", 0);
  auto mode = mount_arg_number(args, "mode", 0755);
  auto uid = mount_arg_number(args, "uid", 0);
  auto gid = mount_arg_number(args, "gid", 0);
  auto blocks = mount_arg_number(args, "backing_blocks", 0);
  for (const auto* r : {&size, &inodes, &mode, &uid, &gid, &blocks}) {
    if (!r->ok()) return r->status();
  }
  memfs::MemfsOptions o;
  o.size_max_bytes = *size;
  o.inodes_max = *inodes;
  o.root_mode = static_cast<std::uint32_t>(*mode) & vn::kModeMask;
  o.root_uid = static_cast<vn::Uid>(*uid);
  o.root_gid = static_cast<vn::Gid>(*gid);
  o.pager = pager;
  o.backing_blocks = *blocks;
  return memfs::make_memfs(m, o);
}

void register_builtin_fs_types(Kernel& k) {
  pager::Pager* pager = k.pager();
  k.register_fs_type("memfs", [pager](sim::Machine& m, const MountArgs& args) {
    return make_memfs_from_args(pager, m, args);
  });
  k.register_fs_type("ext2", ext2drv::make_ext2_from_args);
  // memfs served through puffs (p2k); options in puffs_fstype.h.
  k.register_fs_type("puffs", [pager](sim::Machine& m, const MountArgs& args) {
    return puffs::make_puffs(m, args, pager);
  });
}

}  // namespace vfsim::vfs
