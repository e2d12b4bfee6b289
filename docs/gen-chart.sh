#!/usr/bin/env bash
# Makes docs/img/getattr_write_race_chart.svg, the README's picture of the
# PERFUSE GETATTR/WRITE race: explore scenarios/getattr_write_race.json with
# the size lock off, shrink the failure, and chart the shrunk report. Never
# edit the SVG by hand: rerun this (ctest docs.chart_fresh fails when the
# committed picture is no longer what vfsim draws).
# Usage: docs/gen-chart.sh [VFSIM [OUT.svg]]   (--png: also OUT.png, with chromium)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
png=0
args=()
for a in "$@"; do
  if [ "$a" = --png ]; then png=1; else args+=("$a"); fi
done
vfsim=$(realpath "${args[0]:-$root/build/release/cli/vfsim}")
out=$(realpath -m "${args[1]:-$root/docs/img/getattr_write_race_chart.svg}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$vfsim" explore "$root/scenarios/getattr_write_race.json" --set puffs.size_lock=false \
  --report getattr_write_race.json >/dev/null || [ $? -eq 1 ]
"$vfsim" shrink getattr_write_race.json >/dev/null || [ $? -eq 1 ]
"$vfsim" chart getattr_write_race.shrunk.json -o chart.svg >/dev/null
mkdir -p "$(dirname "$out")"
cp chart.svg "$out"
if [ "$png" = 1 ]; then
  w=$(sed -n 's/^<svg[^>]* width="\([0-9]*\)".*/\1/p' chart.svg)
  h=$(sed -n 's/^<svg[^>]* height="\([0-9]*\)".*/\1/p' chart.svg)
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --screenshot="${out%.svg}.png" \
    --window-size="$w,$h" "file://$work/chart.svg" >/dev/null 2>&1
  echo "gen-chart.sh: ${out%.svg}.png"
fi
echo "gen-chart.sh: $out"
