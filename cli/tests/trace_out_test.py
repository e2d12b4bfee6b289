#!/usr/bin/env python3
"""Shows (issue 16): `--trace-out` writes the Chrome trace-event format that
Perfetto and chrome://tracing open, for the GETATTR/WRITE failure as explore
finds it and shrink shrinks it, and the file says what happened.

How: explore scenarios/getattr_write_race.json with puffs.size_lock=false,
shrink the report, replay the shrunk report with --trace-out, then check the
file against the format: every event has ph, ts, pid and tid of the right
types; phases are ones the format defines; every flow start (ph "s") has
exactly one end (ph "f") with its id, no earlier, and both sit inside a slice
of their track; slices nest per track (B/E pairs, X inside their parent);
every track and process is named; ts never goes back. Then the race itself:
the GETATTR reply that carries the stale size (the size that
puffs_size_shrink later applies) is a flow from a server worker to the
kernel's reply reader, and it ends before the second WRITE's slice begins.
The shrink's own --trace-out must be the same file.

Usage: trace_out_test.py VFSIM SCENARIO_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

PHASES = {"B", "E", "X", "i", "s", "f", "M"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args, want):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != want:
        fail("exit %d, wanted %d: %s\n%s" % (p.returncode, want, " ".join(args), p.stdout))
    return p.stdout


def check_format(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        fail("top level is not an object with a traceEvents array")
    events = doc["traceEvents"]
    if len(events) < 100:
        fail("only %d events" % len(events))
    named_threads, named_procs = set(), set()
    for n, e in enumerate(events):
        for field, types in (("ph", str), ("ts", (int, float)), ("pid", int), ("tid", int)):
            if not isinstance(e.get(field), types) or isinstance(e.get(field), bool):
                fail("event %d has no valid %s: %r" % (n, field, e))
        if e["ph"] not in PHASES:
            fail("event %d has phase %r" % (n, e["ph"]))
        if e["ts"] < 0:
            fail("event %d has negative ts" % n)
        if e["ph"] != "E" and not isinstance(e.get("name"), str):
            fail("event %d has no name" % n)
        if e["ph"] == "M":
            if e["name"] == "thread_name":
                named_threads.add((e["pid"], e["tid"]))
            if e["name"] == "process_name":
                named_procs.add(e["pid"])
        if e["ph"] == "X" and not (isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0):
            fail("X event %d has no dur" % n)
        if e["ph"] == "i" and e.get("s") not in ("t", "p", "g"):
            fail("instant %d has scope %r" % (n, e.get("s")))
        if e["ph"] in ("s", "f") and ("id" not in e or "cat" not in e):
            fail("flow event %d has no id or cat" % n)
    timed = [e for e in events if e["ph"] != "M"]
    for a, b in zip(timed, timed[1:]):
        if b["ts"] < a["ts"]:
            fail("ts goes back: %r after %r" % (b, a))
    for e in timed:
        if (e["pid"], e["tid"]) not in named_threads:
            fail("track %r has no thread_name" % ((e["pid"], e["tid"]),))
        if e["pid"] not in named_procs:
            fail("process %d has no process_name" % e["pid"])
    return timed


def check_nesting(timed):
    """Slices nest per track; returns every slice as (pid, tid, name, begin, end)."""
    stacks, slices = {}, []
    for e in timed:
        track = (e["pid"], e["tid"])
        st = stacks.setdefault(track, [])
        if e["ph"] == "B":
            st.append([e["name"], e["ts"], e["ts"]])  # name, begin, latest child end
        elif e["ph"] == "E":
            if not st:
                fail("E with no open slice on track %r at %r" % (track, e["ts"]))
            name, begin, child_end = st.pop()
            if e["ts"] < begin or e["ts"] < child_end:
                fail("slice %r on %r ends before it begins or before a child" % (name, track))
            slices.append((track, name, begin, e["ts"]))
            if st:
                st[-1][2] = max(st[-1][2], e["ts"])
        elif e["ph"] == "X":
            end = e["ts"] + e["dur"]
            if st and e["ts"] < st[-1][2]:
                fail("X %r on %r overlaps a sibling" % (e["name"], track))
            if st:
                st[-1][2] = max(st[-1][2], end)
            slices.append((track, e["name"], e["ts"], end))
    for track, st in stacks.items():
        if st:
            fail("slices still open at the end on %r: %r" % (track, [s[0] for s in st]))
    return slices


def check_flows(timed, slices):
    starts, ends = {}, {}
    for e in timed:
        if e["ph"] == "s":
            if (e["cat"], e["id"]) in starts:
                fail("flow %r starts twice" % e["id"])
            starts[(e["cat"], e["id"])] = e
        elif e["ph"] == "f":
            if (e["cat"], e["id"]) in ends:
                fail("flow %r ends twice" % e["id"])
            ends[(e["cat"], e["id"])] = e
    if set(starts) != set(ends):
        fail("flows without an end: %r; ends without a start: %r"
             % (sorted(set(starts) - set(ends))[:5], sorted(set(ends) - set(starts))[:5]))
    if len(starts) < 10:
        fail("only %d flows" % len(starts))

    def enclosed(e):
        return any(t == (e["pid"], e["tid"]) and b <= e["ts"] <= end for t, _, b, end in slices)

    for k, s in starts.items():
        f = ends[k]
        if f["ts"] < s["ts"] or f["name"] != s["name"]:
            fail("flow %r ends before it starts, or under another name" % (k,))
        if not enclosed(s) or not enclosed(f):
            fail("flow %r is not bound to a slice at both ends" % (k,))
    return starts, ends


def check_race(timed, slices, starts, ends, doc):
    threads = {(e["pid"], e["tid"]): e["args"]["name"]
               for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    procs = {e["pid"]: e["args"]["name"]
             for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "process_name"}
    shrink = [e for e in timed if e["ph"] == "i" and e["name"].startswith("puffs_size_shrink")]
    if len(shrink) != 1:
        fail("expected one puffs_size_shrink instant, got %d" % len(shrink))
    m = re.search(r"(\d+) -> (\d+)$", shrink[0]["name"])
    old, new = int(m.group(1)), int(m.group(2))
    if not new < old:
        fail("the shrink does not shrink: %s" % shrink[0]["name"])
    stale = [k for k, s in starts.items()
             if re.fullmatch(r"reply \d+ GETATTR size %d" % new, s["name"])
             and ends[k]["ts"] < shrink[0]["ts"]]
    if not stale:
        fail("no GETATTR reply with the stale size %d before the shrink" % new)
    k = stale[-1]  # the last one before the shrink is the one applied
    s, f = starts[k], ends[k]
    if not procs[s["pid"]].startswith("server") or \
            not threads[(s["pid"], s["tid"])].startswith("puffs worker"):
        fail("the stale reply is not sent by a server worker: %r" % (threads[(s["pid"], s["tid"])],))
    if threads[(f["pid"], f["tid"])] != "puffs reply reader" or procs[f["pid"]] != "kernel":
        fail("the stale reply does not end at the kernel's reply reader")
    writes = [(b, name) for t, name, b, _ in slices
              if threads.get(t) == "autoconf" and re.fullmatch(r"lwp autoconf op \d+ \(write\)", name)]
    writes.sort()
    if len(writes) != 2:
        fail("expected two WRITE op slices of autoconf, got %r" % writes)
    if not f["ts"] < writes[1][0]:
        fail("the stale reply's arrow ends at %r, not before the second WRITE (%r)"
             % (f["ts"], writes[1][0]))
    # The request it answers starts inside make's fstat.
    req_id = re.match(r"reply (\d+)", s["name"]).group(1)
    reqs = [x for x in starts.values() if re.fullmatch(r"req %s GETATTR cookie \d+" % req_id, x["name"])]
    if len(reqs) != 1 or threads[(reqs[0]["pid"], reqs[0]["tid"])] != "make":
        fail("the GETATTR request %s was not sent by make" % req_id)
    print("stale reply '%s' (size %d, the kernel had %d) ends at ts %s, the second WRITE begins at %s"
          % (s["name"], new, old, f["ts"], writes[1][0]))


def main():
    vfsim, scen = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        scenario = os.path.join(scen, "getattr_write_race.json")
        run([vfsim, "explore", scenario, "--set", "puffs.size_lock=false", "--report", "r.json"], 1)
        run([vfsim, "shrink", "r.json", "--out", "s.json", "--trace-out", "shrink-trace.json"], 1)
        out = run([vfsim, "replay", "s.json", "--trace-out", "trace.json"], 1)
        if "trace: trace.json" not in out:
            fail("replay did not say where the trace went:\n" + out)
        with open("trace.json", "rb") as fh:
            raw = fh.read()
        doc = json.loads(raw.decode("utf-8"))
        with open("shrink-trace.json", "rb") as fh:
            if fh.read() != raw:
                fail("shrink --trace-out and replay --trace-out of the shrunk run differ")
        timed = check_format(doc)
        slices = check_nesting(timed)
        starts, ends = check_flows(timed, slices)
        check_race(timed, slices, starts, ends, doc)
        report = json.load(open("s.json"))
        if doc["otherData"].get("trace_hash") != report["trace_hash"]:
            fail("the trace file names another run than the report")
        print("PASS: %d events, %d slices, %d flows" % (len(timed), len(slices), len(starts)))


if __name__ == "__main__":
    main()
