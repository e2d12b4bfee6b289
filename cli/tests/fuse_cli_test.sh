#!/usr/bin/env bash
# End-to-end tests of vfsim with FUSE scenarios (scenarios/fuse/):
# fuse_cli_test.sh VFSIM FUSE_SCENARIO_DIR TEST. Each TEST is one function
# below; ctest registers each as its own test. A test prints what it
# checked and exits non-zero on the first mismatch.
set -u
VFSIM=$1
SCEN=$2
TEST=$3
source "$(dirname "$(readlink -f "$0")")/cli_lib.sh"

# Shows: a FUSE scenario explored with --jobs 2 runs worker processes (one
# FUSE machine per process) and gives the summary --jobs 1 gives: the same
# first failing schedule, failure count and outcome; the failure's report
# replays to the same outcome in a fresh process.
test_jobs_processes() {
  local args=(explore "$SCEN/fuse_hidden_release_unlink.json" --schedules 1200 --keep-going --json)
  "$VFSIM" "${args[@]}" --jobs 1 --report r1.json >one.json 2>/dev/null
  "$VFSIM" "${args[@]}" --jobs 2 --report r2.json >two.json 2>/dev/null
  for f in first_failure_schedule failures schedules_explored outcome; do
    [ "$(json_field one.json "['$f']")" = "$(json_field two.json "['$f']")" ] ||
      fail "$f differs: $(cat one.json) vs $(cat two.json)"
  done
  [ "$(json_field one.json "['failures']")" -gt 0 ] || fail "no failures found"
  [ "$(json_field r1.json "['trace_hash']")" = "$(json_field r2.json "['trace_hash']")" ] ||
    fail "the reports' trace hashes differ"
  expect_exit 0 "$VFSIM" explore "$SCEN/hello_ll.json" --schedules 200 --jobs 2
  grep -q "2 worker processes" out.txt || fail "--jobs 2 did not say it ran processes: $(cat out.txt)"
  expect_exit 1 "$VFSIM" replay r2.json
  grep -q "^reproduced: expectation" out.txt || fail "not reproduced: $(cat out.txt)"
  echo "jobs 1 and 2 (processes) agree; the report replays"
}

# Shows: a FUSE scenario's mistakes are one line at load, exit 2, nothing
# run: an fs this vfsim does not have, a knob out of range, an option that
# needs real threads, both or neither of fs and exec.
test_bad_inputs() {
  local h="$SCEN/hello_ll.json"
  sed 's/"fs": "hello_ll"/"fs": "nosuchfs"/' "$h" >nofs.json
  bad_input "nofs.json:[0-9]+:[0-9]+: /setup/0/args/fs: op 'fuse.mount': no FUSE file system 'nosuchfs' in this vfsim \(it has: .*hello_ll.*\)" \
    "$VFSIM" run nofs.json
  sed 's/"fs": "hello_ll"/"fs": "hello_ll", "argv": ["-o", "intr"]/' "$h" >intr.json
  bad_input "intr.json:[0-9]+:[0-9]+: /setup/0/args/argv: op 'fuse.mount': fuse option 'intr' needs pthread_kill of a real thread" \
    "$VFSIM" check intr.json
  sed 's/"fs": "hello_ll"/"fs": "hello_ll", "exec": "\/bin\/true"/' "$h" >both.json
  bad_input "both.json:[0-9]+:[0-9]+: .*name exactly one of \"fs\" and \"exec\"" "$VFSIM" run both.json
  bad_input "hello_ll.json: --set fuse.workers=0: must be 1 to 64" \
    "$VFSIM" check "$h" --set fuse.workers=0
  bad_input "hello_ll.json: --set fuse.options=remember=5: fuse option 'remember=5' needs a cleanup thread" \
    "$VFSIM" explore "$h" --set fuse.options=remember=5
  bad_input "hello_ll.json: --set fuse.size_serialise=maybe: expected a bool" \
    "$VFSIM" run "$h" --set fuse.size_serialise=maybe
  echo "bad FUSE inputs rejected at load"
}

# Shows: "fuse" is a file-system type like any other: mount(2) of type fuse
# with fs=hello_ll (and the fuse knobs as options) serves hello_ll, and the
# scenario explores --jobs 2 as processes; a bad option or an unknown file
# system is the errno mount(2) answers (EINVAL, ENODEV), not a crash.
test_mount_syscall() {
  cat >m.json <<'JSON'
{"name": "mount_fuse", "description": "mount(2) of type fuse",
 "setup": [{"op": "mkdir", "args": {"path": "/m"}},
           {"op": "mount", "args": {"fstype": "fuse", "path": "/m", "options": {"fs": "hello_ll", "workers": 2}}}],
 "lwps": [{"name": "cat", "ops": [{"op": "fs.read_file", "args": {"path": "/m/hello"}, "expect": {"data": "Hello World!\n"}}]},
          {"name": "ls", "ops": [{"op": "stat", "args": {"path": "/m/nothere"}, "expect": "ENOENT"}]}],
 "checks": [{"op": "mkdir", "args": {"path": "/n"}},
            {"op": "mount", "args": {"fstype": "fuse", "path": "/n", "options": {"fs": "hello_ll", "workers": 0}}, "expect": "EINVAL"},
            {"op": "mount", "args": {"fstype": "fuse", "path": "/n", "options": {"fs": "nosuch"}}, "expect": "ENODEV"},
            {"op": "unmount", "args": {"path": "/m"}, "expect": "ok"}],
 "explore": {"strategy": "pct", "depth": 3, "schedules": 300}}
JSON
  expect_exit 0 "$VFSIM" check m.json --jobs 2
  grep -q "2 worker processes" out.txt || fail "mount(2) of fuse did not explore as processes: $(cat out.txt)"
  echo "mount(2) of type fuse serves hello_ll; bad options are errnos"
}

# Shows: a daemon notifying INVAL_ENTRY from inside its LOOKUP handler on
# the same parent deadlocks, and the reported wait-for cycle names the
# parent directory's vnode lock and the daemon lwp that waits for it (the
# kernel applied the notification in the writer's lwp, under that lock).
test_notify_deadlock_cycle() {
  expect_exit 1 "$VFSIM" explore "$SCEN/notify_inval_entry_deadlock.json"
  grep -q "FAILED: deadlock" out.txt || fail "no deadlock: $(cat out.txt)"
  grep -q "lwp 'fuse:notify_lookup_ll main' waits for rwlock 'vnode m2:1' held by lwp 'reader'" out.txt ||
    fail "the cycle does not name the daemon waiting for the parent's vnode lock: $(cat out.txt)"
  grep -q "lwp 'reader' waits for channel 'puffs reply to req [0-9]* LOOKUP" out.txt ||
    fail "the cycle does not name the lookup waiting for its reply: $(cat out.txt)"
  expect_exit 0 "$VFSIM" check "$SCEN/notify_inval_entry_deadlock.json" --set fuse.options=notify_from_thread
  echo "the deadlock's cycle names the vnode lock and the daemon lwp"
}

"test_$TEST"
