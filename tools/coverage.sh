#!/bin/sh
# Line and branch coverage of host/* and plugins/* by the test suite.
#
#   tools/coverage.sh [BUILD_DIR] [-- CTEST_ARGS...]
#
# Builds the project with gcc --coverage in BUILD_DIR (default
# /tmp/qtr-coverage: outside the checkout, never the developer's own build),
# runs ctest there (by default everything but the packaging tests, which build
# .debs from a build of their own and cover nothing here, the long tier, which
# takes half an hour, and e2e_indicators_plugin_link, which links a plugin with
# the system cc against libqtr-indicators.a, here full of gcov calls that cc
# does not link without --coverage), and prints line and
# branch coverage per folder. Uses gcovr (Debian package gcovr) when
# installed, otherwise gcov directly (QTR_COVERAGE_TOOL=gcov forces that).
# Exits with ctest's status, after printing the figures either way.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=/tmp/qtr-coverage
if [ $# -gt 0 ] && [ "$1" != "--" ]; then build=$1; shift; fi
[ "${1:-}" = "--" ] && shift
case "$build" in
    "$src"|"$src"/*) echo "coverage.sh: build folder $build is inside the checkout; pick one outside it" >&2; exit 2 ;;
esac
jobs=${QTR_JOBS:-2}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_C_FLAGS="--coverage -O0" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
    -DCMAKE_SHARED_LINKER_FLAGS=--coverage -DCMAKE_MODULE_LINKER_FLAGS=--coverage >/dev/null
cmake --build "$build" -j"$jobs"
# counts from an earlier run would add to this one
find "$build" -name '*.gcda' -delete

start=$(date +%s)
status=0
if [ $# -gt 0 ]; then
    ctest --test-dir "$build" -j"$jobs" --output-on-failure "$@" || status=$?
else
    ctest --test-dir "$build" -j"$jobs" --output-on-failure -LE 'packaging|long' \
        -E '^e2e_indicators_plugin_link$' || status=$?
fi
echo "coverage.sh: tests took $(( $(date +%s) - start )) s (ctest exit $status)"

summary="$build/coverage-summary.json"
if [ "${QTR_COVERAGE_TOOL:-}" != gcov ] && command -v gcovr >/dev/null 2>&1; then
    gcovr --root "$src" --object-directory "$build" --filter "$src/host/" --filter "$src/plugins/" \
        --exclude-directories '.*/CMakeFiles/[0-9.]+/.*' --gcov-ignore-parse-errors --json-summary "$summary" >/dev/null
    tool=gcovr
else
    [ "${QTR_COVERAGE_TOOL:-}" = gcov ] || echo "coverage.sh: gcovr not installed (apt-get install gcovr); using gcov directly"
    tool=gcov
fi

# One table: a row per folder (host/<x>, plugins/<x>), then host/ and plugins/ as a whole.
python3 - "$tool" "$summary" "$build" "$src" <<'PY'
import json, os, subprocess, sys
tool, summary, build, src = sys.argv[1:5]
files = {}   # path relative to src -> [lines, lines hit, branches, branches hit]
if tool == "gcovr":
    for f in json.load(open(summary))["files"]:
        files[f["filename"]] = [f["line_total"], f["line_covered"], f["branch_total"], f["branch_covered"]]
else:
    lines, branches = {}, {}
    for root, _, names in os.walk(build):
        for n in names:
            if not n.endswith(".gcda"):
                continue
            out = subprocess.run(["gcov", "-j", "-t", "-b", "-o", root, os.path.join(root, n)], cwd=root,
                                 capture_output=True, text=True).stdout
            for doc in out.splitlines():
                try:
                    j = json.loads(doc)
                except ValueError:
                    continue
                cwd = j.get("current_working_directory", root)
                for f in j.get("files", []):
                    path = os.path.relpath(os.path.normpath(os.path.join(cwd, f["file"])), src)
                    if not (path.startswith("host/") or path.startswith("plugins/")):
                        continue
                    for l in f["lines"]:
                        k = (path, l["line_number"])
                        lines[k] = lines.get(k, False) or l["count"] > 0
                        for i, b in enumerate(l.get("branches", [])):
                            bk = k + (i,)
                            branches[bk] = branches.get(bk, False) or b["count"] > 0
    for (path, _), hit in lines.items():
        files.setdefault(path, [0, 0, 0, 0])
        files[path][0] += 1
        files[path][1] += hit
    for (path, _, _), hit in branches.items():
        files.setdefault(path, [0, 0, 0, 0])
        files[path][2] += 1
        files[path][3] += hit
rows = {}
for path, v in files.items():
    parts = path.split("/")
    keys = [parts[0] + "/"] + (["/".join(parts[:2])] if len(parts) > 2 else [])
    for k in keys:
        r = rows.setdefault(k, [0, 0, 0, 0])
        for i in range(4):
            r[i] += v[i]
def pct(hit, total):
    return f"{100.0 * hit / total:6.1f}%" if total else "     -"
print(f"{'folder':32} {'lines':>16} {'line %':>7} {'branches':>16} {'branch %':>8}")
for k in sorted(rows, key=lambda k: (k.endswith("/"), k)):
    t, h, bt, bh = rows[k]
    print(f"{k:32} {h:>7}/{t:<8} {pct(h, t):>7} {bh:>7}/{bt:<8} {pct(bh, bt):>8}")
PY
exit $status
