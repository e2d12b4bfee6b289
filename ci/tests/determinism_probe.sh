#!/usr/bin/env bash
# Shows that ci/check-determinism catches what it must and only that: a test
# file above sim/ that calls std::chrono::steady_clock::now() fails the check
# naming its file and line; the same call in a comment, or marked
# `determinism-ok: REASON`, passes; an unordered_map member fails.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/vfs/tests"
fail() { echo "FAIL: $*"; exit 1; }

probe="$work/vfs/tests/probe_test.cc"
printf '#include <chrono>\nint f() {\n  auto t = std::chrono::steady_clock::now();\n  return 0;\n}\n' >"$probe"
out="$("$root/ci/check-determinism" "$probe" 2>&1)" && fail "a steady_clock call passed: $out"
grep -q "probe_test.cc:3:" <<<"$out" || fail "the finding does not name file:line 3: $out"

printf '// std::chrono::steady_clock::now() is never called here\nint f() { return 0; }\n' >"$probe"
out="$("$root/ci/check-determinism" "$probe" 2>&1)" || fail "a comment was reported: $out"

printf 'int f() {\n  auto t = std::chrono::steady_clock::now();  // determinism-ok: probe\n  return 0;\n}\n' >"$probe"
out="$("$root/ci/check-determinism" "$probe" 2>&1)" || fail "a marked line was reported: $out"

printf '#include <unordered_map>\nstruct S {\n  std::unordered_map<int, int> m;\n};\n' >"$probe"
out="$("$root/ci/check-determinism" "$probe" 2>&1)" && fail "an unordered_map passed: $out"
grep -q "probe_test.cc:3:" <<<"$out" || fail "the unordered_map finding is not line 3: $out"
echo "ok: steady_clock and unordered_map caught; comments and marked lines pass"
