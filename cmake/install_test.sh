#!/usr/bin/env bash
# Shows (issue 16): `cmake --install` to a fresh prefix gives a package a
# user's project builds against, and `cpack -G DEB` a Debian package of it.
#   install: the command, the libraries, the headers, the package config,
#     the scenarios; the installed vfsim checks an installed scenario; a copy
#     of examples/ (outside the tree) configures with find_package(vfsim
#     CONFIG REQUIRED) from the prefix alone (no path of the source or build
#     tree in its compile or link commands), builds, and its tests pass:
#     a test against ukfs and a scenario module with its own ops.
#   deb: the package holds the same files under /usr and depends on the
#     Boost.Fiber and nlohmann-json development packages.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR install|deb
set -u
build=$1 src=$2 what=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

test_install() {
  local p="$work/prefix"
  cmake --install "$build" --prefix "$p" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "cmake --install failed"; }
  local f
  for f in bin/vfsim lib/cmake/vfsim/vfsimConfig.cmake lib/cmake/vfsim/vfsimTargets.cmake \
           lib/cmake/vfsim/vfsimConfigVersion.cmake include/vfsim/boot/ukfs.h \
           include/vfsim/scenarios/registry.h include/vfsim/sim/machine.h \
           include/vfsim/fsdrivers/ext2/volume.h lib/libvfsim_scenarios.a lib/libvfsim_sim.a \
           share/vfsim/scenarios/getattr_write_race.json share/vfsim/scenario.schema.json; do
    [ -e "$p/$f" ] || fail "not installed: $f"
  done
  [ -z "$(find "$p/include" -path '*/tests/*')" ] || fail "test headers installed"
  "$p/bin/vfsim" check "$p/share/vfsim/scenarios/counter_locked.json" >"$work/check.log" 2>&1 ||
    { cat "$work/check.log"; fail "the installed vfsim cannot check an installed scenario"; }

  cp -r "$src/examples" "$work/examples"
  cmake -S "$work/examples" -B "$work/eb" -G Ninja -DCMAKE_PREFIX_PATH="$p" \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; fail "examples/ does not configure against the prefix"; }
  cmake --build "$work/eb" >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log"; fail "examples/ does not build against the prefix"; }
  if grep -qF "$(cd "$src" && pwd)" "$work/eb/compile_commands.json" "$work/eb/build.ninja"; then
    fail "examples/ was built with a path into the vfsim tree"
  fi
  grep -qF "$p/include/vfsim" "$work/eb/compile_commands.json" ||
    fail "examples/ was not compiled against the prefix's headers"
  ctest --test-dir "$work/eb" --output-on-failure >"$work/ctest.log" 2>&1 ||
    { cat "$work/ctest.log"; fail "the examples' tests failed"; }
  grep -q "100% tests passed, 0 tests failed out of 2" "$work/ctest.log" ||
    { cat "$work/ctest.log"; fail "the examples did not run two tests"; }
  echo "PASS: installed to a prefix; examples/ built against it and its 2 tests passed"
}

test_deb() {
  command -v dpkg-deb >/dev/null || { echo "SKIP: dpkg-deb is not installed"; exit 77; }
  (cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg") \
    >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack -G DEB failed"; }
  local deb
  deb=$(ls "$work"/pkg/*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { cat "$work/cpack.log"; fail "no .deb written"; }
  dpkg-deb -c "$deb" >"$work/contents"
  local f
  for f in ./usr/bin/vfsim ./usr/lib/cmake/vfsim/vfsimConfig.cmake ./usr/include/vfsim/boot/ukfs.h \
           ./usr/lib/libvfsim_scenarios.a ./usr/share/vfsim/scenarios/getattr_write_race.json; do
    grep -q " $f\$" "$work/contents" || fail "$f is not in $(basename "$deb")"
  done
  local depends
  depends=$(dpkg-deb -f "$deb" Depends)
  for f in libboost-fiber-dev nlohmann-json3-dev libc6; do
    grep -q "$f" <<<"$depends" || fail "Depends lacks $f: $depends"
  done
  [ "$(dpkg-deb -f "$deb" Package)" = vfsim ] || fail "package name"
  echo "PASS: $(basename "$deb"): $(wc -l <"$work/contents") entries; Depends: $depends"
}

"test_$what"
