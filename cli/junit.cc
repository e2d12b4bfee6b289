#include "cli/junit.h"

#include <cstdio>

namespace vfsim::cli {

namespace {

// Text or attribute value for XML 1.0: markup characters escaped, control
// characters (which XML 1.0 cannot hold) replaced; in attributes, newlines
// and tabs kept as character references.
std::string esc(std::string_view s, bool attribute) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += '?';
        else out += c;
    }
  }
  return out;
}

std::string secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s < 0 ? 0.0 : s);
  return buf;
}

void problem(std::string& out, const char* element, const JunitProblem& p) {
  out += "      <" + std::string(element) + " type=\"" + esc(p.type, true) + "\" message=\"" +
         esc(p.message, true) + "\">" + esc(p.text, false) + "</" + element + ">\n";
}

}  // namespace

std::string junit_xml(const std::string& name, const std::vector<JunitSuite>& suites) {
  std::size_t tests = 0, failures = 0, errors = 0;
  double total = 0;
  std::string body;
  for (const JunitSuite& s : suites) {
    std::size_t f = 0, e = 0;
    double t = 0;
    for (const JunitCase& c : s.cases) {
      f += c.failure ? 1 : 0;
      e += c.error ? 1 : 0;
      t += c.seconds;
    }
    tests += s.cases.size();
    failures += f;
    errors += e;
    total += t;
    body += "  <testsuite name=\"" + esc(s.name, true) + "\" tests=\"" +
            std::to_string(s.cases.size()) + "\" failures=\"" + std::to_string(f) + "\" errors=\"" +
            std::to_string(e) + "\" skipped=\"0\" time=\"" + secs(t) + "\" file=\"" +
            esc(s.file, true) + "\">\n";
    if (!s.properties.empty()) {
      body += "    <properties>\n";
      for (const auto& [k, v] : s.properties) {
        body += "      <property name=\"" + esc(k, true) + "\" value=\"" + esc(v, true) + "\"/>\n";
      }
      body += "    </properties>\n";
    }
    for (const JunitCase& c : s.cases) {
      body += "    <testcase name=\"" + esc(c.name, true) + "\" classname=\"" +
              esc(c.classname, true) + "\" time=\"" + secs(c.seconds) + "\">\n";
      if (c.failure) problem(body, "failure", *c.failure);
      if (c.error) problem(body, "error", *c.error);
      if (!c.out.empty()) body += "      <system-out>" + esc(c.out, false) + "</system-out>\n";
      body += "    </testcase>\n";
    }
    body += "  </testsuite>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" + esc(name, true) +
         "\" tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"" + std::to_string(errors) + "\" time=\"" + secs(total) + "\">\n" + body +
         "</testsuites>\n";
}

}  // namespace vfsim::cli
