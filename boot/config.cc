// BootConfig's defaults and its checks (config.h).
#include "boot/config.h"

#include <string>

#include "boot/fstypes.h"

namespace vfsim::boot {

namespace {

constexpr std::size_t kPagesMax = std::size_t{1} << 20;

std::optional<ConfigIssue> check_pager(const pager::PagerConfig& p) {
  if (p.pages == 0 || p.pages > kPagesMax) {
    return ConfigIssue{"pager.pages", "must be 1 to 1048576 (0: no memory model)"};
  }
  const auto at_most = [](const char* what, std::size_t limit) {
    return "must be at most " + std::string(what) + " (" + std::to_string(limit) + ")";
  };
  if (p.freemin > p.pages) return ConfigIssue{"pager.freemin", at_most("pager.pages", p.pages)};
  if (p.freetarg > p.pages) return ConfigIssue{"pager.freetarg", at_most("pager.pages", p.pages)};
  // 0 is "automatic" (PagerConfig): only two given values can disagree.
  if (p.freemin != 0 && p.freetarg != 0 && p.freemin > p.freetarg) {
    return ConfigIssue{"pager.freemin", at_most("pager.freetarg", p.freetarg)};
  }
  if (!(p.kmem_fail_p >= 0 && p.kmem_fail_p <= 1)) {
    return ConfigIssue{"pager.kmem_fail_p", "must be a number from 0 to 1"};
  }
  return std::nullopt;
}

}  // namespace

BootConfig::BootConfig() : fs_types(builtin_fs_types()) {}

std::string puffs_knob(std::string_view option) {
  if (option == "transport") return "transport";
  return "puffs." + std::string(option);
}

std::optional<ConfigIssue> BootConfig::check() const {
  if (desiredvnodes < 1) return ConfigIssue{"vfs.desiredvnodes", "must be at least 1"};
  if (pager) {
    if (auto issue = check_pager(*pager)) return issue;
  }
  if (auto bad = puffs.check()) return ConfigIssue{puffs_knob(bad->option), bad->reason};
  if (auto bad = fuse.check()) return ConfigIssue{fuse::fuse_knob(bad->option), bad->reason};
  return std::nullopt;
}

}  // namespace vfsim::boot
