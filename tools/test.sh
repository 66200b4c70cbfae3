#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, end to end,
# stress); then compiles everything in Release with gcc and with clang
# (-Werror, no tests run), the builds a compiler's optimiser warns in.
#   QTR_BUILD=<folder>     the test build (default ./build); the Release builds
#                          go beside it, <folder>-release-gcc and -release-clang
#   QTR_TEST_MATRIX=0      skip the Release builds
# Exit status: ctest's, or 1 if a Release build fails (each failure is named).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${QTR_BUILD:-build}
jobs=$(nproc)
tools/install-deps.sh --test || exit 1
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQTR_BUILD_TESTS=ON >/dev/null || exit 1
cmake --build "$build" -j "$jobs" || exit 1
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600
rc=$?

if [ "${QTR_TEST_MATRIX:-1}" != 0 ]; then
  for cc in gcc clang; do
    dir="$build-release-$cc"
    echo "== Release build with $cc in $dir (compile only)"
    if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
             -DQTR_WERROR=ON -DQTR_BUILD_TESTS=ON >"$dir.log" 2>&1 &&
           cmake --build "$dir" -j "$jobs" >>"$dir.log" 2>&1; }; then
      echo "FAIL: the Release build with $cc; its errors (full log: $dir.log):" >&2
      grep -E "error|Error" "$dir.log" | head -n 20 >&2
      [ "$rc" -ne 0 ] || rc=1
    fi
  done
fi
exit "$rc"
