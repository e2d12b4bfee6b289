#!/bin/sh
# Over the corpus left by the 30-minute run, in one run on the same machine:
# the harness (ASan+UBSan build; each input through the whole machine and the
# core) and e2fsck -fn (each cut at 10 s), each over every image once;
# images per second.
C=${1:?usage: measure-vs-e2fsck.sh CORPUS FUZZER}
FUZZ=${2:?usage: measure-vs-e2fsck.sh CORPUS FUZZER}
N=$(ls "$C" | wc -l)
t0=$(date +%s.%N)
"$FUZZ" -runs=0 "$C" > /tmp/e2-measure-replay.log 2>&1
t1=$(date +%s.%N)
slow=0
for f in "$C"/*; do
  timeout 10 /sbin/e2fsck -fn "$f" > /dev/null 2>&1
  [ $? -eq 124 ] && { slow=$((slow + 1)); echo "e2fsck over 10 s: $f"; }
done
t2=$(date +%s.%N)
echo "e2fsck runs cut at 10 s: $slow"
awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  printf "images %d\nharness: %.1f s, %.1f images/s\ne2fsck -fn: %.1f s, %.1f images/s\n", n, b - a, n / (b - a), c - b, n / (c - b) }'
grep -E "INITED|DONE" /tmp/e2-measure-replay.log | tail -2
