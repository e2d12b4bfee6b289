#!/usr/bin/env bash
# End-to-end tests of the vfsim command: cli_test.sh VFSIM SCENARIO_DIR TEST.
# Each TEST is one function below; ctest registers each as its own test.
# A test prints what it checked and exits non-zero on the first mismatch.
set -u
VFSIM=$1
SCEN=$2
TEST=$3
source "$(dirname "$(readlink -f "$0")")/cli_lib.sh"

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

# Shows (issue 13, A9): every failure prints the commands that reproduce it,
# and each, run as printed, gives the failure's outcome and trace hash:
# `replay` of the report, and `rerun` (vfsim run with --schedule-index),
# under pct (whose schedules depend on the exploration: `run --seed S
# --strategy pct` with the printed seed did not reproduce), random, dfs
# (which reaches schedule #i through the schedules before it) and a failure
# of `run` itself.
test_rerun_reproduces() {
  local cases=(
    "lost_update.json --strategy pct"
    "lost_update.json --strategy random --seed 9"
    "counter_locked.json --set sched.locking=false"
    "lock_order_deadlock.json --set explore.strategy=pct --depth 3"
  )
  local c
  for c in "${cases[@]}"; do
    # shellcheck disable=SC2086
    expect_exit 1 "$VFSIM" explore "$SCEN/"$c --report rep.json
    check_printed_commands "$c"
  done
  expect_exit 1 "$VFSIM" run "$SCEN/lock_order_deadlock.json" --seed 3 --report rep.json
  check_printed_commands "run lock_order_deadlock.json --seed 3"
  echo "printed commands reproduce the failure and its trace hash"
}

# check_printed_commands WHAT: runs the replay and rerun lines of out.txt as
# printed and compares outcome and trace hash with rep.json.
check_printed_commands() {
  local want_hash want_outcome replay rerun
  want_hash=$(json_field rep.json "['trace_hash']")
  want_outcome=$(json_field rep.json "['outcome']")
  replay=$(sed -n 's/^  replay: vfsim //p' out.txt)
  rerun=$(sed -n 's/^  rerun:  vfsim //p' out.txt)
  [ -n "$replay" ] || { cat out.txt; fail "$1: no replay command printed"; }
  [ -n "$rerun" ] || { cat out.txt; fail "$1: no rerun command printed"; }
  eval "\"\$VFSIM\" $replay --json" >r.json 2>/dev/null
  [ "$(json_field r.json "['trace_hash']")" = "$want_hash" ] || fail "$1: replay: another hash"
  eval "\"\$VFSIM\" $rerun --json --report again.json" >r.json 2>/dev/null
  [ "$(json_field r.json "['trace_hash']")" = "$want_hash" ] ||
    fail "$1: '$rerun' gave trace $(json_field r.json "['trace_hash']"), the failure $want_hash"
  [ "$(json_field r.json "['outcome']")" = "$want_outcome" ] || fail "$1: rerun: another outcome"
}

# Shows (issue 13, A8): a report names its scenario relative to itself (and
# by absolute path and SHA-256), so it replays from another directory, moved
# along with its scenario, or moved alone; --scenario FILE overrides; a
# scenario whose bytes differ from the report's is one line, exit 2. Before,
# the path was relative to where explore ran and replay elsewhere failed.
test_replay_elsewhere() {
  mkdir -p a b reports
  cp "$SCEN/lost_update.json" a/s.json
  (cd a && "$VFSIM" explore s.json --report ../reports/rep.json >/dev/null 2>&1)
  [ -f reports/rep.json ] || fail "no report"
  [ "$(json_field reports/rep.json "['scenario']")" = ../a/s.json ] || fail "path not report-relative"
  [ "$(json_field reports/rep.json "['scenario_sha256']")" = "$(sha256sum a/s.json | cut -d' ' -f1)" ] ||
    fail "scenario_sha256 is not the file's sha256"
  (cd b && expect_exit 1 "$VFSIM" replay ../reports/rep.json && grep -q "^reproduced: " out.txt) ||
    fail "replay from another directory"
  mkdir moved && cp -r a reports moved/
  mv a a.away
  expect_exit 1 "$VFSIM" replay moved/reports/rep.json   # beside the report, relative
  expect_exit 1 "$VFSIM" shrink moved/reports/rep.json --out moved/reports/small.json
  [ "$(json_field moved/reports/small.json "['scenario']")" = ../a/s.json ] || fail "shrunk path"
  mv a.away a
  cp reports/rep.json alone.json
  expect_exit 1 "$VFSIM" replay alone.json   # moved alone: the absolute path
  cp a/s.json copy.json
  expect_exit 1 "$VFSIM" replay alone.json --scenario copy.json
  echo '{"comment": "edited",' >edited.json && tail -c +2 a/s.json >>edited.json
  bad_input "alone.json: /scenario_sha256: edited.json is not the file the report was made from" \
    "$VFSIM" replay alone.json --scenario edited.json
  cp edited.json a/s.json
  bad_input "alone.json: /scenario_sha256: .*a/s.json is not the file the report was made from" \
    "$VFSIM" shrink alone.json
  echo "reports replay from anywhere, and only on their own scenario"
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
  # A setup op that fails is never as expected, whatever expect_outcome says
  # (issue 13, A2: it used to pass, the lwps running on what setup left).
  python3 - "$SCEN/counter_locked.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["setup"] = [{"op": "mkdir", "args": {"path": "/no/such/dir"}}]
json.dump(s, open("badsetup.json", "w"))
PY
  expect_exit 1 "$VFSIM" check badsetup.json
  grep -q "setup op 0 (mkdir): failed with ENOENT" out.txt || fail "setup failure not named"
  grep -q "NOT as expected: counter_locked expects pass, exploring gave setup" out.txt ||
    fail "setup failure taken as expected"
  expect_exit 1 "$VFSIM" check badsetup.json --set sched.locking=false
  grep -q "NOT as expected: counter_locked expects expectation, exploring gave setup" out.txt ||
    fail "setup failure taken as expected with the knob off"
  echo "expected outcomes hold"
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
  mkdir adir
  bad_input "^adir: is a directory, not a scenario file$" "$VFSIM" explore adir
  { cat "$SCEN/counter_locked.json"; printf '\0trailing garbage'; } >nul.json
  bad_input "^nul.json:[0-9]+:1: malformed JSON: a NUL byte" "$VFSIM" check nul.json
  echo '{"name": "a", "name": "b", "lwps": [{"name": "t", "ops": [{"op": "yield"}]}]}' >dup.json
  bad_input "^dup.json:1:15: /name: duplicate key \(first at 1:2\)$" "$VFSIM" run dup.json
  echo "${lwp/OP/{\"op\": \"chmod\", \"args\": {\"path\": \"/\", \"mode\": \"0999\"\}\}}" >mode.json
  bad_input "mode.json:1:.*/args/mode: .* expects an octal mode" "$VFSIM" run mode.json
  [ "$(wc -c <err.txt)" -lt 300 ] || fail "mode error is $(wc -c <err.txt) bytes long"
  echo "${lwp/OP/{\"op\": \"sleep\", \"args\": {\"ms\": -5\}\}}" >neg.json
  bad_input "neg.json:1:.*/args/ms: argument 'ms' of op 'sleep' must be at least 0, got -5$" \
    "$VFSIM" run neg.json
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

# Shows (issue 16): explore --shard 0/4 ... 3/4, merged by vfsim merge, gives
# the summary of the whole exploration with --jobs 1: the same first failing
# schedule, failure count, schedules explored and message for the
# GETATTR/WRITE race under pct (stopping at the first failure); the same
# failures and failing schedules with --keep-going; the same pass. Each shard
# runs only its own indices (i % 4 == K) and its report replays. Merging a
# wrong set of summaries (a shard missing or given twice, shards of another
# exploration) and a bad --shard are bad input.
test_shard_merge() {
  local s="$SCEN/getattr_write_race.json" k
  local race=(explore "$s" --set puffs.size_lock=false --json)
  "$VFSIM" "${race[@]}" --jobs 1 --report one.json >one.sum 2>/dev/null
  for k in 0 1 2 3; do
    "$VFSIM" "${race[@]}" --shard $k/4 --report shard$k.json >s$k.sum 2>/dev/null
    python3 -c "import json,sys; s=json.load(open('s$k.sum')); sys.exit(any(i % 4 != $k for i in s['failing_schedules']))" ||
      fail "shard $k ran another shard's schedule"
  done
  expect_exit 1 "$VFSIM" merge s0.sum s1.sum s2.sum s3.sum --json
  same_fields one.sum out.txt first_failure_schedule failures schedules_explored outcome message
  [ "$(json_field one.sum "['failures']")" = 1 ] || fail "the race was not found"
  local rep
  rep=$(json_field out.txt "['report']")
  expect_exit 1 "$VFSIM" replay "$rep"
  grep -q "^reproduced: expectation" out.txt || fail "the merged failure's report does not replay"

  local lost=(explore "$SCEN/lost_update.json" --schedules 300 --keep-going --json)
  "$VFSIM" "${lost[@]}" --report one.json >one.sum 2>/dev/null
  for k in 0 1 2; do "$VFSIM" "${lost[@]}" --shard $k/3 --report shard$k.json >k$k.sum 2>/dev/null; done
  expect_exit 1 "$VFSIM" merge k2.sum k0.sum k1.sum --json
  same_fields one.sum out.txt first_failure_schedule failures schedules_explored failing_schedules
  [ "$(json_field one.sum "['failures']")" -gt 3 ] || fail "too few failures to compare"

  local fixed=(explore "$s" --schedules 300 --json)
  "$VFSIM" "${fixed[@]}" >one.sum 2>/dev/null
  for k in 0 1; do "$VFSIM" "${fixed[@]}" --shard $k/2 >p$k.sum 2>/dev/null; done
  expect_exit 0 "$VFSIM" merge p0.sum p1.sum --json
  same_fields one.sum out.txt outcome schedules_explored failures first_failure_schedule

  bad_input "shards 3 of 4 are missing" "$VFSIM" merge s0.sum s1.sum s2.sum
  bad_input "s1.sum: /shard/index: shard 1 given twice" "$VFSIM" merge s0.sum s1.sum s1.sum s3.sum
  bad_input "p0.sum: /schedules: 300, but s0.sum has 10000: not shards of one exploration" \
    "$VFSIM" merge s0.sum p0.sum
  bad_input "--shard: expected K/N with 0 <= K < N" "$VFSIM" explore "$s" --shard 4/4
  bad_input "--shard: a dfs exploration's schedules depend on the ones before" \
    "$VFSIM" explore "$SCEN/counter_locked.json" --shard 0/2
  echo "4 shards merged give the --jobs 1 summary"
}

# same_fields A B FIELD...: the JSON files A and B agree on each FIELD.
same_fields() {
  local a=$1 b=$2; shift 2
  local f
  for f in "$@"; do
    [ "$(json_field "$a" "['$f']")" = "$(json_field "$b" "['$f']")" ] ||
      fail "$f: $(json_field "$a" "['$f']") alone, $(json_field "$b" "['$f']") merged"
  done
}

"test_$TEST"
