// The subcommand table. Add a row here to add a subcommand.
#include "cli/commands.h"

#include <array>

namespace vfsim::cli {

std::span<const Command> commands() {
  static constexpr std::array kCommands = {
      Command{"run", "FILE [options]", "run one schedule of a scenario", run_options, run_command},
      Command{"explore", "FILE [options]", "explore many schedules of a scenario", explore_options,
              explore_command},
      Command{"check", "FILE... [options]",
              "explore and compare the outcome with the scenario's expect_outcome", check_options,
              check_command},
      Command{"merge", "SUMMARY.json... [--json]",
              "combine the --json summaries of explore --shard K/N into the whole exploration's",
              merge_options, merge_command},
      Command{"replay", "REPORT.json|RECORDING [options]",
              "re-run a failure report, or a vfsim mount recording, exactly", replay_options,
              replay_command},
      Command{"shrink", "REPORT.json [options]", "shrink a failure report's schedule",
              shrink_options, shrink_command},
      Command{"chart", "REPORT.json [-o FILE] [options]",
              "draw a failure report's sequence chart (SVG, or HTML with the trace on hover)",
              chart_options, chart_command},
      Command{"ops", "[options]", "list the registered ops, their arguments and config knobs",
              ops_options, ops_command},
      Command{"fs", "TOOL IMAGE ARGS...",
              "work on an ext2 image through the kernel (fs-utils, pjdfstest helper)", fs_options,
              fs_command, fs_help},
      Command{"makefs", "-t ext2 [-s SIZE] IMAGE DIR",
              "build an ext2 image from a host directory through the driver", makefs_options,
              makefs_command},
      Command{"mount", "[-o ro] [--fs ext2|memfs] [IMAGE] MOUNTPOINT [options]",
              "serve an ext2 image (or a fresh memfs) to the host through /dev/fuse", mount_options,
              mount_command},
  };
  return kCommands;
}

}  // namespace vfsim::cli
