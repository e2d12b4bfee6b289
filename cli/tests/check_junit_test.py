#!/usr/bin/env python3
"""Shows (issue 16): `vfsim check scenarios/*.json --junit out.xml` checks
every side of every shipped scenario and writes JUnit XML that CI systems
read; a scenario made to fail shows its message and replay command in the
XML, and with GITHUB_ACTIONS=true an `::error file=...,line=...::`
annotation points at the scenario op that failed.

How: run the check over the shipped scenarios (exit 0); validate the XML
with xmllint against cli/tests/junit.xsd (the subset of Jenkins'
junit-10.xsd vfsim writes) and check its structure: one testsuite per file,
one testcase per side, where the sides are counted here from each file's
expect_outcome (one per `when`, plus the file as it is), counts that add up,
no failure. Then two broken copies of counter_locked.json: one whose
sched.locking=false side expects pass (it fails at the check op var.read),
one whose default side expects a deadlock (it passes). Checked with
GITHUB_ACTIONS=true: exit 1, an annotation at the var.read op's line and
column and one at the contradicted expect_outcome entry, JUnit failures with
the message, `vfsim replay REPORT` and the rerun command, and the report
reproducing with `vfsim replay`. Without GITHUB_ACTIONS no annotation.

Usage: check_junit_test.py VFSIM SCENARIO_DIR XSD
Exits 77 (skipped) when xmllint (Debian: libxml2-utils) is missing.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args, want, env=None):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != want:
        fail("exit %d, wanted %d: %s\n%s%s" % (p.returncode, want, " ".join(args), p.stdout, p.stderr))
    return p.stdout


def validate(xsd, path):
    p = subprocess.run(["xmllint", "--noout", "--schema", xsd, path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0 or "validates" not in p.stdout:
        fail("%s does not validate against %s:\n%s" % (path, xsd, p.stdout))


def sides_of(path):
    doc = json.load(open(path))
    eo = doc.get("expect_outcome")
    whens = [e for e in eo if "when" in e] if isinstance(eo, list) else []
    return doc["name"], 1 + len(whens)


def check_structure(path, files):
    root = ET.parse(path).getroot()
    if root.tag != "testsuites":
        fail("root is <%s>" % root.tag)
    suites = root.findall("testsuite")
    if sorted(s.get("file") for s in suites) != sorted(files):
        fail("testsuites for %r, files %r" % ([s.get("file") for s in suites], files))
    total = fails = 0
    for s in suites:
        name, want = sides_of(s.get("file"))
        cases = s.findall("testcase")
        if s.get("name") != name or len(cases) != want or int(s.get("tests")) != want:
            fail("%s: %d testcases (tests=%s), wanted one per side: %d"
                 % (name, len(cases), s.get("tests"), want))
        names = [c.get("name") for c in cases]
        if len(set(names)) != len(names) or not all(n.startswith(name + " [") for n in names):
            fail("%s: testcase names %r" % (name, names))
        nf = len([c for c in cases if c.find("failure") is not None])
        if int(s.get("failures")) != nf or int(s.get("errors")) != 0:
            fail("%s: failures=%s errors=%s, counted %d" % (name, s.get("failures"), s.get("errors"), nf))
        for c in cases:
            if c.get("classname") != name or not re.fullmatch(r"\d+\.\d{3}", c.get("time")):
                fail("%s: testcase %r attributes" % (name, c.attrib))
        total += want
        fails += nf
    if int(root.get("tests")) != total or int(root.get("failures")) != fails:
        fail("testsuites counts tests=%s failures=%s, counted %d %d"
             % (root.get("tests"), root.get("failures"), total, fails))
    return root, total


def line_col(text, needle):
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def main():
    vfsim, scen, xsd = sys.argv[1], sys.argv[2], sys.argv[3]
    if shutil.which("xmllint") is None:
        print("SKIP: xmllint is not installed (Debian: libxml2-utils)")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        shutil.copytree(scen, "scenarios")  # relative file names, as CI gives them
        files = sorted(glob.glob("scenarios/*.json"))
        env = dict(os.environ)
        env.pop("GITHUB_ACTIONS", None)
        out = run([vfsim, "check"] + files + ["--junit", "out.xml"], 0, env)
        validate(xsd, "out.xml")
        root, total = check_structure("out.xml", files)
        if int(root.get("failures")) != 0:
            fail("a shipped scenario side is not as expected:\n" + out)
        if "::error" in out:
            fail("annotations without GITHUB_ACTIONS")

        # Made to fail, both ways.
        src = open(os.path.join(scen, "counter_locked.json")).read()
        broken = src.replace('{"when": {"sched.locking": false}, "outcome": "expectation"}',
                             '{"when": {"sched.locking": false}, "outcome": "pass"}')
        never = src.replace('{"outcome": "pass"}', '{"outcome": "deadlock"}')
        if broken == src or never == src:
            fail("counter_locked.json no longer has the expect_outcome this test edits")
        os.mkdir("bad")
        open("bad/broken.json", "w").write(broken)
        open("bad/never.json", "w").write(never)
        env["GITHUB_ACTIONS"] = "true"
        out = run([vfsim, "check", "bad/broken.json", "bad/never.json", "--junit", "bad.xml",
                   "--report-dir", "reps"], 1, env)
        validate(xsd, "bad.xml")
        check_structure("bad.xml", ["bad/broken.json", "bad/never.json"])
        annotations = [l for l in out.splitlines() if l.startswith("::error ")]
        if len(annotations) != 2:
            fail("expected two annotations, got:\n" + out)
        line, col = line_col(broken, '{"op": "var.read"')
        want = "::error file=bad/broken.json,line=%d,col=%d,title=" % (line, col)
        first = [a for a in annotations if a.startswith(want)]
        if not first or "expectation" not in first[0] or "vfsim replay" not in first[0]:
            fail("no annotation at the var.read op (%s):\n%s" % (want, "\n".join(annotations)))
        eline, ecol = line_col(never, '{"outcome": "deadlock"}')
        if not any(a.startswith("::error file=bad/never.json,line=%d,col=%d," % (eline, ecol))
                   for a in annotations):
            fail("no annotation at never.json's expect_outcome (line %d):\n%s"
                 % (eline, "\n".join(annotations)))

        root = ET.parse("bad.xml").getroot()
        failures = {(s.get("file"), c.get("name")): c.find("failure")
                    for s in root.iter("testsuite") for c in s.iter("testcase")}
        f = failures.get(("bad/broken.json", "counter_locked [sched.locking=false]"))
        if f is None or f.get("type") != "expectation" or "expected 2" not in f.get("message"):
            fail("the broken side's failure: %r" % (f.attrib if f is not None else None))
        m = re.search(r"replay: vfsim replay (\S+)", f.text or "")
        if not m or "rerun:  vfsim run bad/broken.json --set sched.locking=false" not in f.text:
            fail("the failure text lacks the replay or rerun command:\n%s" % f.text)
        replay = run([vfsim, "replay", m.group(1)], 1)
        if not replay.startswith("reproduced: expectation"):
            fail("the report does not reproduce:\n" + replay)
        g = failures.get(("bad/never.json", "counter_locked [default]"))
        if g is None or "passed" not in g.get("message") or "vfsim check bad/never.json" not in g.text:
            fail("the unexpected pass's failure: %r" % (g.attrib if g is not None else None))
        print("PASS: %d testcases for %d shipped files; made-to-fail annotations: %s"
              % (total, len(files), " | ".join(a.split("::")[1] for a in annotations)))


if __name__ == "__main__":
    main()
