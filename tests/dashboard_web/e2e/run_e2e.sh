#!/usr/bin/env bash
# Tests of the operator's page, and of the backtest's HTML report, in four parts:
#  1. model.test.cjs: the page's data rules (model.js) under node's test runner;
#  2. e2e.mjs: dash_test_host serves the dashboard on a free 127.0.0.1 port;
#     headless Debian chromium, driven by playwright-core, loads it, sees live
#     updates, trips and resets the ESS;
#  3. run_page.mjs: the page against a real `qtr run` (free port) replaying
#     candles: chart direction, one row per order, newest first, a tripped
#     ESS, an API error, a server restart;
#  4. report_page.mjs: `qtr backtest --html` opened from its file: nothing
#     fetched, four charts drawn, no label cut at a chart's edge.
# Screenshots go to $QTR_BUILD_DIR/artifacts/. Fails (never skips) when
# chromium or node is missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${QTR_BUILD_DIR:?QTR_BUILD_DIR must point at the build directory}"
HOST_BIN="${DASH_TEST_HOST:-$BUILD/tests/dashboard_web/dash_test_host}"
QTR_BIN="${QTR_BIN:-$BUILD/qtr}"
SRC="${QTR_SOURCE_DIR:-$(cd "$HERE/../../.." && pwd)}"
CHROMIUM=/usr/bin/chromium

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$CHROMIUM" ] || fail "$CHROMIUM not found: apt-get install chromium"
command -v node >/dev/null || fail "node not found: apt-get install nodejs npm"
[ -x "$HOST_BIN" ] || fail "$HOST_BIN not built (cmake --build ... --target dash_test_host)"
[ -x "$QTR_BIN" ] || fail "$QTR_BIN not built"
[ -f "${QTR_PLUGIN_DIR:-$BUILD/plugins}/dashboard_web.so" ] || fail "dashboard_web.so not built"

echo "== the page's data rules (model.js)"
QTR_SOURCE_DIR="$SRC" timeout 60 node --test "$HERE/model.test.cjs"

if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null || fail "npm not found: apt-get install npm"
  echo "installing playwright-core into $HERE/node_modules"
  (cd "$HERE" && timeout 300 npm install --no-save --no-audit --no-fund playwright-core >/dev/null) \
    || fail "npm install playwright-core failed"
fi

mkdir -p "$BUILD/artifacts"
WORK="$(mktemp -d)"
HOST_PID=""
cleanup() {
  if [ -n "$HOST_PID" ]; then kill "$HOST_PID" 2>/dev/null || true; wait "$HOST_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export QTR_API_TOKEN="e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
"$HOST_BIN" --seconds 120 >"$WORK/host.out" 2>"$WORK/host.err" &
HOST_PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT="$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$WORK/host.out")"
  [ -n "$PORT" ] && break
  kill -0 "$HOST_PID" 2>/dev/null || { cat "$WORK/host.err" >&2; fail "dash_test_host exited"; }
  sleep 0.1
done
[ -n "$PORT" ] && [ "$PORT" != 0 ] || fail "dash_test_host printed no port"

DASH_URL="http://127.0.0.1:$PORT/" DASH_TOKEN="$QTR_API_TOKEN" SHOT="$BUILD/artifacts/dashboard.png" \
  USER_DATA_DIR="$WORK/profile" CHROMIUM="$CHROMIUM" timeout 120 node "$HERE/e2e.mjs"
echo "screenshot: $BUILD/artifacts/dashboard.png"
kill "$HOST_PID" 2>/dev/null || true; wait "$HOST_PID" 2>/dev/null || true; HOST_PID=""

# run_qtr_page NAME SCRIPT SECONDS: a script that runs qtr itself, in its own
# work and profile folders under $WORK, screenshots into artifacts/
run_qtr_page() {
  mkdir -p "$WORK/$1" "$WORK/profile-$1"
  QTR_BIN="$QTR_BIN" QTR_PLUGIN_DIR="${QTR_PLUGIN_DIR:-$BUILD/plugins}" QTR_SOURCE_DIR="$SRC" WORK_DIR="$WORK/$1" \
    SHOT_DIR="$BUILD/artifacts" USER_DATA_DIR="$WORK/profile-$1" CHROMIUM="$CHROMIUM" \
    timeout "$3" node "$HERE/$2"
}

echo "== the page against qtr run"
run_qtr_page run run_page.mjs 150
echo "screenshots: $BUILD/artifacts/page-run.png page-offline.png page-back.png"

echo "== the backtest's HTML report"
run_qtr_page report report_page.mjs 120
echo "screenshots: $BUILD/artifacts/report-10k.png report-1m.png"
