// `vfsim fs syscall`: the pjdfstest helper's vocabulary — the chain of calls
// on the command line, flag names, descriptor indexes and the stat fields it
// prints — separated from the calls themselves (cmd_fs_syscall.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vfs/kernel.h"

namespace vfsim::cli::pjd {

// Argument kinds of a call, as in pjdfstest's syscall table.
enum class Arg : char {
  str = 's',  // a path or a string
  num = 'n',  // a number (strtoll base 0: 0644, 0x10, 12)
  fd = 'd',   // a descriptor: an index of the chain's opened descriptors,
              // AT_FDCWD, or BADFD
  opt = '?',  // marks the arguments after it as optional
};

struct CallSpec {
  std::string_view name;
  std::string_view args;  // one Arg character per argument
};

// The calls `vfsim fs syscall` knows, and the argument kinds of each.
const std::vector<CallSpec>& call_specs();
const CallSpec* find_call(std::string_view name);

// One call of the chain: its name and its arguments as given.
struct Call {
  std::string name;
  std::vector<std::string> args;
};

// Splits "open a O_CREAT 0644 : stat a mode" into calls and checks each
// name and argument count; on error, *error says what and nothing is run.
std::vector<Call> split_chain(const std::vector<std::string>& words, std::string* error);

// "O_CREAT,O_WRONLY" (also "|"-separated; "none" or "0" for no flags) in
// the given table; nullopt for an unknown name.
std::optional<int> open_flags(std::string_view text);
std::optional<int> at_flags(std::string_view text);  // AT_* names
std::optional<std::int64_t> number(std::string_view text);
// A number, or UTIME_NOW / UTIME_OMIT.
std::optional<std::int64_t> time_number(std::string_view text);

// The comma-separated fields asked for ("mode,nlink,type"), as pjdfstest
// prints them; "unknown" for a field it does not know.
std::string stat_fields(const vfs::Stat& st, std::string_view fields);

}  // namespace vfsim::cli::pjd
