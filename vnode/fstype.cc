// Mount options shared by every file-system type (fstype.h).
#include "vnode/fstype.h"

#include <cstdlib>

namespace vfsim::vn {

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

}  // namespace vfsim::vn
