#!/usr/bin/env bash
# Shows (issue 13, A1): exploring a scenario that mounts an ext2 image and
# renames files on it passes 1,000 schedules with --jobs 2 and leaves the host
# image byte-identical: every run sees the image as it was on disk and writes
# only its own private copy. Before, schedule #0's writes reached the host
# file, schedule #1 then failed in setup (its O_EXCL create found the file),
# and two jobs wrote one file at once. The image path resolves relative to
# the scenario file, so the exploration runs from another directory.
# `vfsim run --write-image` is the one way to change the image, and a run
# then sees what the previous one left. A failure report made on the image
# replays from another directory (A8) and is refused once the image changed.
# The image is made with mke2fs.
# Usage: image_private.sh VFSIM SCENARIO_DIR
set -u
vfsim=$1 scen=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$work/s" "$work/elsewhere"
cp "$scen/ext2/rename_race_ext2.json" "$work/s/"
img="$work/s/rename_race_ext2.img"
truncate -s 1M "$img" && mke2fs -q -F -t ext2 -b 1024 "$img" >/dev/null 2>&1 ||
  fail "mke2fs could not make the image"
cp "$img" "$work/original.img"
cd "$work/elsewhere" || exit 1

"$vfsim" explore ../s/rename_race_ext2.json --jobs 2 --schedules 1000 >out.txt 2>&1 ||
  { cat out.txt; fail "explore with --jobs 2 did not pass"; }
grep -q "^pass: rename_race_ext2: 1000 schedules explored" out.txt || { cat out.txt; fail "summary"; }
cmp -s "$img" "$work/original.img" || fail "explore changed the host image"
"$vfsim" check ../s/rename_race_ext2.json --set vfs.rename_lost_source_unlock=false \
  --set explore.schedules=200 >out.txt 2>&1 || { cat out.txt; fail "historic side not found"; }
cmp -s "$img" "$work/original.img" || fail "check changed the host image"
"$vfsim" run ../s/rename_race_ext2.json >out.txt 2>&1 || { cat out.txt; fail "run"; }
cmp -s "$img" "$work/original.img" || fail "run changed the host image"

# The historic side's failure report replays from yet another directory
# (issue 13, A8), on the same image, which stays as it was.
mkdir -p "$work/reports" "$work/other"
"$vfsim" explore ../s/rename_race_ext2.json --set vfs.rename_lost_source_unlock=false \
  --jobs 2 --report ../reports/rep.json >out.txt 2>&1
[ $? -eq 1 ] && grep -q "^FAILED: panic" out.txt || { cat out.txt; fail "no panic found"; }
python3 -c "import json; r = json.load(open('../reports/rep.json')); \
assert r['images'][0]['path'] == 'rename_race_ext2.img', r['images']" || fail "no image in the report"
(cd "$work/other" && "$vfsim" replay ../reports/rep.json >out.txt 2>&1)
[ $? -eq 1 ] && grep -q "^reproduced: panic" "$work/other/out.txt" ||
  { cat "$work/other/out.txt"; fail "the report did not replay from another directory"; }
cmp -s "$img" "$work/original.img" || fail "explore or replay changed the host image"

"$vfsim" run ../s/rename_race_ext2.json --write-image >out.txt 2>&1 ||
  { cat out.txt; fail "run --write-image"; }
cmp -s "$img" "$work/original.img" && fail "run --write-image left the image as it was"
"$vfsim" run ../s/rename_race_ext2.json >out.txt 2>&1
[ $? -eq 1 ] && grep -q "setup op 2 (mkdir): failed with EEXIST" out.txt ||
  { cat out.txt; fail "a run on the written image did not see the first run's tree"; }
# The report was made on the image before --write-image changed it: replay
# refuses it in one line rather than giving a verdict about another image.
"$vfsim" replay ../reports/rep.json >out.txt 2>err.txt
[ $? -eq 2 ] && [ "$(wc -l <err.txt)" -eq 1 ] && [ ! -s out.txt ] &&
  grep -q "rep.json: /images/0: rename_race_ext2.img (.*) is not the image the report was made from" \
    err.txt || { cat out.txt err.txt; fail "replay on a changed image"; }
echo "1000 schedules with --jobs 2 passed; the host image is byte-identical; --write-image writes it"
