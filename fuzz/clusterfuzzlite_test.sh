#!/usr/bin/env bash
# Shows (issue 16): the ClusterFuzzLite/OSS-Fuzz build (.clusterfuzzlite/
# build.sh), run with clang and LIB_FUZZING_ENGINE=-fsanitize=fuzzer
# (local-build.sh sets what ClusterFuzzLite's address build sets, including
# the -stdlib=libc++ build.sh must take out), produces every fuzz target that
# fuzz/CMakeLists.txt declares (VFSIM_FUZZ_TARGETS), each a libFuzzer binary
# with a seed corpus (generated ext2 images; for fuse_reply_fuzz the scripts
# of fuzz/fuse-regressions) and an options file, and each runs over its
# whole seed corpus without a finding.
# Usage: clusterfuzzlite_test.sh SOURCE_DIR WORK_DIR
# Exits 77 (skipped) without clang++.
set -u
src=$1 work=$2
fail() { echo "FAIL: $*"; exit 1; }
command -v clang++ >/dev/null || { echo "SKIP: clang++ is not installed"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$src/.clusterfuzzlite/local-build.sh" "$out/out" "$work" >"$out/build.log" 2>&1 ||
  { tail -30 "$out/build.log"; fail "build.sh failed"; }
targets=$(sed -n 's/^set(VFSIM_FUZZ_TARGETS \(.*\))$/\1/p' "$src/fuzz/CMakeLists.txt")
[ -n "$targets" ] || fail "no VFSIM_FUZZ_TARGETS in fuzz/CMakeLists.txt"
n=0
for t in $targets; do
  bin="$out/out/$t"
  [ -x "$bin" ] || fail "build.sh did not produce $t"
  grep -q "max_len" "$out/out/$t.options" || fail "$t has no options file"
  mkdir -p "$out/seeds-$t"
  (cd "$out/seeds-$t" && unzip -q "$out/out/${t}_seed_corpus.zip") || fail "$t: no seed corpus"
  case $t in
    fuse_*)  # the lying daemon's scripts: every file of fuzz/fuse-regressions
      seeds=$(ls "$out/seeds-$t" | wc -l)
      want=$(ls "$src/fuzz/fuse-regressions" | wc -l)
      [ "$seeds" -eq "$want" ] || fail "$t: $seeds seeds, fuzz/fuse-regressions has $want" ;;
    *)
      seeds=$(ls "$out/seeds-$t" | grep -c '\.img$')
      [ "$seeds" -ge 12 ] || fail "$t: only $seeds seed images" ;;
  esac
  "$bin" -runs=0 "$out/seeds-$t" >"$out/run.log" 2>&1 || { cat "$out/run.log"; fail "$t failed on its seeds"; }
  grep -q "^Done $((seeds + 1)) runs" "$out/run.log" ||
    { cat "$out/run.log"; fail "$t is not a libFuzzer binary that ran every seed"; }
  n=$((n + 1))
done
extra=$(ls "$out/out" | grep -Ev '(\.options|_seed_corpus\.zip)$' | grep -vxF -f <(printf '%s\n' $targets))
[ -z "$extra" ] || fail "build.sh produced targets fuzz/CMakeLists.txt does not declare: $extra"
echo "PASS: build.sh produced all $n fuzz targets ($targets), each ran its seeds"
