#!/usr/bin/env python3
"""Shows (issue 16): `vfsim chart` of the shrunk GETATTR/WRITE report draws
the lwps and messages of the shrunk schedule, and the SVG (and the HTML page
around it) renders in headless Chromium to a PNG.

How: explore scenarios/getattr_write_race.json with puffs.size_lock=false,
shrink the report, chart the shrunk report as SVG and HTML. The oracle is the
text trace of the same run (`vfsim replay --trace`), read independently of
the chart code: lwp names from the spawn lines, messages by pairing each
sock_send with the sock_recv of the same socket, direction and number. The
chart's arrows must be exactly the messages sent and received between the
end of the setup and the first check, each with its label, sender, receiver
and steps; its columns must be exactly the lwps those arrows, the scenario
ops, the preemptions and the failure are on; its preemption marks must be
the run's preemptions; the failing check op alone is drawn failing. Then
Chromium (--headless, a new empty profile) screenshots both files, and the
PNG must have the SVG's size and show the red failure mark and dark arrows.

Usage: chart_test.py VFSIM SCENARIO_DIR [CHROMIUM]
Exits 77 (skipped) when Chromium is not installed.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args, want):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != want:
        fail("exit %d, wanted %d: %s\n%s" % (p.returncode, want, " ".join(args), p.stdout))
    return p.stdout


LINE = re.compile(r"^  \[(\d+) [0-9.]+s\] (machine|lwp (\d+)) ([\w.]+): ?(.*)$")


def read_text_trace(text):
    """Names by lwp id, messages as dicts, preempted lwp ids, op_begin lines."""
    names, sends, msgs, preempts, ops = [], {}, [], [], []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        step, lwp, kind, detail = int(m.group(1)), m.group(3), m.group(4), m.group(5)
        lwp = int(lwp) if lwp is not None else None
        if kind == "spawn":
            names.append(detail)
        elif kind == "sock_send":
            s = re.match(r"(\S+) (\d)->(\d) msg #(\d+) len \d+(?: \((.*)\))?$", detail)
            sends[(s.group(1), s.group(2), s.group(4))] = (step, lwp, s.group(5) or "")
        elif kind == "sock_recv":
            r = re.match(r"(\S+) (\d)->(\d) msg #(\d+)$", detail)
            key = (r.group(1), r.group(2), r.group(4))
            if key not in sends:
                fail("a receive with no send in the text trace: " + line)
            s_step, s_lwp, label = sends.pop(key)
            msgs.append({"label": label, "from": s_lwp, "to": lwp, "send": s_step, "recv": step})
        elif kind == "preempt":
            preempts.append((step, lwp))
        elif kind in ("op_begin", "op"):
            ops.append((step, kind, lwp, detail))
    return names, msgs, preempts, ops


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = ihdr
    if depth != 8 or color not in (2, 6) or interlace != 0:
        fail("unexpected PNG format %r" % (ihdr,))
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                cur[i] = (cur[i] + a) & 0xff
            elif f == 2:
                cur[i] = (cur[i] + b) & 0xff
            elif f == 3:
                cur[i] = (cur[i] + (a + b) // 2) & 0xff
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 0xff
        rows.append([tuple(cur[i:i + 3]) for i in range(0, stride, bpp)])
        prev = cur
    return width, height, rows


def screenshot(chromium, work, src, png, width, height):
    profile = tempfile.mkdtemp(prefix="profile-", dir=work)  # new and empty
    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + profile, "--hide-scrollbars",
            "--screenshot=" + png, "--window-size=%d,%d" % (width, height),
            "file://" + os.path.abspath(src)]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=120)
    if p.returncode != 0 or not os.path.exists(png):
        fail("chromium could not render %s:\n%s" % (src, p.stdout))


def check_png(png, width, height, want_red):
    w, h, rows = read_png(png)
    if (w, h) != (width, height):
        fail("%s is %dx%d, not %dx%d" % (png, w, h, width, height))
    red = dark = ink = 0
    for row in rows:
        for r, g, b in row:
            if r > 180 and g < 60 and b < 60:
                red += 1
            if r < 80 and g < 100 and b < 140:
                dark += 1
            if r < 240 or g < 240 or b < 240:
                ink += 1
    if want_red and red < 50:
        fail("%s shows no red failure mark (%d red pixels)" % (png, red))
    if dark < 500 or ink < w * h // 50:
        fail("%s is nearly blank (%d dark, %d non-white pixels)" % (png, dark, ink))
    return red, dark, ink


def main():
    vfsim, scen = sys.argv[1], sys.argv[2]
    chromium = sys.argv[3] if len(sys.argv) > 3 else (shutil.which("chromium") or "")
    if not chromium or not os.path.exists(chromium):
        print("SKIP: chromium is not installed (Debian: chromium; ci/install-deps installs it)")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        scenario = os.path.join(scen, "getattr_write_race.json")
        run([vfsim, "explore", scenario, "--set", "puffs.size_lock=false", "--report", "r.json"], 1)
        run([vfsim, "shrink", "r.json", "--out", "s.json"], 1)
        run([vfsim, "chart", "s.json", "-o", "chart.svg"], 0)
        run([vfsim, "chart", "s.json", "--format", "html", "--out", "chart.html"], 0)
        text = run([vfsim, "replay", "s.json", "--trace"], 1)
        names, msgs, preempts, ops = read_text_trace(text)
        report_preemptions = int(re.search(r'"preemptions": *(\d+)', open("s.json").read()).group(1))

        root = ET.parse("chart.svg").getroot()
        width, height = int(root.get("width")), int(root.get("height"))
        groups = list(root.iter(SVG + "g"))
        cls = lambda c: [g for g in groups if g.get("class") == c]
        columns = [g.get("data-lwp") for g in cls("lwp")]
        if len(set(columns)) != len(columns) or not set(columns) <= set(names):
            fail("columns %r are not distinct lwps of the run %r" % (columns, names))

        # The window: after the last setup op, before the first check op.
        setup_end = max(s for s, k, _, d in ops if k == "op" and d.startswith("setup op "))
        checks = min(s for s, k, _, d in ops if k == "op_begin" and d.startswith("checks op "))
        want = sorted((m["label"], names[m["from"]], names[m["to"]], m["send"], m["recv"])
                      for m in msgs if setup_end <= m["send"] and m["recv"] <= checks)
        got = sorted((g.get("data-msg"), g.get("data-from"), g.get("data-to"),
                      int(g.get("data-send-step")), int(g.get("data-recv-step")))
                     for g in cls("msg"))
        if got != want:
            fail("the chart's arrows are not the schedule's messages:\n chart: %r\n trace: %r"
                 % (got, want))
        labels = [g[0] for g in got]
        if not any(re.fullmatch(r"req \d+ GETATTR cookie \d+", l) for l in labels) or \
                not any(re.fullmatch(r"reply \d+ GETATTR size 0", l) for l in labels) or \
                len([l for l in labels if " WRITE " in l and l.startswith("req")]) != 2:
            fail("the race's messages are missing from the chart: %r" % labels)

        marks = sorted((int(g.get("data-step")), g.get("data-lwp")) for g in cls("preempt"))
        if len(marks) != report_preemptions or \
                marks != sorted((s, names[l]) for s, l in preempts):
            fail("preemption marks %r, the run's %r (%d)" % (marks, preempts, report_preemptions))

        # Columns: exactly the lwps something drawn is on.
        on = set()
        for g in cls("msg"):
            on |= {g.get("data-from"), g.get("data-to")}
        for c in ("op", "span", "preempt", "failure", "notice"):
            on |= {g.get("data-lwp") for g in cls(c)}
        for g in cls("wake"):
            on |= {g.get("data-from"), g.get("data-to")}
        if set(columns) != on:
            fail("columns %r, but drawn things are on %r" % (columns, sorted(on)))
        for lwp in ("controller", "autoconf", "make", "puffs reply reader"):
            if lwp not in columns:
                fail("no column for " + lwp)

        failing = [g.get("data-name") for g in groups if g.get("data-failing") == "true"]
        if failing != ["checks op 1 (fs.read_file)"] or len(cls("failure")) != 1:
            fail("the failing op drawn is %r" % failing)
        ops_drawn = {g.get("data-name") for g in cls("op")}
        scenario_ops = {d for _, k, _, d in ops if k == "op_begin"}
        if ops_drawn != scenario_ops:
            fail("op boxes %r, the run's ops %r" % (sorted(ops_drawn), sorted(scenario_ops)))
        for g in cls("msg") + cls("op"):
            if g.find(SVG + "title") is None or not g.find(SVG + "title").text:
                fail("an element has no trace lines in its title")

        html = open("chart.html").read()
        if "<svg" not in html or "mouseenter" not in html:
            fail("the HTML chart lacks the SVG or the hover script")

        screenshot(chromium, work, "chart.svg", "chart.png", width, height)
        red, dark, ink = check_png("chart.png", width, height, True)
        screenshot(chromium, work, "chart.html", "page.png", 1280, 900)
        check_png("page.png", 1280, 900, False)
        print("PASS: %d columns %r, %d arrows, %d preemptions; chart.png %dx%d with %d red, %d dark "
              "pixels" % (len(columns), columns, len(got), len(marks), width, height, red, dark))


if __name__ == "__main__":
    main()
