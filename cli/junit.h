// JUnit XML, as CI systems read it (Jenkins, GitLab, GitHub Actions test
// reporters): <testsuites> of <testsuite> (name, tests, failures, errors,
// skipped, time, file) of <testcase> (name, classname, time) with an
// optional <failure> or <error> (type, message, text) and <system-out>.
// Only elements and attributes of the common schema (Jenkins' junit-10.xsd)
// are written; cli/tests/junit.xsd is the subset a test validates against.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vfsim::cli {

struct JunitProblem {
  std::string type;     // e.g. the outcome ("expectation") or "determinism"
  std::string message;  // one line
  std::string text;     // the details: message, seed, replay and rerun commands
};

struct JunitCase {
  std::string name;
  std::string classname;
  double seconds = 0;
  std::optional<JunitProblem> failure;  // the verdict was not the expected one
  std::optional<JunitProblem> error;    // vfsim itself misbehaved (determinism)
  std::string out;                      // <system-out>
};

struct JunitSuite {
  std::string name;
  std::string file;
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<JunitCase> cases;
};

[[nodiscard]] std::string junit_xml(const std::string& name, const std::vector<JunitSuite>& suites);

}  // namespace vfsim::cli
