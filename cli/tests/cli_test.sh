#!/usr/bin/env bash
# End-to-end tests of the vfsim command: cli_test.sh VFSIM SCENARIO_DIR TEST.
# Each TEST is one function below; ctest registers each as its own test.
# A test prints what it checked and exits non-zero on the first mismatch.
set -u
VFSIM=$1
SCEN=$2
TEST=$3
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

# Shows: two runs with the same seed print the same trace hash, passing or failing.
test_run_same_seed_same_hash() {
  for s in counter_locked lock_order_deadlock; do
    "$VFSIM" run "$SCEN/$s.json" --seed 7 --json --report r.json >a.json 2>/dev/null
    "$VFSIM" run "$SCEN/$s.json" --seed 7 --json --report r.json >b.json 2>/dev/null
    [ "$(json_field a.json "['trace_hash']")" = "$(json_field b.json "['trace_hash']")" ] ||
      fail "$s: hashes differ"
  done
  echo "same seed, same trace hash"
}

# Shows: a failure writes a report with every required field, prints the
# replay command, and `replay` reproduces it (exit 1, "reproduced").
test_replay_reproduces() {
  expect_exit 1 "$VFSIM" explore "$SCEN/lost_update.json" --report rep.json
  grep -q "replay: vfsim replay rep.json" out.txt || fail "no replay command printed"
  grep -q "seed: " out.txt || fail "no seed printed"
  for f in scenario scenario_name config seed strategy schedule outcome message trace_hash \
           steps preemptions trace; do
    python3 -c "import json; assert '$f' in json.load(open('rep.json'))" || fail "report lacks $f"
  done
  [ "$(json_field rep.json "['outcome']")" = expectation ] || fail "outcome"
  expect_exit 1 "$VFSIM" replay rep.json
  grep -q "^reproduced: expectation" out.txt || fail "not reproduced"
  echo "replay reproduced the failure"
}

# Shows: a report whose trace hash does not match is reported as not reproduced (exit 3).
test_replay_mismatch() {
  expect_exit 1 "$VFSIM" explore "$SCEN/lock_order_deadlock.json" --report rep.json
  python3 - <<'PY'
import json
r = json.load(open('rep.json'))
r['trace_hash'] = '0x0000000000000001'
json.dump(r, open('rep.json', 'w'))
PY
  expect_exit 3 "$VFSIM" replay rep.json
  grep -q "NOT reproduced" out.txt || fail "no NOT reproduced message"
  echo "mismatch detected"
}

# Shows: shrink writes REPORT.shrunk.json with a schedule no longer than the
# original, prints both sizes, and the shrunk report replays.
test_shrink() {
  expect_exit 1 "$VFSIM" explore "$SCEN/lock_order_deadlock.json" --strategy random --report rep.json
  expect_exit 1 "$VFSIM" shrink rep.json
  grep -q "decisions, .* preemptions -> .* decisions, .* preemptions" out.txt || fail "sizes"
  [ -f rep.shrunk.json ] || fail "no rep.shrunk.json"
  expect_exit 1 "$VFSIM" replay rep.shrunk.json
  grep -q "^reproduced: deadlock" out.txt || fail "shrunk report does not reproduce"
  expect_exit 1 "$VFSIM" shrink rep.json --out small.json --json
  python3 -c "
import json
s = json.load(open('out.txt'))
assert s['preemptions_after'] <= s['preemptions_before'], s
assert s['decisions_after'] <= s['decisions_before'], s" || fail "shrink grew the schedule"
  echo "shrunk and replayed"
}

# Shows: --jobs 2 gives the same summary as --jobs 1 (first failure index,
# failure count and schedules with --keep-going).
test_jobs_same_summary() {
  local args=(explore "$SCEN/lost_update.json" --schedules 300 --keep-going --json)
  "$VFSIM" "${args[@]}" --jobs 1 --report r1.json >one.json 2>/dev/null
  "$VFSIM" "${args[@]}" --jobs 2 --report r2.json >two.json 2>/dev/null
  for f in first_failure_schedule failures schedules_explored outcome; do
    [ "$(json_field one.json "['$f']")" = "$(json_field two.json "['$f']")" ] || fail "$f differs"
  done
  [ "$(json_field one.json "['failures']")" -gt 0 ] || fail "no failures found"
  echo "jobs 1 and 2 agree"
}

# Shows: the --json summary has the documented fields and nothing else is on stdout.
test_json_summary() {
  expect_exit 0 "$VFSIM" explore "$SCEN/counter_locked.json" --json
  python3 -c "
import json
s = json.load(open('out.txt'))
for f in ['outcome', 'schedules_explored', 'failures', 'first_failure_schedule',
          'schedules_per_second', 'seed', 'strategy', 'exhausted', 'report']:
    assert f in s, f
assert s['outcome'] == 'pass' and s['exhausted'] is True and s['report'] is None, s" ||
    fail "bad summary"
  grep -q $'\r' out.txt && fail "progress line on a non-terminal"
  echo "summary ok"
}

# Shows: each knob side of every shipped scenario ends as its expect_outcome says.
test_check_both_ways() {
  expect_exit 0 "$VFSIM" check "$SCEN/counter_locked.json"
  expect_exit 0 "$VFSIM" check "$SCEN/counter_locked.json" --set sched.locking=false
  grep -q "as expected: counter_locked expects expectation" out.txt || fail "knob side"
  expect_exit 0 "$VFSIM" check "$SCEN/lock_order_deadlock.json"
  expect_exit 0 "$VFSIM" check "$SCEN/lock_order_deadlock.json" --set sched.locking=false
  expect_exit 0 "$VFSIM" check "$SCEN/lost_update.json"
  expect_exit 0 "$VFSIM" check "$SCEN/timeout_hang.json"
  expect_exit 1 "$VFSIM" check "$SCEN/lost_update.json" --set explore.schedules=1 \
    --strategy dfs --preemption-bound 0
  grep -q "NOT as expected" out.txt || fail "mismatch not reported"
  echo "expected outcomes hold"
}

# bad_input CODE PATTERN CMD...: exit 2, one line on stderr matching PATTERN,
# nothing on stdout, and no report written.
bad_input() {
  local pattern=$1; shift
  expect_exit 2 "$@"
  [ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt; fail "not one line: $*"; }
  grep -Eq -- "$pattern" err.txt || { cat err.txt; fail "no '$pattern' in: $(cat err.txt)"; }
  [ -s out.txt ] && fail "stdout not empty: $*"
  [ -e vfsim-report.json ] && fail "a report was written: $*"
  return 0
}

# Shows: each kind of bad input exits 2 with one line naming file, place, reason.
test_bad_inputs() {
  printf '{\n  "name": "x",\n  "lwps": [}\n' >malformed.json
  bad_input 'malformed.json:3:12: malformed JSON' "$VFSIM" run malformed.json
  local lwp='{"name": "x", "lwps": [{"name": "t1", "ops": [OP]}]}'
  echo "${lwp/OP/{\"op\": \"var.ad\", \"args\": {\"var\": \"c\"\}\}}" >unknown_op.json
  bad_input "unknown_op.json:1:54: /lwps/0/ops/0/op: unknown op 'var.ad'" "$VFSIM" explore unknown_op.json
  echo "${lwp/OP/{\"op\": \"var.add\", \"args\": {\"vr\": \"c\"\}\}}" >unknown_arg.json
  bad_input "unknown_arg.json:1:.*/lwps/0/ops/0/args/vr: unknown argument 'vr' for op 'var.add'" \
    "$VFSIM" run unknown_arg.json
  echo "${lwp/OP/{\"op\": \"sleep\", \"args\": {\"ms\": \"ten\"\}\}}" >wrong_type.json
  bad_input "wrong_type.json:1:.*/lwps/0/ops/0/args/ms: argument 'ms' of op 'sleep' expects an integer" \
    "$VFSIM" run wrong_type.json
  echo "${lwp/OP/{\"args\": {\}\}}" >missing.json
  bad_input "missing.json:1:.*/lwps/0/ops/0: missing field 'op'" "$VFSIM" run missing.json
  bad_input "counter_locked.json: --set sched.lockng=false: unknown config key 'sched.lockng'" \
    "$VFSIM" explore "$SCEN/counter_locked.json" --set sched.lockng=false
  bad_input "--set sched.locking=perhaps: expected a bool" \
    "$VFSIM" explore "$SCEN/counter_locked.json" --set sched.locking=perhaps
  bad_input "--strategy bfs: unknown strategy 'bfs'" \
    "$VFSIM" explore "$SCEN/counter_locked.json" --strategy bfs
  bad_input "vfsim explore: --frobnicate: unknown option" \
    "$VFSIM" explore "$SCEN/counter_locked.json" --frobnicate
  bad_input "nope.json: cannot open" "$VFSIM" run nope.json
  bad_input "unknown command 'explode'" "$VFSIM" explode
  echo "bad inputs rejected"
}

# Shows: a bad knob value fails to load, whichever way it came: one line
# naming `--set KEY=VALUE` when it came from --set (even over a value the
# file sets), the file's place when the file set it, exit 2, nothing run.
# The puffs knobs go through the same check as puffs's mount options.
test_bad_knobs() {
  local g="$SCEN/getattr_write_race.json"
  bad_input "getattr_write_race.json: --set puffs.reply_drop_at=x: expected message numbers" \
    "$VFSIM" check "$g" --set puffs.reply_drop_at=x
  bad_input "getattr_write_race.json: --set puffs.workers=0: must be 1 to 64" \
    "$VFSIM" check "$g" --set puffs.workers=0
  bad_input "getattr_write_race.json: --set puffs.workers=x: expected an int" \
    "$VFSIM" check "$g" --set puffs.workers=x
  bad_input "getattr_write_race.json: --set puffs.retry=3: resends need a request timeout" \
    "$VFSIM" run "$g" --set puffs.retry=3
  bad_input "getattr_write_race.json: --set puffs.rcvbuf_bytes=-1: must not be negative" \
    "$VFSIM" explore "$g" --set puffs.rcvbuf_bytes=-1
  sed 's/"puffs.workers": 2/"puffs.workers": "two"/' "$g" >wrong_type.json
  bad_input "wrong_type.json:[0-9]+:[0-9]+: /config/puffs.workers: expected an int" \
    "$VFSIM" check wrong_type.json
  sed 's/"puffs.workers": 2/"puffs.workers": 0/' "$g" >zero.json
  bad_input "zero.json:[0-9]+:[0-9]+: /config/puffs.workers: must be 1 to 64" \
    "$VFSIM" run zero.json
  local d="$SCEN/pagedaemon_fake_deadlock.json"
  bad_input "pagedaemon_fake_deadlock.json: --set pager.freemin=10: must be at most pager.freetarg \(8\)" \
    "$VFSIM" check "$d" --set pager.freemin=10
  bad_input "pagedaemon_fake_deadlock.json: --set pager.freetarg=33: must be at most pager.pages \(32\)" \
    "$VFSIM" check "$d" --set pager.freetarg=33
  bad_input "--set pager.freemin=100: must be at most pager.pages \(0: no memory model\)" \
    "$VFSIM" check "$g" --set pager.freemin=100
  echo "bad knob values rejected at load"
}

# Shows: a report for another scenario (renamed, or its file gone) exits 2.
test_report_of_another_scenario() {
  cp "$SCEN/lock_order_deadlock.json" mine.json
  expect_exit 1 "$VFSIM" explore mine.json --report rep.json
  sed -i 's/"name": "lock_order_deadlock"/"name": "something_else"/' mine.json
  rm -f vfsim-report.json
  bad_input "rep.json: /scenario_name: the report is for scenario 'lock_order_deadlock' but mine.json is scenario 'something_else'" \
    "$VFSIM" replay rep.json
  rm mine.json
  bad_input "rep.json: /scenario: the report's scenario file 'mine.json' does not exist" \
    "$VFSIM" replay rep.json
  echo '{"scenario": 3}' >junk.json
  bad_input "junk.json: /scenario: expected a string" "$VFSIM" shrink junk.json
  echo "reports of other scenarios rejected"
}

"test_$TEST"
