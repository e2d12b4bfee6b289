#!/usr/bin/env bash
# Side by side: extracting a tar of /usr/include into a fresh 1 GiB ext2
# image mounted with `vfsim mount`, with fuse2fs, and into a directory of the
# host kernel; then `find -exec stat` and `rm -rf` of the tree. Prints one
# line per run (seconds for each step, and the daemon's peak resident size)
# and the median of each step. Needs root, /dev/fuse,
# fuse2fs. usage: bench/mount_vs_fuse2fs.sh VFSIM [RUNS]
set -euo pipefail
VFSIM=$1
RUNS=${2:-3}
T=$(mktemp -d /tmp/vfsim-bench.XXXXXX)
trap 'mountpoint -q $T/mnt && umount -l $T/mnt; rm -rf $T' EXIT
mkdir "$T/mnt"
tar cf "$T/inc.tar" -C /usr include
secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc; }
run_one() {  # tool run
  local tool=$1 pid=
  mke2fs -q -F -t ext2 "$T/img" 1G
  case $tool in
    vfsim) "$VFSIM" mount "$T/img" "$T/mnt" ;;
    fuse2fs) fuse2fs -o rw,allow_other "$T/img" "$T/mnt" ;;
    host) rm -rf "$T/mnt"/* ;;
  esac
  local x=$(secs tar xf "$T/inc.tar" -C "$T/mnt")
  local f=$(secs find "$T/mnt/include" -exec stat {} +)
  local r=$(secs rm -rf "$T/mnt/include")
  local hwm=-
  if [ $tool != host ]; then
    local pid=$(pgrep -f "$T/img" | head -1)
    hwm=$(awk '/VmHWM/ {print $2 / 1024 " MiB"}' /proc/$pid/status | tr -d ' ')
    umount "$T/mnt"
    while pgrep -f "$T/img" >/dev/null; do sleep 0.2; done
  fi
  echo "$tool $x $f $r $hwm"
}
for i in $(seq "$RUNS"); do
  for tool in vfsim fuse2fs host; do run_one $tool; done
done | tee "$T/out"
echo "median (s): tool tar-x find-stat rm-rf"
for tool in vfsim fuse2fs host; do
  med() { grep "^$tool " "$T/out" | awk -v c=$1 '{print $c}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  echo "$tool $(med 2) $(med 3) $(med 4)"
done
