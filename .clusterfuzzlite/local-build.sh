#!/bin/bash -eu
# Runs build.sh outside Docker as ClusterFuzzLite's address build runs it
# (clang, ASan + UBSan, libFuzzer), for CI and for a look at the fuzz targets
# on a workstation: local-build.sh OUT [WORK]. WORK keeps the build tree,
# so a second run only rebuilds what changed. ci/run-tests fuzzes with
# OUT/ext2_fuzz_structured; ctest's fuzz.clusterfuzzlite_build checks what
# build.sh produces.
here=$(cd "$(dirname "$0")" && pwd)
flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined"
flags+=" -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link"
export OUT=${1:?usage: local-build.sh OUT [WORK]}
export WORK=${2:-$(mktemp -d)}
export CC=${CC:-clang} CXX=${CXX:-clang++}
export CFLAGS="$flags"
# As OSS-Fuzz gives it: build.sh must cope with libc++ being asked for.
export CXXFLAGS="$flags -stdlib=libc++"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
mkdir -p "$OUT" "$WORK"
# build.sh changes directory: hand it absolute paths.
OUT=$(cd "$OUT" && pwd) WORK=$(cd "$WORK" && pwd)
cd "$here/.." && VFSIM_SRC=$PWD "$here/build.sh"
