#!/usr/bin/env python3
"""Figures of docs/PERFORMANCE.md, section "puffs".

For each PERFUSE scenario: schedules per second of the fixed configuration
(the default knobs, N schedules, one job), and the number of schedules to the
first failure of the historic configuration with `random` and with `pct`,
median (and quartiles) over SEEDS exploration seeds.

usage: figures.py VFSIM SCENARIO_DIR [--seeds 100] [--rate-schedules 10000]
"""
import argparse
import json
import statistics
import subprocess
import tempfile

SCENARIOS = [
    ("getattr_write_race", ["--set", "puffs.size_lock=false"]),
    ("pagedaemon_putpage_deadlock", ["--set", "pager.pagedaemon_nosleep=false"]),
    ("dgram_drop", ["--set", "transport=dgram"]),
    ("stream_fragmentation", ["--set", "transport=stream"]),
]


def explore(vfsim, path, extra, report):
    out = subprocess.run([vfsim, "explore", path, "--json", "--report", report] + extra,
                         capture_output=True, text=True, check=False)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vfsim")
    ap.add_argument("scenarios")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--rate-schedules", type=int, default=10000)
    ap.add_argument("--max-schedules", type=int, default=100000)
    a = ap.parse_args()
    report = tempfile.mktemp(suffix=".json")
    print("| scenario | fixed: schedules/s | historic: random, schedules to failure "
          "(median [q1, q3]) | historic: pct | outcome |")
    print("|---|---:|---:|---:|---|")
    for name, knob in SCENARIOS:
        path = f"{a.scenarios}/{name}.json"
        rate = explore(a.vfsim, path, ["--set", f"explore.schedules={a.rate_schedules}"], report)
        row = [name, f"{rate['schedules_per_second']:.0f} ({rate['outcome']})"]
        outcome = "?"
        for strategy in ("random", "pct"):
            counts = []
            for seed in range(1, a.seeds + 1):
                s = explore(a.vfsim, path, knob + ["--strategy", strategy, "--seed", str(seed),
                                                    "--schedules", str(a.max_schedules)], report)
                if s["outcome"] != "pass":
                    counts.append(s["first_failure_schedule"] + 1)
                    outcome = s["outcome"]
            if counts:
                q = statistics.quantiles(counts, n=4) if len(counts) > 1 else counts * 3
                row.append(f"{statistics.median(counts):.0f} [{q[0]:.0f}, {q[2]:.0f}]"
                           f"{'' if len(counts) == a.seeds else f' ({len(counts)}/{a.seeds} found)'}")
            else:
                row.append("not found")
        row.append(outcome)
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
