#!/usr/bin/env bash
# Installs what is missing, builds the server and its plugins (not the tests),
# and runs the main job: paper trading on a synthetic market with the default
# config (no account, no network). The build folder is ./build, or $QTR_BUILD
# (any folder, inside the checkout or not). Arguments go to `qtr run`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QTR_BUILD:-build}
tools/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target qtr qtr_plugins
exec "$build/qtr" run "$@"
