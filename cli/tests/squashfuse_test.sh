#!/usr/bin/env bash
# Shows (issue 14): squashfuse serves a squashfs image made by mksquashfs
# from a small tree, and a scenario reads back every byte. How:
# 1. make-image.sh builds the tree, its image and the tree's sha256 list in
#    a temporary directory;
# 2. the scenario's expectations are checked against the tree: every
#    regular file of the tree is read back by a fs.read_file whose expected
#    data has the file's sha256 (from the list) and size, every directory is
#    listed with exactly its entries, every symbolic link is read with its
#    target, every entry's type, permission bits and size are stat'ed as the
#    tree has them. A file the scenario forgets, or an expectation that
#    differs from the tree, fails here;
# 3. `vfsim check` runs the scenario there (squashfuse_ll opens the image by
#    its relative path): every schedule must pass, so squashfuse served
#    every byte of every file as the tree has it.
# Usage: squashfuse_test.sh VFSIM SCENARIO_DIR   (exit 77: tools missing)
set -u
vfsim=$(realpath "$1") dir=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$dir/make-image.sh" "$work" || exit $?
cd "$work" || exit 1
python3 - "$dir/squashfuse.json" "$work" <<'PY' || exit 1
import hashlib, json, os, stat, sys

scenario, work = sys.argv[1], sys.argv[2]
tree = os.path.join(work, "squashfuse-tree")
mount = "/sq"
ops = [op for l in json.load(open(scenario))["lwps"] for op in l["ops"]]
sums = {}
for line in open(os.path.join(work, "squashfuse.sha256")):
    h, name = line.split(None, 1)
    sums[os.path.normpath(name.strip())] = h

def data(expect):
    d = expect.get("data") if isinstance(expect, dict) else None
    if isinstance(d, str):
        return d.encode()
    if isinstance(d, dict) and "fill" in d:
        p = d["fill"].encode()
        return (p * (d["size"] // len(p) + 1))[: d["size"]]
    return None

def ops_on(name, path):
    return [o for o in ops if o["op"] == name and o["args"].get("path") == path]

bad = []
read_back = set()
for root, dirs, files in os.walk(tree):
    rel = os.path.relpath(root, tree)
    for n in files + dirs:
        rp = os.path.normpath(os.path.join(rel, n))
        vp = mount + "/" + rp
        st = os.lstat(os.path.join(tree, rp))
        stats = ops_on("lstat" if stat.S_ISLNK(st.st_mode) else "stat", vp)
        recs = [o["expect"]["record"] for o in stats if isinstance(o.get("expect"), dict)]
        if not recs:
            bad.append(f"{vp}: never stat'ed")
        for r in recs:
            t = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk"}[stat.S_IFMT(st.st_mode)]
            if r.get("type") != t:
                bad.append(f"{vp}: type {r.get('type')}, tree {t}")
            if "mode" in r and r["mode"] != stat.S_IMODE(st.st_mode):
                bad.append(f"{vp}: mode {r['mode']:o}, tree {stat.S_IMODE(st.st_mode):o}")
            if "mode" not in r and t != "lnk":
                bad.append(f"{vp}: permission bits not checked")
            if t == "reg" and r.get("size") != st.st_size:
                bad.append(f"{vp}: size {r.get('size')}, tree {st.st_size}")
            if t == "reg" and r.get("nlink") != st.st_nlink:
                bad.append(f"{vp}: nlink {r.get('nlink')}, tree {st.st_nlink}")
        if stat.S_ISREG(st.st_mode):
            reads = [data(o.get("expect")) for o in ops_on("fs.read_file", vp)]
            if not reads:
                bad.append(f"{vp}: never read back")
            for d in reads:
                if d is None or hashlib.sha256(d).hexdigest() != sums[rp]:
                    bad.append(f"{vp}: expected data differs from the tree (sha256 list)")
            read_back.add(rp)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(os.path.join(tree, rp)).encode()
            links = [data(o.get("expect")) for o in ops_on("readlink", vp)]
            if links != [target]:
                bad.append(f"{vp}: readlink expectations {links}, tree {target!r}")
    # the directory itself: listed with exactly its entries
    vdir = mount if rel == "." else mount + "/" + rel
    want = sorted(files + dirs)  # squashfuse lists no . and ..
    listed = [sorted(data(o["expect"]).decode().splitlines()) for o in ops_on("fs.list_dir", vdir)]
    if listed != [want]:
        bad.append(f"{vdir}: listed as {listed}, tree has {want}")
if read_back != set(sums):
    bad.append(f"files read back {sorted(read_back)} != sha256 list {sorted(sums)}")
for b in bad:
    print("FAIL:", b)
if bad:
    sys.exit(1)
print(f"the scenario's expectations match the tree: {len(read_back)} files "
      f"({sum(os.path.getsize(os.path.join(tree, f)) for f in read_back)} bytes), every directory, link and mode")
PY
"$vfsim" check "$dir/squashfuse.json" || { echo "FAIL: vfsim check $dir/squashfuse.json"; exit 1; }
echo "PASS: squashfuse_ll served every byte of the image as the tree has it"
