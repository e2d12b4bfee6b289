#!/usr/bin/env bash
# `vfsim mount` end to end on the real /dev/fuse (issue 15's acceptance): real
# tools (cp -a, diff -r, tar, mv, ln, chmod, chown, truncate, setfattr,
# getfattr, rm -rf, stress-ng) run against vfsim's kernel through a host FUSE
# mount, and each step's result is compared with the source tree or the
# expected value; after umount the daemon must exit 0 (its leak checks and
# invariants passed), e2fsck -fn must find the image clean, and `vfsim fs`
# must see the same tree. Skips (exit 77, one line) without /dev/fuse, root or
# the tools.
#
# usage: mount_test.sh VFSIM SOURCE_DIR CASE [SIZE_RACE_WORKLOAD]
#   CASE: ext2 | memfs | errors | daemon | corrupt | record_replay_memfs | record_replay_ext2 |
#         stress | size_race | memory
set -euo pipefail
VFSIM=$1
SRC=$2
CASE=$3
WORKLOAD=${4:-}

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*"
  exit 1
}
[ -c /dev/fuse ] || skip "/dev/fuse is missing"
[ "$(id -u)" = 0 ] || skip "not root: mount(2) of a FUSE file system needs root here"
for t in mke2fs e2fsck setfattr getfattr setpriv mountpoint fusermount3; do
  command -v "$t" >/dev/null || skip "$t is not installed (ci/install-deps)"
done

T=$(mktemp -d /tmp/vfsim-mount-test.XXXXXX)
chmod 755 "$T"  # other users must reach the mount point (the permission checks)
MNT=$T/mnt
mkdir "$MNT"
DAEMON=
cleanup() {
  if mountpoint -q "$MNT"; then umount -l "$MNT" || true; fi
  if [ -n "$DAEMON" ]; then kill "$DAEMON" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

# A source tree with every kind of node cp -a keeps: files from this
# repository, symlinks (one dangling), a hard link, a fifo, an empty
# directory with mode 700 (diff -r cannot compare fifos: -x fifo), a sparse file, a file with an owner, a time and
# a user xattr.
make_tree() {
  local d=$1
  mkdir -p "$d"
  cp -a "$SRC/vfs" "$d/vfs"
  cp -a "$SRC/docs" "$d/docs"
  ln -s vfs/kernel.h "$d/link"
  ln -s /nonexistent "$d/dangling"
  ln "$d/docs/vfs.md" "$d/hard"
  mkfifo "$d/fifo"
  mkdir "$d/empty"
  chmod 700 "$d/empty"
  truncate -s 1M "$d/sparse"
  head -c 300000 /dev/urandom >"$d/rand"
  chown 1000:1000 "$d/rand"
  touch -d '2001-02-03 04:05:06' "$d/rand"
  setfattr -n user.color -v blue "$d/hard"
}

# Starts `vfsim mount ARGS... MNT --foreground` in the background and waits
# until the mount is live.
start_mount() {
  "$VFSIM" mount "$@" "$MNT" --foreground 2>"$T/daemon.err" &
  DAEMON=$!
  for _ in $(seq 100); do
    mountpoint -q "$MNT" && return 0
    kill -0 "$DAEMON" 2>/dev/null || break
    sleep 0.1
  done
  cat "$T/daemon.err"
  fail "vfsim mount $* did not come up"
}

# umount (or the command given), then the daemon must end with status 0.
stop_mount() {
  if [ $# -gt 0 ]; then "$@"; else umount "$MNT"; fi
  local rc=0
  wait "$DAEMON" || rc=$?
  DAEMON=
  if [ "$rc" != 0 ]; then
    cat "$T/daemon.err"
    fail "the daemon exited $rc after umount"
  fi
  ! mountpoint -q "$MNT" || fail "still mounted after umount"
}

# The acceptance workload, each step checked.
workload() {
  local tree=$T/tree
  [ -d "$tree" ] || make_tree "$tree"
  cp -a "$tree" "$MNT/tree"
  diff -r --no-dereference -x fifo "$tree" "$MNT/tree" || fail "cp -a: the copy differs"
  [ "$(stat -c '%u:%g %Y' "$MNT/tree/rand")" = "$(stat -c '%u:%g %Y' "$tree/rand")" ] ||
    fail "cp -a: owner or mtime not kept"
  [ "$(stat -c %i "$MNT/tree/hard")" = "$(stat -c %i "$MNT/tree/docs/vfs.md")" ] ||
    fail "cp -a: the hard link is two files"
  [ "$(getfattr --absolute-names --only-values -n user.color "$MNT/tree/hard")" = blue ] || fail "cp -a: xattr lost"
  [ -p "$MNT/tree/fifo" ] || fail "cp -a: the fifo is not a fifo"
  [ "$(stat -c %a "$MNT/tree/empty")" = 700 ] || fail "cp -a: mode not kept"

  mkdir "$MNT/t2"
  (cd "$MNT" && tar cf - tree) | (cd "$MNT/t2" && tar xf -)
  diff -r --no-dereference -x fifo "$tree" "$MNT/t2/tree" || fail "tar | tar: the copy differs"

  mv "$MNT/t2/tree" "$MNT/moved"
  [ ! -e "$MNT/t2/tree" ] && [ -f "$MNT/moved/rand" ] || fail "mv"
  ln "$MNT/moved/rand" "$MNT/rand.hard"
  [ "$(stat -c %h "$MNT/rand.hard")" = 2 ] || fail "ln: link count $(stat -c %h "$MNT/rand.hard")"
  ln -s moved/rand "$MNT/rand.sym"
  [ "$(readlink "$MNT/rand.sym")" = moved/rand ] || fail "ln -s: readlink"
  cmp "$MNT/rand.sym" "$tree/rand" || fail "ln -s: content through the link"
  chmod 640 "$MNT/rand.hard"
  [ "$(stat -c %a "$MNT/moved/rand")" = 640 ] || fail "chmod"
  chown 1234:5678 "$MNT/rand.hard"
  [ "$(stat -c %u:%g "$MNT/moved/rand")" = 1234:5678 ] || fail "chown"
  truncate -s 1000 "$MNT/rand.hard"
  [ "$(stat -c %s "$MNT/moved/rand")" = 1000 ] || fail "truncate down"
  cmp -n 1000 "$MNT/rand.hard" "$tree/rand" || fail "truncate down: content"
  truncate -s 5000 "$MNT/rand.hard"
  [ "$(stat -c %s "$MNT/rand.hard")" = 5000 ] || fail "truncate up"
  [ "$(tail -c 4000 "$MNT/rand.hard" | tr -d '\0' | wc -c)" = 0 ] || fail "truncate up: not zeros"
  setfattr -n user.k -v v1 "$MNT/rand.hard"
  [ "$(getfattr --absolute-names --only-values -n user.k "$MNT/rand.hard")" = v1 ] || fail "setfattr/getfattr"
  setfattr -x user.k "$MNT/rand.hard"
  ! getfattr --absolute-names -n user.k "$MNT/rand.hard" 2>/dev/null || fail "setfattr -x: still there"

  # Requests run as their sender: uid 65534 may not read a 600 root file nor
  # write into a 755 root directory; uid 1234 (the owner) may read.
  echo secret >"$MNT/secret"
  chmod 600 "$MNT/secret"
  ! setpriv --reuid=65534 --regid=65534 --clear-groups cat "$MNT/secret" 2>/dev/null ||
    fail "uid 65534 read a 600 root file"
  ! setpriv --reuid=65534 --regid=65534 --clear-groups touch "$MNT/nobody" 2>/dev/null ||
    fail "uid 65534 created a file in a 755 root directory"
  setpriv --reuid=1234 --regid=5678 --clear-groups cat "$MNT/rand.hard" >/dev/null ||
    fail "the owner could not read its own file"

  rm -rf "$MNT/t2" "$MNT/tree"
  [ ! -e "$MNT/t2" ] && [ ! -e "$MNT/tree" ] || fail "rm -rf"
  echo hello >"$MNT/final.txt"
  (cd "$MNT" && find . | LC_ALL=C sort) >"$T/mounted.list"
}

fresh_image() {
  mke2fs -q -F -t ext2 "$T/img" "${1:-64M}"
}

fsck_clean() {
  e2fsck -fn "$T/img" >"$T/fsck.out" 2>&1 || {
    cat "$T/fsck.out"
    fail "e2fsck -fn found problems"
  }
}

case "$CASE" in
  ext2)
    fresh_image
    start_mount "$T/img"
    workload
    stop_mount
    fsck_clean
    # vfsim fs sees the same tree.
    [ "$("$VFSIM" fs cat "$T/img" /final.txt)" = hello ] || fail "fs cat /final.txt"
    "$VFSIM" fs cat "$T/img" /moved/docs/vfs.md | cmp - "$T/tree/docs/vfs.md" || fail "fs cat"
    "$VFSIM" fs ls "$T/img" /moved | awk '{print $6}' | LC_ALL=C sort >"$T/fs.ls"
    (cd "$T/tree" && ls -A | LC_ALL=C sort) >"$T/src.ls"
    diff "$T/src.ls" "$T/fs.ls" || fail "fs ls /moved differs from the source tree"
    ;;
  memfs)
    start_mount --fs memfs
    workload
    stop_mount fusermount3 -u "$MNT"
    ;;
  daemon)
    # Without --foreground the command returns once the mount is live; SIGTERM
    # unmounts cleanly and the image is consistent. In the foreground, SIGINT
    # does the same and the process exits 0.
    fresh_image
    "$VFSIM" mount "$T/img" "$MNT" --record "$T/rec" || fail "vfsim mount exited $?"
    mountpoint -q "$MNT" || fail "not mounted when vfsim mount returned"
    echo data >"$MNT/f"
    pid=$(pgrep -f "vfsim mount $T/img" | head -1)
    [ -n "$pid" ] || fail "no daemon"
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null || fail "the daemon did not end on SIGTERM"
    ! mountpoint -q "$MNT" || fail "still mounted after SIGTERM"
    fsck_clean
    [ "$("$VFSIM" fs cat "$T/img" /f)" = data ] || fail "the write did not reach the image"
    # The daemon's recording (written by the child alone) replays.
    "$VFSIM" replay "$T/rec" | grep -q '^reproduced$' || fail "the daemon's recording"
    start_mount "$T/img"
    echo more >"$MNT/g"
    stop_mount kill -INT "$DAEMON"
    fsck_clean
    [ "$("$VFSIM" fs cat "$T/img" /g)" = more ] || fail "the write did not reach the image (SIGINT)"
    ;;
  errors)
    # Bad input: one line, exit 2, nothing mounted.
    head -c 1M /dev/urandom >"$T/garbage"
    check_refused() {
      local rc=0
      "$VFSIM" mount "$@" 2>"$T/err" || rc=$?
      [ "$rc" = 2 ] || fail "vfsim mount $*: exit $rc, expected 2"
      [ "$(wc -l <"$T/err")" = 1 ] || fail "vfsim mount $*: not one line: $(cat "$T/err")"
      ! mountpoint -q "$MNT" || fail "vfsim mount $*: mounted"
      echo "refused: $(cat "$T/err")"
    }
    check_refused "$T/garbage" "$MNT"
    check_refused "$T/no-such-image" "$MNT"
    fresh_image
    check_refused "$T/img" "$T/no-such-dir"
    check_refused "$T/img" "$T/img"
    check_refused --fs memfs "$T/no-such-dir"
    check_refused -o bogus "$T/img" "$MNT"
    ;;
  record_replay_memfs | record_replay_ext2)
    # A recorded workload replays with every reply byte and the trace hash.
    args=(--fs memfs)
    if [ "$CASE" = record_replay_ext2 ]; then
      fresh_image
      args=("$T/img")
    fi
    start_mount "${args[@]}" --record "$T/rec" --workers 2
    make_tree "$T/tree"
    cp -a "$T/tree" "$MNT/tree"
    (cd "$MNT" && tar cf - tree) | (mkdir "$MNT/t2" && cd "$MNT/t2" && tar xf -)
    mv "$MNT/t2/tree" "$MNT/moved"
    diff -r --no-dereference -x fifo "$T/tree" "$MNT/moved" || fail "the recorded workload's copy differs"
    stop_mount
    "$VFSIM" replay "$T/rec" | tee "$T/replay.out"
    grep -q '^reproduced$' "$T/replay.out" || fail "the replay did not reproduce"
    # The requests that were in flight together, served by 4 workers in
    # every interleaving the explorer picks: the kernel's oracles hold.
    schedules=1000
    "$VFSIM" explore "$T/rec" --schedules $schedules --workers 4 | tee "$T/explore.out" ||
      fail "vfsim explore of the recording failed"
    grep -q "^explored $schedules schedules of .*: 0 failed" "$T/explore.out" ||
      fail "explore: not $schedules schedules passed"
    ;;
  size_race)
    # The PERFUSE size race in a recorded host workload: one thread appends
    # to a file while two stat it (AT_STATX_FORCE_SYNC), so GETATTRs and
    # WRITEs of one file are in flight together (recorded with 2 workers).
    # With the server's size lock (the default) every schedule of 4 workers
    # passes; without it (mount.size_lock=false, the historic side) the
    # explorer finds a GETATTR answered with a size older than a WRITE
    # already answered, writes a report, and shrink cuts it to fewer
    # requests and decisions that replay to the same failure.
    [ -x "$WORKLOAD" ] || fail "no size_race_workload given"
    start_mount --fs memfs --record "$T/rec" --workers 2
    "$WORKLOAD" "$MNT/log" 300 >"$T/size.out" || fail "the workload lost bytes: $(cat "$T/size.out")"
    [ "$(cat "$T/size.out")" = 30000 ] || fail "the workload's file: $(cat "$T/size.out") bytes"
    stop_mount
    "$VFSIM" replay "$T/rec" | tee "$T/replay.out"
    grep -q '^reproduced$' "$T/replay.out" || fail "the replay did not reproduce"
    grep -Eq 'requests in [0-9]+ batches, [1-9][0-9]* of them with several' \
      <("$VFSIM" explore "$T/rec" --schedules 1 --workers 4) ||
      fail "no batch held several requests: nothing was in flight together"
    "$VFSIM" explore "$T/rec" --schedules 300 --workers 4 | tee "$T/fixed.out" ||
      fail "with the size lock, a schedule failed"
    grep -q '^explored 300 schedules of .*: 0 failed' "$T/fixed.out" || fail "fixed: no verdict"
    rc=0
    (cd "$T" && "$VFSIM" explore rec --schedules 300 --workers 4 --set mount.size_lock=false \
      --report "$T/race.json") | tee "$T/historic.out" || rc=$?
    [ "$rc" = 1 ] || fail "mount.size_lock=false: explore exited $rc, expected 1 (a failure)"
    grep -q 'first failure: .*expectation: GETATTR of node .* answered size .* after a WRITE' \
      "$T/historic.out" || fail "mount.size_lock=false: not the stale-size failure"
    [ -s "$T/race.json" ] || fail "no failure report written"
    rc=0
    "$VFSIM" replay "$T/race.json" | tee "$T/race-replay.out" || rc=$?
    [ "$rc" = 1 ] && grep -q '^reproduced: expectation' "$T/race-replay.out" ||
      fail "the report did not replay to its failure (exit $rc)"
    rc=0
    "$VFSIM" shrink "$T/race.json" --out "$T/shrunk.json" | tee "$T/shrink.out" || rc=$?
    [ "$rc" = 1 ] || fail "shrink exited $rc"
    read -r r0 d0 r1 d1 < <(sed -nE \
      's/^shrunk: expectation: ([0-9]+) requests, ([0-9]+) decisions -> ([0-9]+) requests, ([0-9]+) decisions.*/\1 \2 \3 \4/p' \
      "$T/shrink.out")
    [ -n "${d1:-}" ] || fail "shrink: no summary"
    [ "$r1" -lt "$r0" ] && [ "$d1" -lt "$d0" ] ||
      fail "shrink did not shorten: $r0 requests, $d0 decisions -> $r1, $d1"
    rc=0
    "$VFSIM" replay "$T/shrunk.json" | tee "$T/shrunk-replay.out" || rc=$?
    [ "$rc" = 1 ] && grep -q '^reproduced: expectation' "$T/shrunk-replay.out" &&
      grep -q 'answered size .* after a WRITE' "$T/shrunk-replay.out" ||
      fail "the shrunk report did not replay to the same failure (exit $rc)"
    ;;
  corrupt)
    # Images with random bytes written over their inode table and data
    # blocks (the superblock intact), mounted and walked: each is refused
    # before mounting (one line, exit 2) or served; a walk gets EIO where
    # the driver finds the damage, the daemon never dies under it
    # (ENOTCONN would show it), and it exits 0 after umount.
    command -v python3 >/dev/null || skip "python3 is not installed"
    fresh_image 16M
    start_mount "$T/img"
    cp -a "$SRC/vfs" "$MNT/vfs"
    stop_mount
    eio=0
    for seed in 11 12 13 14 15 16; do
      cp "$T/img" "$T/bad"
      python3 - "$T/bad" "$seed" <<'PY'
import random, sys
r = random.Random(int(sys.argv[2]))
with open(sys.argv[1], "r+b") as f:
    for _ in range(300):  # 1 KiB blocks: the first inode table is at block 68
        if r.random() < 0.7:
            off = r.randrange(68 * 1024, 68 * 1024 + 32768)
        else:
            off = r.randrange(580 * 1024, 2048 * 1024)
        f.seek(off)
        f.write(bytes([r.randrange(256)]))
PY
      rc=0
      "$VFSIM" mount "$T/bad" "$MNT" --foreground 2>"$T/daemon.err" &
      DAEMON=$!
      for _ in $(seq 50); do
        mountpoint -q "$MNT" && break
        kill -0 "$DAEMON" 2>/dev/null || break
        sleep 0.1
      done
      if ! mountpoint -q "$MNT"; then
        wait "$DAEMON" || rc=$?
        DAEMON=
        [ "$rc" = 2 ] && [ "$(wc -l <"$T/daemon.err")" = 1 ] ||
          fail "seed $seed: not mounted, exit $rc: $(cat "$T/daemon.err")"
        echo "seed $seed: refused: $(cat "$T/daemon.err")"
        continue
      fi
      find "$MNT" -exec stat {} + >/dev/null 2>"$T/walk.err" || true
      # Read what stat calls a regular file (a damaged inode may have become
      # a device while its directory entry still says file: nodev refuses it).
      find "$MNT" -exec stat -c '%F|%n' {} + 2>/dev/null | sed -n 's/^regular file|//p' |
        while IFS= read -r f; do cat "$f" >/dev/null 2>>"$T/walk.err" || true; done || true
      if grep -v "Input/output error" "$T/walk.err"; then
        cp "$T/bad" /tmp/vfsim-corrupt-seed$seed.img
        fail "seed $seed: errors other than EIO (image kept: /tmp/vfsim-corrupt-seed$seed.img)"
      fi
      n=$(grep -c . "$T/walk.err" || true)
      eio=$((eio + n))
      echo "seed $seed: walked, $n EIO"
      stop_mount
    done
    [ "$eio" -gt 0 ] || fail "no walk met the damage (the test corrupts nothing that is read)"
    ;;
  memory)
    # The resident size is the page cache it was given plus a fixed
    # overhead, whatever the workload's size: with --cache-size 32 (MiB),
    # 64 MiB and then 512 MiB written into a fresh 1 GiB image (copies of
    # one random 64 MiB file), read back and compared after a remount; the
    # daemon's peak RSS (VmHWM) must stay under 32 MiB + 16 MiB each time,
    # and grow by less than 4 MiB from the small workload to the large one.
    head -c 64M /dev/urandom >"$T/chunk"
    hwm=()
    for mib in 64 512; do
      rm -f "$T/img"
      fresh_image 1G
      start_mount "$T/img" --cache-size 32
      for i in $(seq $((mib / 64))); do cp "$T/chunk" "$MNT/f$i"; done
      kb=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON/status")
      stop_mount
      fsck_clean
      start_mount "$T/img" --cache-size 32
      for i in $(seq $((mib / 64))); do cmp "$T/chunk" "$MNT/f$i" || fail "f$i differs"; done
      kb2=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON/status")
      stop_mount
      [ "$kb2" -gt "$kb" ] && kb=$kb2
      echo "$mib MiB written and read back with --cache-size 32: peak RSS $kb kB"
      [ "$kb" -le $(((32 + 16) * 1024)) ] || fail "$mib MiB: peak RSS $kb kB > 32 MiB + 16 MiB"
      hwm+=("$kb")
    done
    [ $((hwm[1] - hwm[0])) -lt 4096 ] ||
      fail "peak RSS grew with the workload: ${hwm[0]} kB -> ${hwm[1]} kB"
    ;;
  stress)
    command -v stress-ng >/dev/null || skip "stress-ng is not installed (ci/install-deps)"
    fresh_image 256M
    start_mount "$T/img"
    stress-ng --dir 2 --rename 2 --link 2 --filename 1 --temp-path "$MNT" -t 30s \
      --metrics-brief >"$T/stress.out" 2>&1 || {
      cat "$T/stress.out"
      fail "stress-ng failed"
    }
    grep -Ei 'fail|error' "$T/stress.out" | grep -v ' 0 failed' && fail "stress-ng reported errors"
    stop_mount
    fsck_clean
    ;;
  *) fail "unknown case $CASE" ;;
esac
echo "PASS $CASE"
