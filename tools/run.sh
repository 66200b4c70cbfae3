#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: paper trading on a
# synthetic market with the default config (no account, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
exec ./build/qtr run "$@"
