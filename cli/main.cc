// vfsim: the command-line entry. Looks the subcommand up in the table
// (commands.cc), parses its options, runs it, and turns bad usage or bad
// input into one line on stderr and exit status 2.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "scenarios/loader.h"

namespace {

using vfsim::cli::Command;

void print_usage(std::ostream& out) {
  out << "usage: vfsim COMMAND [options]\n\ncommands:\n";
  for (const Command& c : vfsim::cli::commands()) {
    std::string left = "  " + std::string(c.name) + " " + std::string(c.synopsis);
    if (left.size() < 32) left.resize(32, ' ');
    else left += "  ";
    out << left << c.summary << "\n";
  }
  out << "\n`vfsim help COMMAND` lists a command's options. Exit status: 0 pass, 1 a failure\n"
         "was found, 2 bad usage or bad input, 3 a report did not reproduce.\n";
}

void print_command_help(std::ostream& out, const Command& c) {
  out << "usage: vfsim " << c.name << " " << c.synopsis << "\n"
      << c.summary << "\n\noptions:\n"
      << vfsim::cli::options_help(c.options());
  if (c.details != nullptr) out << "\n" << c.details();
}

const Command* find_command(std::string_view name) {
  for (const Command& c : vfsim::cli::commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

int help(const std::vector<std::string>& rest) {
  if (rest.empty()) {
    print_usage(std::cout);
    return vfsim::cli::kExitPass;
  }
  const Command* c = find_command(rest.front());
  if (c == nullptr) {
    std::cerr << "vfsim: unknown command '" << rest.front() << "'\n";
    return vfsim::cli::kExitBadInput;
  }
  print_command_help(std::cout, *c);
  return vfsim::cli::kExitPass;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(std::cerr);
    return vfsim::cli::kExitBadInput;
  }
  const std::string& name = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (name == "help" || name == "--help" || name == "-h") return help(rest);
  const Command* command = find_command(name);
  if (command == nullptr) {
    std::cerr << "vfsim: unknown command '" << name << "' (try vfsim help)\n";
    return vfsim::cli::kExitBadInput;
  }
  try {
    if (rest.size() == 1 && (rest.front() == "--help" || rest.front() == "-h")) {
      print_command_help(std::cout, *command);
      return vfsim::cli::kExitPass;
    }
    return command->run(vfsim::cli::parse_args(rest, command->options()));
  } catch (const vfsim::cli::UsageError& e) {
    std::cerr << "vfsim " << name << ": " << e.what() << "\n";
  } catch (const vfsim::scenarios::ScenarioError& e) {
    std::cerr << e.what() << "\n";
  }
  return vfsim::cli::kExitBadInput;
}
