#!/usr/bin/env bash
# Makes the squashfs image that scenarios/fuse/squashfuse/squashfuse.json mounts with
# squashfuse_ll: a small tree (directories, an empty file, files of one
# block, several blocks and a fragment tail at a 4 KiB block size, a
# symbolic link, a hard link, an extended attribute), its image made by
# mksquashfs (gzip, 4 KiB blocks, every owner root, every time fixed, so the
# same tree gives the same image), and the tree's checksum list:
#   OUT/squashfuse-tree/   the source tree
#   OUT/squashfuse.img     the image (never committed: made by ctest)
#   OUT/squashfuse.sha256  sha256sum of every regular file, relative paths
# The file contents are the fill patterns the scenario expects, repeated.
# Usage: make-image.sh OUT    (needs mksquashfs, setfattr, python3)
set -euo pipefail
out=${1:?usage: make-image.sh OUT}
for tool in mksquashfs setfattr python3; do
  command -v "$tool" >/dev/null || { echo "make-image.sh: $tool is not installed" >&2; exit 77; }
done
mkdir -p "$out"
tree="$out/squashfuse-tree"
rm -rf "$tree" "$out/squashfuse.img" "$out/squashfuse.sha256"
mkdir -p "$tree/dir1/nested" "$tree/dir2"

# fill FILE PATTERN SIZE: PATTERN repeated to SIZE bytes.
fill() {
  python3 -c 'import sys; p = sys.argv[2].encode(); n = int(sys.argv[3])
open(sys.argv[1], "wb").write((p * (n // len(p) + 1))[:n])' "$@"
}
printf 'Hello from squashfs!\n' >"$tree/hello.txt"  # 21 bytes: a fragment
: >"$tree/empty"
fill "$tree/one_block.bin" "0123456789abcdef" 4096               # exactly one block
fill "$tree/multi.bin" "multi-block+fragment:" 13522             # 3 blocks + a 1234-byte tail
fill "$tree/big.bin" "squashfuse reads every byte. " 300000      # 73 blocks + a tail
fill "$tree/dir1/nested/deep.txt" "deep " 5000                   # 1 block + a tail
ln -s dir1/nested/deep.txt "$tree/link"
ln "$tree/multi.bin" "$tree/hard"
setfattr -n user.vfsim -v "squashfs xattr" "$tree/hello.txt" ||
  { echo "make-image.sh: $out does not keep user xattrs" >&2; exit 1; }
chmod 0644 "$tree/hello.txt" "$tree/empty" "$tree/dir1/nested/deep.txt"
chmod 0444 "$tree/one_block.bin"
chmod 0600 "$tree/multi.bin"
chmod 0755 "$tree/big.bin" "$tree/dir1/nested" "$tree"
chmod 0750 "$tree/dir1"
chmod 0700 "$tree/dir2"

mksquashfs "$tree" "$out/squashfuse.img" -noappend -quiet -no-progress -comp gzip -b 4096 \
  -all-root -all-time 1700000000 -mkfs-time 1700000000 >/dev/null
(cd "$tree" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$out/squashfuse.sha256"
