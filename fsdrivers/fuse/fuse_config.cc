// FUSE mount configuration: its checks (fuse_config.h).
#include "fsdrivers/fuse/fuse_config.h"

namespace vfsim::fuse {

namespace {

constexpr std::int64_t kWorkersMax = 64;

// What each refused option needs that the simulator cannot give.
std::string refusal(std::string_view opt) {
  struct Rule {
    std::string_view name;
    bool prefix;
    std::string_view needs;
  };
  static constexpr Rule kRules[] = {
      {"remember", true, "a cleanup thread on the host clock"},
      {"intr", false, "pthread_kill of a real thread"},
      {"intr_signal", true, "pthread_kill of a real thread"},
      {"clone_fd", false, "a /dev/fuse fd per real thread"},
      {"modules=", true, "dlopen'd stacking modules"},
  };
  for (const Rule& r : kRules) {
    const bool hit = r.prefix ? opt.substr(0, r.name.size()) == r.name : opt == r.name;
    if (hit) {
      return "fuse option '" + std::string(opt) + "' needs " + std::string(r.needs) +
             "; it cannot run inside the simulator";
    }
  }
  return {};
}

}  // namespace

std::string refuse_args(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::string_view opts;
    if (a == "-o" && i + 1 < args.size()) opts = args[++i];
    else if (a.substr(0, 2) == "-o") opts = a.substr(2);
    else if (a == "--clone-fd" || a == "--clone_fd") return refusal("clone_fd");
    else continue;
    while (!opts.empty()) {
      const std::size_t comma = std::min(opts.find(','), opts.size());
      if (std::string r = refusal(opts.substr(0, comma)); !r.empty()) return r;
      opts.remove_prefix(std::min(comma + 1, opts.size()));
    }
  }
  return {};
}

std::optional<puffs::OptionError> FuseConfig::check() const {
  if (workers < 1 || workers > kWorkersMax) {
    return puffs::OptionError{"workers", "must be 1 to 64"};
  }
  return std::nullopt;
}

std::string FuseMountSpec::check() const {
  if (fs.empty() == exec.empty()) return "name exactly one of \"fs\" and \"exec\"";
  if (!fs.empty()) return refuse_args(argv);  // an external daemon may use anything
  if (exec.front() != '/') return "\"exec\" must be an absolute path, not \"" + exec + "\"";
  return {};
}

std::string fuse_knob(std::string_view option) { return "fuse." + std::string(option); }

}  // namespace vfsim::fuse
