# Helpers shared by the end-to-end shell tests (cli_test.sh, fuse_cli_test.sh):
# each sources this after setting VFSIM, SCEN and TEST from its arguments.
# Every test runs in a fresh temporary directory, removed on exit.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

fail() { echo "FAIL: $*"; exit 1; }

# expect_exit CODE CMD...: runs CMD, keeps stdout in out.txt, stderr in err.txt.
expect_exit() {
  local want=$1; shift
  "$@" >out.txt 2>err.txt
  local got=$?
  [ "$got" -eq "$want" ] || { cat out.txt err.txt; fail "exit $got, wanted $want: $*"; }
}

json_field() { python3 -c "import json,sys; print(json.load(open('$1'))$2)"; }

# bad_input PATTERN CMD...: CMD is refused as bad input: exit 2, one line on
# stderr matching PATTERN, nothing on stdout, no report written.
bad_input() {
  local pattern=$1; shift
  expect_exit 2 "$@"
  [ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt; fail "not one line: $*"; }
  grep -Eq -- "$pattern" err.txt || { cat err.txt; fail "no '$pattern' in: $(cat err.txt)"; }
  [ -s out.txt ] && fail "stdout not empty: $*"
  [ -e vfsim-report.json ] && fail "a report was written: $*"
  return 0
}
