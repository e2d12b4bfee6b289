#!/usr/bin/env bash
# The image tools against e2fsprogs on real-size trees (issue 13 D), side by
# side in one run, each figure the median of RUNS (default 3) wall-clock
# runs, with the peak resident memory of the last run:
#   1. `vfsim fs get` of a 5,000-entry directory made by mke2fs -d;
#   2. `vfsim makefs -t ext2 -s 1G` of TREE against `mke2fs -t ext2 -d`
#      (e2fsck -fn must find the makefs image clean);
#   3. `vfsim fs get` of TREE's mke2fs image against
#      `debugfs -R "rdump / DIR"` (the copy must be identical to TREE by
#      `diff -r --no-dereference`, the image's lost+found aside).
# Usage: fs_tools_bench.sh VFSIM [TREE (default /usr/include)] [WORKDIR]
# Output directories go under WORKDIR (default: a new directory in /dev/shm
# when it exists, else $TMPDIR): on a disk file system the time to create
# 24,000 host files dominates every figure. Exit status 1 when a check
# fails (an error, an unclean image, a difference), so ctest can run it.
set -euo pipefail

VFSIM=$(realpath "$1")
TREE=${2:-/usr/include}
RUNS=${RUNS:-3}
if [[ -n "${3:-}" ]]; then
  WORK=$3
  mkdir -p "$WORK"
elif [[ -d /dev/shm && -w /dev/shm ]]; then
  WORK=$(mktemp -d /dev/shm/fs_tools_bench.XXXXXX)
else
  WORK=$(mktemp -d)
fi
trap 'rm -rf "$WORK"' EXIT
export PATH=/sbin:/usr/sbin:$PATH

fail=0
# time_cmd NAME SETUP CMD...: runs SETUP then CMD RUNS times; prints the
# median wall time in seconds and the last run's peak RSS in KiB.
declare -A MEDIAN RSS
time_cmd() {
  local name=$1 setup=$2
  shift 2
  local times=()
  for ((i = 0; i < RUNS; i++)); do
    eval "$setup"
    local out
    out=$(/usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1) || {
      echo "FAIL: $name: $*" >&2
      fail=1
    }
    times+=("${out% *}")
    RSS[$name]=${out#* }
  done
  MEDIAN[$name]=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((RUNS + 1) / 2))p")
}

# 1. A 5,000-entry directory.
mkdir -p "$WORK/d5k/src"
for i in $(seq 1 5000); do echo "file $i" >"$WORK/d5k/src/entry_$i.txt"; done
mke2fs -q -F -t ext2 -d "$WORK/d5k/src" "$WORK/d5k/img" 64M >/dev/null 2>&1
time_cmd get5k 'rm -rf "$WORK/d5k/out"' "$VFSIM" fs get "$WORK/d5k/img" / "$WORK/d5k/out"
if ! diff -r -x lost+found "$WORK/d5k/src" "$WORK/d5k/out" >/dev/null; then
  echo "FAIL: fs get of the 5,000-entry directory differs" >&2
  fail=1
fi

# 2. makefs against mke2fs -d.
time_cmd mke2fs 'rm -f "$WORK/mke2fs.img"' mke2fs -q -F -t ext2 -d "$TREE" "$WORK/mke2fs.img" 1G
time_cmd makefs 'rm -f "$WORK/makefs.img"' "$VFSIM" makefs -t ext2 -s 1G "$WORK/makefs.img" "$TREE"
if ! e2fsck -fn "$WORK/makefs.img" >"$WORK/fsck.txt" 2>&1; then
  echo "FAIL: e2fsck -fn finds the makefs image unclean:" >&2
  cat "$WORK/fsck.txt" >&2
  fail=1
fi
rm -f "$WORK/makefs.img"

# 3. fs get against debugfs rdump, of the mke2fs image.
time_cmd rdump 'rm -rf "$WORK/rdump"; mkdir "$WORK/rdump"' \
  debugfs -R "rdump / $WORK/rdump" "$WORK/mke2fs.img"
rm -rf "$WORK/rdump"
time_cmd get 'rm -rf "$WORK/get"' "$VFSIM" fs get "$WORK/mke2fs.img" / "$WORK/get"
if ! diff -r --no-dereference -x lost+found "$TREE" "$WORK/get" >"$WORK/diff.txt" 2>&1; then
  echo "FAIL: fs get of the image differs from $TREE:" >&2
  head -20 "$WORK/diff.txt" >&2
  fail=1
fi

entries=$(find "$TREE" | wc -l)
size=$(du -sm "$TREE" | cut -f1)
printf 'tree %s: %s entries, %s MiB; medians of %s runs; output in %s\n' \
  "$TREE" "$entries" "$size" "$RUNS" "$(df --output=fstype "$WORK" | tail -1)"
printf '%-44s %8s %10s %8s\n' "what" "seconds" "peak KiB" "ratio"
row() { printf '%-44s %8s %10s %8s\n' "$1" "${MEDIAN[$2]}" "${RSS[$2]}" "$3"; }
ratio() { awk -v a="${MEDIAN[$1]}" -v b="${MEDIAN[$2]}" 'BEGIN { printf "%.2fx", a / b }'; }
row "vfsim fs get, 5,000-entry directory" get5k "(<1 s)"
row "mke2fs -t ext2 -d (reference)" mke2fs "1.00x"
row "vfsim makefs -t ext2 -s 1G" makefs "$(ratio makefs mke2fs)"
row "debugfs rdump / (reference)" rdump "1.00x"
row "vfsim fs get /" get "$(ratio get rdump)"
exit $fail
