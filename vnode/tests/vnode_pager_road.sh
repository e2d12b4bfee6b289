#!/bin/sh
# Shows: every page-cache object with a backing store that a file system
# makes goes through the vnode pager. Outside tests, only vnode/vnode_pager.cc
# calls Pager::create_object and only VnodePager implements pager::PagerOps,
# apart from the two stores that have no vnode at all: the pager scenario
# module's fake fs (scenarios/modules/fake_fs, pager_module.cc) and the pager
# benchmark's in-memory store (bench/pager_bench.cc). A file system that
# plugged into the pager directly (a side door) fails this check, naming
# the line.
# Usage: vnode_pager_road.sh SOURCE_DIR
set -eu
src=${1:?usage: vnode_pager_road.sh SOURCE_DIR}
cd "$src"
allowed='^(pager/|vnode/vnode_pager\.(h|cc):|scenarios/modules/(fake_fs\.(h|cc)|pager_module\.cc):|bench/pager_bench\.cc:)'
found=$(grep -rnE 'create_object\(|public (pager::)?PagerOps\b' \
          --include='*.cc' --include='*.h' \
          boot cli fsdrivers fuzz pager scenarios sim vfs vnode bench 2>/dev/null |
        grep -v '/tests/' | grep -vE "$allowed" || true)
if [ -n "$found" ]; then
  echo "a page-cache object bypasses the vnode pager (vnode/vnode_pager.h):"
  echo "$found"
  exit 1
fi
# The check must see something: the vnode pager's own call.
grep -q 'create_object(' vnode/vnode_pager.cc || { echo "vnode_pager.cc no longer calls create_object"; exit 1; }
echo "ok: every vnode-backed page object goes through VnodePager"
