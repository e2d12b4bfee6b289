#!/usr/bin/env bash
# Generates seed ext2 images for the fuzzers: small trees (files of several
# sizes, indirect blocks, holes, fast/slow symlinks, hard links, nested and
# multi-block directories, xattrs) formatted with 1, 2 and 4 KiB blocks.
# Usage: fuzz/gen-corpus.sh OUTDIR   (the corpus is not committed)
set -euo pipefail
out=${1:?usage: gen-corpus.sh OUTDIR}
mkdir -p "$out"
mke2fs=$(command -v mke2fs || echo /sbin/mke2fs)
debugfs=$(command -v debugfs || echo /sbin/debugfs)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1600000000

mk_tree() {  # $1 = kind, $2 = dir
    local d=$2
    mkdir -p "$d"
    case $1 in
    empty) ;;
    small)
        printf 'x' > "$d/one"
        head -c 4095 /dev/zero | tr '\0' 'a' > "$d/b4095"
        ln -s one "$d/fast"
        ln -s "$(printf 'p%.0s' $(seq 1 90))" "$d/slow"
        ln "$d/one" "$d/hard"
        mkdir -p "$d/d1/d2" && printf 'leaf' > "$d/d1/d2/leaf"
        ;;
    big)
        awk 'BEGIN { for (i = 0; i < 300000; i++) printf "%c", 97 + (i * 7 + int(i / 13)) % 26 }' > "$d/big"
        printf 'tail' | dd of="$d/sparse" bs=1 seek=200000 status=none
        ;;
    many)
        mkdir -p "$d/many"
        for i in $(seq 1 60); do : > "$d/many/entry-$i"; done
        ;;
    esac
}

n=0
for kind in empty small big many; do
    mk_tree "$kind" "$work/$kind"
    for bs in 1024 2048 4096; do
        size=256
        [ "$kind" = big ] && size=1024
        img="$out/seed-$kind-$bs.img"
        "$mke2fs" -q -F -t ext2 -b "$bs" -N 80 -d "$work/$kind" \
            -U 01234567-89ab-cdef-0123-456789abcdef -E hash_seed=01234567-89ab-cdef-0123-456789abcdef \
            "$img" "${size}k" >/dev/null
        if [ "$kind" = small ]; then
            "$debugfs" -w -R "ea_set /one user.seed $(printf 'v%.0s' $(seq 1 200))" "$img" >/dev/null 2>&1 || true
        fi
        n=$((n + 1))
    done
done
echo "gen-corpus.sh: wrote $n seed images to $out"
