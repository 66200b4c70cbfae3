#!/usr/bin/env bash
# valgrind memcheck over what a sanitizer build cannot see the same way:
#   1. plugin load and unload: `qtr plugins -v` over every plugin in the build,
#      and the loader tests (dlopen, checks, dlclose, refusals);
#   2. a start/stop cycle of `qtr run` (the built-in default, dashboard on a
#      free loopback port): wait for /health/all, SIGTERM, expect exit 0.
# Fails on any memcheck error or definite leak (possible/reachable leaks are
# what libraries keep for the process's life: not errors).
#   tools/valgrind.sh [BUILD]     BUILD: a plain (non-sanitizer) build with
#                                 the tests, default $QTR_BUILD or ./build
# Suppressions: tools/valgrind.supp (third-party libraries only, each with a reason).
set -uo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build=$(cd "${1:-${QTR_BUILD:-$src/build}}" && pwd) || { echo "valgrind.sh: no build folder" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is needed (tools/install-deps.sh --test)" >&2; exit 2; }
[ -x "$build/qtr" ] || { echo "valgrind.sh: $build/qtr is missing: build first" >&2; exit 2; }
# exit code 99 is valgrind's (an error or a definite leak), anything else the program's own
vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
    --errors-for-leak-kinds=definite --track-origins=yes --num-callers=30
    --suppressions="$src/tools/valgrind.supp")
export QTR_SOURCE_DIR="$src" QTR_BUILD_DIR="$build" QTR_PLUGIN_DIR="$build/plugins"
cd "$src" || exit 2   # the loader tests read their fixtures from the source folder
work=$(mktemp -d "${TMPDIR:-/tmp}/qtr-valgrind.XXXXXX")
[ -n "${QTR_VALGRIND_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
failed=()

step() {  # step NAME CMD...: run CMD under memcheck, its log in $work/NAME.log
  local name=$1; shift
  local t0=$SECONDS
  "${vg[@]}" --log-file="$work/$name.vg" "$@" >"$work/$name.out" 2>&1
  local rc=$?
  echo "== valgrind $name: exit $rc ($((SECONDS - t0)) s)"
  if [ "$rc" -ne 0 ]; then
    failed+=("$name")
    tail -n 30 "$work/$name.out" >&2
    grep -A 25 -E "definitely lost in loss record|Invalid (read|write|free)|uninitialised|Mismatched|Syscall param" "$work/$name.vg" | head -n 80 >&2
  fi
}

# 1. plugin load and unload
ls "$build"/plugins/*.so >/dev/null 2>&1 || { echo "valgrind.sh: no plugins in $build/plugins" >&2; exit 2; }
step plugins-v "$build/qtr" plugins -v
for t in "$build"/tests/loader/test_loader "$build"/tests/loader/test_search_path; do
  if [ -x "$t" ]; then step "loader-$(basename "$t")" "$t"; fi
done

# 2. qtr run: start, /health/all answers, SIGTERM, exit 0
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/run"
(cd "$work/run" && QTR_DASHBOARD_LISTEN="127.0.0.1:$port" exec "${vg[@]}" --log-file="$work/run.vg" "$build/qtr" run) \
  >"$work/run.out" 2>&1 &
pid=$!
t0=$SECONDS
healthy=0
for _ in $(seq 1 240); do   # up to 120 s: under memcheck the start is ~20x slower
  if python3 - "$port" <<'EOF' 2>/dev/null; then healthy=1; break; fi
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health/all", timeout=2) as r:
    sys.exit(0 if "status" in json.load(r) else 1)
EOF
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
kill -TERM "$pid" 2>/dev/null
rc=124
for _ in $(seq 1 120); do   # up to 60 s for the stop
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; break; fi
  sleep 0.5
done
[ "$rc" -ne 124 ] || { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
echo "== valgrind qtr-run: /health/all $([ $healthy = 1 ] && echo answered || echo NEVER answered), exit $rc ($((SECONDS - t0)) s)"
if [ "$healthy" != 1 ] || [ "$rc" -ne 0 ]; then
  failed+=("qtr-run")
  tail -n 30 "$work/run.out" >&2
  grep -A 25 -E "definitely lost in loss record|Invalid (read|write|free)|uninitialised|Mismatched|Syscall param" "$work/run.vg" | head -n 80 >&2
fi

if [ ${#failed[@]} -ne 0 ]; then
  echo "valgrind.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "valgrind.sh: no memcheck errors, no definite leaks"
