#!/usr/bin/env bash
# Shows, for one historic (knob-off) configuration of a regression scenario,
# what a user does with it: `vfsim explore` finds the failure (exit 1),
# prints it and writes a report; `vfsim replay` on that report reproduces
# the same outcome and trace hash (exit 1, "reproduced").
# Usage: explore_replay.sh VFSIM SCENARIO [--set KEY=VALUE]...
set -u
vfsim=$1; scenario=$2; shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
report="$dir/report.json"

"$vfsim" explore "$scenario" "$@" --report "$report" > "$dir/explore.out" 2>&1
rc=$?
if [ "$rc" -ne 1 ]; then
  echo "FAIL: explore exited $rc, wanted 1 (a failure found)"; cat "$dir/explore.out"; exit 1
fi
grep -q "^FAILED: " "$dir/explore.out" || { echo "FAIL: explore printed no failure"; cat "$dir/explore.out"; exit 1; }
[ -s "$report" ] || { echo "FAIL: no report written"; exit 1; }

"$vfsim" replay "$report" > "$dir/replay.out" 2>&1
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "^reproduced: " "$dir/replay.out"; then
  echo "FAIL: replay exited $rc"; cat "$dir/replay.out"; exit 1
fi
head -2 "$dir/explore.out"
head -1 "$dir/replay.out"
echo "PASS"
