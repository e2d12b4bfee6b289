#!/usr/bin/env bash
# Shows (issue 13 B): an ext2 image that trips a driver assertion (the
# TEST-ONLY driver option test_panic=1 and the entry vfsim-test-panic, made
# by scenarios/ext2/make-untrusted-image.sh) is survived when puffs serves
# it: scenarios/ext2/untrusted_image_puffs.json passes every explored
# schedule (random and pct) with its syscalls on the dead mount answering
# ENXIO/EIO and its checks on the root memfs and a second puffs server
# passing, and the run's trace records the contained panic; the same image
# mounted in-kernel (untrusted_image_kernel.json) ends as panic. Both files'
# trace hashes are pinned in untrusted_trace_hashes.txt (the image is the
# same bytes every time). Re-record with:
#   cli/tests/untrusted_image.sh build/release/cli/vfsim scenarios --record
# Usage: untrusted_image.sh VFSIM SCENARIO_DIR [--record]
set -u
vfsim=$1 scen=$2 mode=${3:---check}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cp "$scen/ext2/untrusted_image_puffs.json" "$scen/ext2/untrusted_image_kernel.json" "$work/" ||
  fail "copy the scenarios"
"$scen/ext2/make-untrusted-image.sh" "$work/untrusted.img" || fail "make the image"
cd "$work" || fail "cd"

"$vfsim" check untrusted_image_puffs.json >out.txt 2>&1 || { cat out.txt; fail "puffs: check"; }
grep -q "^pass: untrusted_image_puffs: 200 schedules explored" out.txt || { cat out.txt; fail "puffs: summary"; }
"$vfsim" check untrusted_image_puffs.json --set explore.strategy=pct >out.txt 2>&1 ||
  { cat out.txt; fail "puffs: check under pct"; }
"$vfsim" run untrusted_image_puffs.json --trace >out.txt 2>&1 || { cat out.txt; fail "puffs: run"; }
grep -q "contained_panic: puffs server (ext2): ext2 core invariant: KASSERT failed" out.txt ||
  fail "puffs: no contained panic in the trace"
grep -q 'victim op 0 (stat) path="/untrusted/vfsim-test-panic" -> ENXIO' out.txt ||
  fail "puffs: the lookup that killed the server did not answer ENXIO"
grep -q "^  server died: puffs server (ext2) (lwp '.*'): ext2 core invariant: KASSERT failed" out.txt ||
  { cat out.txt; fail "puffs: the pass does not say that the server died"; }
"$vfsim" run untrusted_image_puffs.json --json 2>/dev/null | tail -1 >out.json
python3 -c "
import json, sys
r = json.load(open('out.json'))
assert r['outcome'] == 'pass', r
assert len(r['contained']) == 1 and r['contained'][0]['domain'] == 'puffs server (ext2)', r
" || fail "puffs: --json does not list the contained panic"

"$vfsim" check untrusted_image_kernel.json >out.txt 2>&1 || { cat out.txt; fail "kernel: check"; }
grep -q "exploring gave panic" out.txt || { cat out.txt; fail "kernel: not a panic"; }
"$vfsim" run untrusted_image_kernel.json >out.txt 2>&1 && fail "kernel: the run passed"
grep -q "^FAILED: panic" out.txt || { cat out.txt; fail "kernel: not a panic"; }
grep -q "test-only assertion: the image holds the entry vfsim-test-panic" out.txt ||
  { cat out.txt; fail "kernel: another panic"; }

mkdir hashes && mv untrusted_image_puffs.json untrusted_image_kernel.json hashes/ && mv untrusted.img hashes/
"$here/trace_hashes.sh" "$vfsim" hashes "$mode" "$here/untrusted_trace_hashes.txt" || fail "trace hashes"
echo PASS
