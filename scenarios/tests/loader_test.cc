// Loading scenario files: every kind of bad input is rejected at load time
// with one line naming the file, the place (LINE:COL and JSON pointer) and
// the reason; good input is resolved into typed ops (flags OR-ed, defaults
// filled in, `when` applied against the effective config).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenarios/json_locations.h"
#include "test_support.h"

namespace vfsim::scenarios {
namespace {

using ::testing::HasSubstr;
using testing::load_error;
using testing::load_text;

// A valid scenario around one op of lwp t1, so each test varies one thing.
std::string with_op(const std::string& op, const std::string& extra = "") {
  return "{\n  \"name\": \"t\",\n" + extra + "  \"lwps\": [\n    {\"name\": \"t1\", \"ops\": [\n" +
         "      " + op + "\n    ]}\n  ]\n}\n";
}

// Shows: a syntax error is reported at its line and column.
TEST(LoaderErrors, MalformedJsonNamesLineAndColumn) {
  const std::string msg = load_error("{\n  \"name\": \"t\",\n  \"lwps\": [,]\n}\n");
  EXPECT_THAT(msg, HasSubstr("test.json:3:12: malformed JSON"));
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

// Shows: an unknown op is blamed on the op field, with line:col and pointer.
TEST(LoaderErrors, UnknownOp) {
  const std::string msg = load_error(with_op(R"({"op": "var.ad", "args": {"var": "x"}})"));
  EXPECT_EQ(msg, "test.json:5:14: /lwps/0/ops/0/op: unknown op 'var.ad'");
}

// Shows: an argument the op does not declare is rejected, listing the known ones.
TEST(LoaderErrors, UnknownArgument) {
  const std::string msg = load_error(with_op(R"({"op": "var.add", "args": {"vra": "x"}})"));
  EXPECT_THAT(msg, HasSubstr("test.json:5:34: /lwps/0/ops/0/args/vra: unknown argument 'vra' "
                             "for op 'var.add' (expected: var, value)"));
}

// Shows: a value of the wrong type is rejected naming the argument and the type.
TEST(LoaderErrors, WrongArgumentType) {
  const std::string msg =
      load_error(with_op(R"({"op": "var.add", "args": {"var": "x", "value": "one"}})"));
  EXPECT_THAT(msg, HasSubstr("/lwps/0/ops/0/args/value: argument 'value' of op 'var.add' "
                             "expects an integer or \"$register\", got a string \"one\""));
  EXPECT_THAT(msg, HasSubstr("test.json:5:"));
}

// Shows: a misspelt flag name is named, with the op, in the one-line error.
TEST(LoaderErrors, UnknownFlagName) {
  const std::string msg = load_error(
      with_op(R"({"op": "probe.open", "args": {"path": "/a", "flags": "O_RDWR,O_CRAET"}})"));
  EXPECT_THAT(msg, HasSubstr("/lwps/0/ops/0/args/flags: unknown flag 'O_CRAET' for op "
                             "'probe.open'"));
  EXPECT_THAT(msg, HasSubstr("test.json:5:"));
}

// Shows: flags given as a JSON array blame the element.
TEST(LoaderErrors, UnknownFlagInArray) {
  const std::string msg = load_error(
      with_op(R"({"op": "probe.open", "args": {"path": "/a", "flags": ["O_RDWR", "O_NOPE"]}})"));
  EXPECT_THAT(msg, HasSubstr("/lwps/0/ops/0/args/flags/1: unknown flag 'O_NOPE'"));
}

// Shows: missing required fields and arguments are named at their parent.
TEST(LoaderErrors, MissingFields) {
  EXPECT_THAT(load_error("{\"lwps\": []}"), HasSubstr("test.json:1:1: /: missing field 'name'"));
  EXPECT_THAT(load_error(with_op(R"({"args": {}})")),
              HasSubstr("/lwps/0/ops/0: missing field 'op'"));
  EXPECT_THAT(load_error(with_op(R"({"op": "var.add", "args": {}})")),
              HasSubstr("/lwps/0/ops/0/args: missing argument 'var' for op 'var.add'"));
  EXPECT_THAT(load_error("{\"name\": \"t\"}"), HasSubstr("/: missing field 'lwps'"));
}

// Shows: unknown top-level fields, config keys and explore settings are errors.
TEST(LoaderErrors, UnknownKeys) {
  EXPECT_THAT(load_error(with_op(R"({"op": "yield"})", "  \"lwsp\": 1,\n")),
              HasSubstr("test.json:3:3: /lwsp: unknown field 'lwsp'"));
  EXPECT_THAT(
      load_error(with_op(R"({"op": "yield"})", "  \"config\": {\"sched.lockin\": true},\n")),
      HasSubstr("/config/sched.lockin: unknown config key 'sched.lockin'"));
  EXPECT_THAT(load_error(with_op(R"({"op": "yield"})", "  \"config\": {\"sched.locking\": 1},\n")),
              HasSubstr("/config/sched.locking: expected a bool"));
  EXPECT_THAT(
      load_error(with_op(R"({"op": "yield"})", "  \"explore\": {\"strategy\": \"bfs\"},\n")),
      HasSubstr("/explore/strategy: unknown strategy 'bfs'"));
}

// Shows: --set of an unknown key, or a value of the wrong type, names the override.
TEST(LoaderErrors, BadSetOverride) {
  const std::string ok = with_op(R"({"op": "yield"})");
  EXPECT_THAT(load_error(ok, {"sched.lockng=false"}),
              HasSubstr("test.json: --set sched.lockng=false: unknown config key 'sched.lockng'"));
  EXPECT_THAT(load_error(ok, {"sched.locking=maybe"}),
              HasSubstr("--set sched.locking=maybe: expected a bool for 'sched.locking'"));
  EXPECT_THAT(load_error(ok, {"probe.personality=solaris"}),
              HasSubstr("expected one of netbsd, linux"));
  EXPECT_THAT(load_error(ok, {"explore.schedules=0"}),
              HasSubstr("test.json: --set explore.schedules=0: must be at least 1"));
  EXPECT_THAT(load_error(ok, {"explore.nope=1"}), HasSubstr("unknown explore setting 'nope'"));
  EXPECT_THROW((void)parse_set("novalue"), ScenarioError);
}

// Shows: bad expectations, registers and module validation are load errors.
TEST(LoaderErrors, ExpectationsRegistersAndModuleChecks) {
  EXPECT_THAT(load_error(with_op(R"({"op": "yield", "expect": "ENOTANERRNO"})")),
              HasSubstr("/lwps/0/ops/0/expect: unknown errno name 'ENOTANERRNO'"));
  EXPECT_THAT(load_error(with_op(R"({"op": "probe.echo", "args": {"fd": "$fd9"}})")),
              HasSubstr("/lwps/0/ops/0/args/fd: register '$fd9' is never saved by any op"));
  EXPECT_THAT(load_error(with_op(R"({"op": "yield"})", "  \"config\": {\"probe.mounts\": 3},\n")),
              HasSubstr("/config/probe.mounts: expected a list"));
  EXPECT_THAT(load_error(with_op(R"({"op": "yield", "when": {"probe.personality": "aix"}})")),
              HasSubstr("/lwps/0/ops/0/when/probe.personality: expected one of netbsd, linux"));
}

// Shows: bad input that used to load or be reported badly (issue 13, A10) is
// one short line naming the file, the place and the reason: a NUL byte (a
// C-string parser stopped there and ignored the rest), garbage after the
// JSON, a key given twice (the last one used to win), a directory instead of
// a file, an impossible octal mode (the message used to list 8,192
// spellings), a negative integer (its value was printed twice), a negative
// sleep, and a repeat count beyond the limit (silently cut before).
TEST(LoaderErrors, BadInputIsOneShortLine) {
  const std::string good = with_op(R"({"op": "yield"})");
  auto one_line = [](const std::string& msg) {
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_LT(msg.size(), 240u) << msg;
    return msg;
  };
  EXPECT_EQ(one_line(load_error(good + std::string(1, '\0') + "garbage")),
            "test.json:9:1: malformed JSON: a NUL byte (is this a JSON text file?)");
  EXPECT_THAT(one_line(load_error(good + "}")),
              HasSubstr("test.json:9:1: malformed JSON: syntax error"));
  EXPECT_EQ(one_line(load_error(with_op(R"({"op": "yield"})", "  \"name\": \"u\",\n"))),
            "test.json:3:3: /name: duplicate key (first at 2:3)");
  EXPECT_EQ(one_line(load_error(with_op(R"({"op": "yield", "op": "yield"})"))),
            "test.json:5:23: /lwps/0/ops/0/op: duplicate key (first at 5:8)");
  try {
    (void)load_scenario(VFSIM_SCENARIO_DIR, testing::test_catalog());
    ADD_FAILURE() << "a directory loaded";
  } catch (const ScenarioError& e) {
    EXPECT_EQ(std::string(e.what()),
              std::string(VFSIM_SCENARIO_DIR) + ": is a directory, not a scenario file");
  }
  EXPECT_EQ(
      one_line(load_error(with_op(R"({"op": "chmod", "args": {"path": "/", "mode": "0999"}})"))),
      "test.json:5:53: /lwps/0/ops/0/args/mode: argument 'mode' of op 'chmod' expects an "
      "octal mode like \"0644\" (0 to 07777) or an integer, got a string \"0999\"");
  EXPECT_THAT(load_error(with_op(R"({"op": "chmod", "args": {"path": "/", "mode": 4096}})")),
              HasSubstr("got an integer 4096"));
  EXPECT_EQ(load_error(with_op(R"({"op": "chmod", "args": {"path": "/", "mode": "01777"}})")), "");
  EXPECT_THAT(
      one_line(load_error(
          with_op(R"({"op": "yield"})", "  \"processes\": [{\"name\": \"p\", \"uid\": -5}],\n"))),
      ::testing::EndsWith("/processes/0/uid: expected a non-negative integer, got an integer -5"));
  EXPECT_EQ(one_line(load_error(with_op(R"({"op": "sleep", "args": {"ms": -5}})"))),
            "test.json:5:38: /lwps/0/ops/0/args/ms: argument 'ms' of op 'sleep' must be at least "
            "0, got -5");
  EXPECT_THAT(one_line(load_error(with_op(R"({"op": "yield", "repeat": 1000001})"))),
              HasSubstr("/lwps/0/ops/0/repeat: must be at most 1000000"));
}

// Shows: flags are OR-ed from either form, enums and defaults are resolved.
TEST(Loader, ResolvesTypedArguments) {
  auto s = load_text(with_op(
      R"({"op": "probe.open", "args": {"path": "/a", "flags": "O_RDWR | O_CREAT,O_EXCL"}})"));
  const auto& op = s->lwps.at(0).ops.at(0);
  ASSERT_EQ(op.args.size(), 4u);
  EXPECT_EQ(std::get<std::int64_t>(op.args[1].value), 2 | 0x40 | 0x80);
  EXPECT_EQ(std::get<std::int64_t>(op.args[2].value), 0);  // SEEK_SET default
  auto t = load_text(with_op(
      R"({"op": "probe.open", "args": {"path": "/a", "flags": ["O_WRONLY", "O_TRUNC"], "whence": "SEEK_END"}})"));
  EXPECT_EQ(std::get<std::int64_t>(t->lwps[0].ops[0].args[1].value), 1 | 0x200);
  EXPECT_EQ(std::get<std::int64_t>(t->lwps[0].ops[0].args[2].value), 2);
}

// Shows: `when` keeps only the ops matching the effective config, after --set.
TEST(Loader, WhenSelectsOpsByConfig) {
  const std::string text = with_op(
      R"({"op": "yield", "when": {"probe.personality": "linux"}},
      {"op": "var.read", "args": {"var": "x"}, "when": {"probe.personality": ["netbsd", "linux"]}},
      {"op": "var.read", "args": {"var": "y"}, "when": {"probe.personality": "netbsd"}})");
  EXPECT_EQ(load_text(text)->lwps[0].ops.size(), 2u);
  auto linux = load_text(text, {"probe.personality=linux"});
  ASSERT_EQ(linux->lwps[0].ops.size(), 2u);
  EXPECT_EQ(linux->lwps[0].ops[0].spec->name, "yield");
  EXPECT_EQ(linux->lwps[0].ops[0].index, 0u);
  EXPECT_EQ(linux->lwps[0].ops[1].index, 1u);
}

// Shows: expect_outcome picks the first entry whose `when` matches.
TEST(Loader, ExpectedOutcomePerConfig) {
  auto plain = testing::load_file("counter_locked");
  ASSERT_TRUE(plain->expected_outcome.has_value());
  EXPECT_EQ(*plain->expected_outcome, sim::Outcome::pass);
  auto buggy = testing::load_file("counter_locked", {"sched.locking=false"});
  EXPECT_EQ(*buggy->expected_outcome, sim::Outcome::expectation);
}

// Shows: line:col positions of values, including after escapes and nesting.
TEST(JsonLocations, FindsValuesAndFallsBackToParents) {
  const std::string text = "{\n \"a\": [1, {\"b~/\\\"\": true}],\n \"c\": \"x\"\n}";
  const auto loc = JsonLocations::index(text);
  EXPECT_EQ(loc.find("/a/1")->line, 2u);
  EXPECT_EQ(loc.find("/a/1")->column, 11u);
  EXPECT_EQ(loc.find("/a/1/b~0~1\"")->column, 21u);
  EXPECT_EQ(loc.find_key("/a/1/b~0~1\"")->column, 12u);
  EXPECT_EQ(loc.find("/c")->line, 3u);
  EXPECT_EQ(loc.find("/c/missing")->line, 3u);
}

}  // namespace
}  // namespace vfsim::scenarios
