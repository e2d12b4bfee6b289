#!/bin/bash
# Pins the trace hash of every bundled scenario under random and pct, seeds
# 1 to 4: a change meant only to make vfsim faster (or to tidy it) must not
# change any schedule or trace. When a change is meant to alter behaviour,
# re-record the file and say why in the commit:
#   cli/tests/trace_hashes.sh build/release/cli/vfsim scenarios --record cli/tests/scenario_trace_hashes.txt
# Usage: trace_hashes.sh VFSIM SCENARIO_DIR (--check|--record) FILE
set -euo pipefail
vfsim=$1 dir=$2 mode=$3 file=$4

fingerprint() {
  local f st seed out hash
  for f in "$dir"/*.json; do
    for st in random pct; do
      for seed in 1 2 3 4; do
        # Failing scenarios (the historic bugs) exit 1; the hash still counts.
        out=$("$vfsim" run "$f" --seed "$seed" --strategy "$st" --json 2>/dev/null | tail -1) || true
        hash=$(sed -n 's/.*"trace_hash":"\([^"]*\)".*/\1/p' <<<"$out")
        if [[ -z $hash ]]; then
          echo "trace_hashes.sh: $f: no trace hash from vfsim run (seed $seed, $st)" >&2
          return 2
        fi
        echo "$(basename "$f") $st $seed $hash"
      done
    done
  done
}

case $mode in
  --record) fingerprint > "$file" ;;
  --check)
    if ! diff -u "$file" <(fingerprint); then
      echo "trace_hashes.sh: trace hashes differ from $file (see the diff above)" >&2
      exit 1
    fi
    echo "trace hashes of $(wc -l < "$file") scenario runs match $file" ;;
  *) echo "usage: $0 VFSIM SCENARIO_DIR (--check|--record) FILE" >&2; exit 2 ;;
esac
