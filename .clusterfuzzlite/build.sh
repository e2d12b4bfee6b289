#!/bin/bash -eu
# Builds every vfsim fuzz target the way OSS-Fuzz and ClusterFuzzLite build
# fuzzers: compiled with $CC/$CXX and $CFLAGS/$CXXFLAGS (sanitizers and
# coverage), linked with $LIB_FUZZING_ENGINE, copied to $OUT with a seed
# corpus (ext2 images made by fuzz/gen-corpus.sh, never committed; for
# fuse_reply_fuzz the scripts in fuzz/fuse-regressions) and an options file
# per target.
#
# Runs in the build image (.clusterfuzzlite/Dockerfile: the source in
# $SRC/vfsim, the working directory) and anywhere else with the same
# variables; the source is the working directory unless VFSIM_SRC says
# otherwise. The same script builds the harnesses for AFL++:
#   CC=afl-clang-fast CXX=afl-clang-fast++ CFLAGS= CXXFLAGS=-fsanitize=address \
#   LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a OUT=out-afl .clusterfuzzlite/build.sh
# (docs/scale.md has the result of that command).
src=${VFSIM_SRC:-$PWD}
out=${OUT:?set OUT to where the fuzz targets go}
work=${WORK:-$(mktemp -d)}
build="$work/vfsim-fuzz-build"
cc=${CC:-clang}
cxx=${CXX:-clang++}

# OSS-Fuzz adds -stdlib=libc++ to CXXFLAGS; vfsim links the distribution's
# Boost.Fiber, built against libstdc++, so it is taken out again (ASan and
# UBSan need no instrumented standard library; MSan is not offered).
cxxflags=${CXXFLAGS:-}
cxxflags=${cxxflags//-stdlib=libc++/}

mkdir -p "$out" "$build"
cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="$cxxflags" \
  -DVFSIM_LIB_FUZZING_ENGINE="${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}" \
  -DVFSIM_WERROR=OFF -DVFSIM_BENCH=OFF >/dev/null
cmake --build "$build" --target vfsim_fuzz_targets -j "${VFSIM_BUILD_JOBS:-$(nproc)}"

"$src/fuzz/gen-corpus.sh" "$work/seeds" >/dev/null
while read -r target; do
  [ -n "$target" ] || continue
  name=$(basename "$target")
  cp "$target" "$out/$name"
  rm -f "$out/${name}_seed_corpus.zip"
  case "$name" in
    fuse_*)  # scripts of a lying FUSE daemon's replies: the committed regressions
      (cd "$src/fuzz/fuse-regressions" && zip -q -j -X "$out/${name}_seed_corpus.zip" ./*)
      max_len=65536 ;;
    *)       # ext2 images
      (cd "$work/seeds" && zip -q -j -X "$out/${name}_seed_corpus.zip" ./*.img)
      max_len=2097152 ;;
  esac
  printf '[libfuzzer]\nmax_len = %s\ntimeout = 20\nrss_limit_mb = 2560\n' "$max_len" \
    > "$out/$name.options"
  echo "build.sh: $out/$name"
done < "$build/fuzz-targets.txt"
