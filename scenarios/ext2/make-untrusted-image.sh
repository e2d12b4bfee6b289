#!/bin/bash
# Makes untrusted.img next to this script (or at $1): a small ext2 image
# whose root holds a file "hello" and an entry named "vfsim-test-panic". A
# mount with the TEST-ONLY driver option test_panic=1 trips an ext2 driver
# assertion when a lookup meets that entry, as a driver bug met on a
# malicious image would (docs/ext2.md). The image is the same bytes every
# time (fixed UUID, hash seed and times), so runs on it replay anywhere.
# Used by untrusted_image_puffs.json and untrusted_image_kernel.json.
set -euo pipefail
out=${1:-$(dirname "$0")/untrusted.img}
mke2fs=$(PATH=$PATH:/sbin:/usr/sbin command -v mke2fs) || {
  echo "make-untrusted-image.sh: mke2fs not found (e2fsprogs)" >&2
  exit 2
}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
printf 'hello, world\n' >"$tree/hello"
printf 'trips the test-only assertion when looked up\n' >"$tree/vfsim-test-panic"
touch -d @1000000000 "$tree/hello" "$tree/vfsim-test-panic" "$tree"
rm -f "$out"
truncate -s 1M "$out"
E2FSPROGS_FAKE_TIME=1000000000 "$mke2fs" -q -F -t ext2 -b 1024 -N 32 \
  -U 6d1c1f6e-0d1e-4c2b-9a1e-0123456789ab -E hash_seed=6d1c1f6e-0d1e-4c2b-9a1e-0123456789ab \
  -d "$tree" "$out" >/dev/null
# mke2fs -d copies each file's ctime, which no one can set: fix them.
debugfs=$(PATH=$PATH:/sbin:/usr/sbin command -v debugfs)
printf 'sif %s ctime 1000000000\n' / hello vfsim-test-panic >"$tree/cmds"
E2FSPROGS_FAKE_TIME=1000000000 "$debugfs" -w -f "$tree/cmds" "$out" >/dev/null 2>&1
