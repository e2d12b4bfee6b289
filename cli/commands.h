// The vfsim subcommands as a table: name, synopsis, options, entry point.
// A later layer adds a subcommand (`vfsim fs`, `vfsim makefs`) by writing its
// entry point in a file of its own and adding one row to commands.cc.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "cli/args.h"

namespace vfsim::cli {

// Exit statuses of every subcommand.
inline constexpr int kExitPass = 0;           // nothing failed
inline constexpr int kExitFailure = 1;        // a failure was found (or reproduced)
inline constexpr int kExitBadInput = 2;       // bad usage or bad input; nothing ran
inline constexpr int kExitNotReproduced = 3;  // replay/shrink: the report did not reproduce

struct Command {
  std::string_view name;
  std::string_view synopsis;  // after "vfsim NAME "
  std::string_view summary;   // one line for `vfsim help`
  std::span<const OptionSpec> (*options)();
  int (*run)(const ParsedArgs& args);
  // More for `vfsim help NAME` after the options (a command with
  // subcommands lists them); nullptr: nothing more.
  std::string (*details)() = nullptr;
};

[[nodiscard]] std::span<const Command> commands();

// Entry points and option tables, one file per command family.
int run_command(const ParsedArgs& args);         // cmd_run.cc
int explore_command(const ParsedArgs& args);     // cmd_explore.cc
int check_command(const ParsedArgs& args);       // cmd_explore.cc
int replay_command(const ParsedArgs& args);      // cmd_replay.cc
int shrink_command(const ParsedArgs& args);      // cmd_replay.cc
int ops_command(const ParsedArgs& args);         // cmd_ops.cc
int fs_command(const ParsedArgs& args);          // cmd_fs.cc
int fs_syscall_command(const ParsedArgs& args);  // cmd_fs_syscall.cc (via fs_command)
int makefs_command(const ParsedArgs& args);      // cmd_makefs.cc
int chart_command(const ParsedArgs& args);       // cmd_chart.cc
int merge_command(const ParsedArgs& args);       // cmd_merge.cc
std::string fs_help();                           // cmd_fs.cc: every fs tool with its arguments
int mount_command(const ParsedArgs& args);       // cmd_mount.cc
// vfsim replay of a `vfsim mount --record` file (cmd_mount.cc).
bool replay_is_recording(const std::string& file);
int replay_recording(const std::string& file, const ParsedArgs& args);
int explore_recording(const std::string& file, const ParsedArgs& args);
// A report `vfsim explore` wrote for a recording's failure (cmd_mount.cc).
bool is_recording_report(const std::string& path);
int replay_recording_report(const std::string& path, const ParsedArgs& args);
int shrink_recording_report(const std::string& path, const ParsedArgs& args);
std::span<const OptionSpec> run_options();
std::span<const OptionSpec> explore_options();
std::span<const OptionSpec> check_options();
std::span<const OptionSpec> replay_options();
std::span<const OptionSpec> shrink_options();
std::span<const OptionSpec> ops_options();
std::span<const OptionSpec> fs_options();
std::span<const OptionSpec> makefs_options();
std::span<const OptionSpec> chart_options();
std::span<const OptionSpec> merge_options();
std::span<const OptionSpec> mount_options();

}  // namespace vfsim::cli
