#!/usr/bin/env bash
# Installs what is missing, then runs every check CI runs (docs/hardening.md):
#   build        the test build (RelWithDebInfo, -Werror)
#   release-gcc, release-clang, debug-gcc, debug-clang
#                everything compiled in Release and in Debug with gcc and with
#                clang (-Werror, no tests run): the optimiser warns in Release,
#                and gcc's -O0 analysis in Debug sees other cases again
#   sanitizers   gcc ASan+UBSan build, the unit and end-to-end tests under it
#                (halt_on_error=1, leak detection on; not the stress or packaging labels)
#   valgrind     memcheck over plugin load/unload and a qtr run start/stop (tools/valgrind.sh)
#   lint         cppcheck on the rule set in .cppcheck (tools/lint.sh)
#   fuzz         libFuzzer smoke run, every target 30 s (tools/fuzz.sh all 30)
#   tests        every ctest test of the test build (unit, end to end, stress);
#                last, so ctest's closing line is the last test summary printed
# then prints each stage's duration.
#   QTR_BUILD=<folder>     the test build (default ./build); the others go beside it:
#                          <folder>-release-gcc, -release-clang, -debug-gcc,
#                          -debug-clang, -asan, -fuzz
#   QTR_TEST_MATRIX=0      skip the Release and Debug builds
#   QTR_HARDENING=0        skip sanitizers, valgrind, lint and fuzz (a quick local run)
# Exit status: ctest's if only the tests failed, else 1; every failed stage is named.
#
# usage: tools/test.sh [--long] [--list] [--help]
#   --long   also run the long tier (ctest label long: every stress scenario for
#            minutes in rounds on random seeds, the 10-minute exchange soak, the Redis
#            outage with 10 s phases, the crash loop of 100 SIGKILLs) as a last stage
#            `long`, after everything above; with QTR_HARDENING=0 QTR_TEST_MATRIX=0
#            that is build, tests, long (about 45 minutes)
#   --list   print the stages this run would have and exit (nothing is installed or built)
# An unknown option is refused with exit 2.
set -uo pipefail
usage() { sed -n '/^# usage:/,/^# An unknown/s/^# \{0,1\}//p' "$0"; }
long_tier=0 list_only=0
for arg in "$@"; do
  case $arg in
    --long) long_tier=1 ;;
    --list) list_only=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tools/test.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$list_only" = 1 ]; then
  stages=(build)
  [ "${QTR_TEST_MATRIX:-1}" != 0 ] && stages+=(release-gcc release-clang debug-gcc debug-clang)
  [ "${QTR_HARDENING:-1}" != 0 ] && stages+=(sanitizers valgrind lint fuzz)
  stages+=(tests)
  [ "$long_tier" = 1 ] && stages+=(long)
  echo "stages: ${stages[*]}"
  exit 0
fi
cd "$(dirname "$0")/.."
build=${QTR_BUILD:-build}
jobs=$(nproc)
tools/install-deps.sh --test || exit 1

stage_names=() stage_secs=() stage_results=() failed=()
stage() {  # stage NAME CMD...: run CMD, record its duration and result
  local name=$1; shift
  local t0=$SECONDS rc
  echo "== stage $name"
  "$@"
  rc=$?
  stage_names+=("$name") stage_secs+=($((SECONDS - t0)))
  if [ "$rc" -eq 0 ]; then stage_results+=(ok); else stage_results+=("FAILED ($rc)"); failed+=("$name"); fi
  return "$rc"
}
summary() {
  echo "== stage durations"
  local i
  for i in "${!stage_names[@]}"; do
    printf '   %-14s %4d s  %s\n' "${stage_names[$i]}" "${stage_secs[$i]}" "${stage_results[$i]}"
  done
  printf '   %-14s %4d s\n' total "$SECONDS"
  if [ ${#failed[@]} -ne 0 ]; then echo "FAILED stages: ${failed[*]}" >&2; fi
}

build_tests() {
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQTR_BUILD_TESTS=ON >/dev/null &&
    cmake --build "$build" -j "$jobs"
}

matrix_build() {  # matrix_build Release|Debug CC: compile only, the log beside the folder
  local type=$1 cc=$2 dir="$build-${1,,}-$2"
  echo "== $type build with $cc in $dir (compile only)"
  if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DCMAKE_C_COMPILER="$cc" \
           -DQTR_WERROR=ON -DQTR_BUILD_TESTS=ON >"$dir.log" 2>&1 &&
         cmake --build "$dir" -j "$jobs" >>"$dir.log" 2>&1; }; then
    echo "FAIL: the $type build with $cc; its errors (full log: $dir.log):" >&2
    grep -E "error|Error" "$dir.log" | head -n 20 >&2
    return 1
  fi
}

# gcc, not clang: gcc links the sanitizer runtime into the plugins (.so), so
# they keep -Wl,-z,defs and run under the host's runtime when dlopened.
# halt_on_error: the first report ends the test; the suppressions are
# third-party libraries only (the file says why for each).
under_sanitizers() {
  env ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0" \
    LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tools/ubsan.supp" "$@"
}

sanitizer_run() {
  local dir="$build-asan" flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
  echo "== ASan+UBSan build in $dir (log: $dir.log), tests under it (log: $dir.test.log)"
  if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc -DQTR_BUILD_TESTS=ON \
           -DQTR_WERROR=OFF -DCMAKE_C_FLAGS="$flags" >"$dir.log" 2>&1 &&
         cmake --build "$dir" -j "$jobs" >>"$dir.log" 2>&1; }; then
    echo "FAIL: the sanitizer build; its errors (full log: $dir.log):" >&2
    grep -E "error|Error" "$dir.log" | head -n 20 >&2
    return 1
  fi
  # e2e_indicators_plugin_link is left out: it builds a plugin with the
  # system cc against libqtr-indicators.a, which here holds sanitizer calls.
  under_sanitizers ctest --test-dir "$dir" -j "$jobs" --timeout 600 -LE 'stress|packaging|build|long' \
      -E '^e2e_indicators_plugin_link$' --output-on-failure >"$dir.test.log" 2>&1
  local rc=$? rerun=""
  if [ "$rc" -ne 0 ]; then
    # LeakSanitizer's own failure at exit (its tracer crashed, no check ran,
    # nothing found): those tests, and only when every failure is one, once more
    local retry failed
    retry=$(python3 tools/lsan_tool_failures.py "$dir/Testing/Temporary/LastTest.log")
    failed=$(sed -n '/The following tests FAILED:/,$p' "$dir.test.log" | grep -cE '^[[:space:]]+[0-9]+ - ')
    if [ -n "$retry" ] && [ "$(printf '%s\n' "$retry" | wc -l)" -eq "$failed" ]; then
      echo "   LeakSanitizer itself failed in: $(printf '%s ' $retry)(google/sanitizers#1353); once more:"
      under_sanitizers ctest --test-dir "$dir" --timeout 600 -R "^($(printf '%s\n' $retry | paste -sd '|'))\$" \
        --output-on-failure >>"$dir.test.log" 2>&1
      rc=$?
      rerun="; $failed of them after LeakSanitizer's own failure, passed once more"
    fi
  fi
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: tests under ASan+UBSan (full log: $dir.test.log):" >&2
    grep -E "\*\*\*|ERROR: (Address|Leak)Sanitizer|runtime error|SUMMARY:" "$dir.test.log" | head -n 40 >&2
  else
    # the whole run's count (the first summary), not the rerun's
    echo "   $(grep -E '^[0-9]+% tests passed' "$dir.test.log" | head -n 1) (sanitizers$rerun)"
  fi
  return "$rc"
}

stage build build_tests || { summary; exit 1; }
if [ "${QTR_TEST_MATRIX:-1}" != 0 ]; then
  stage release-gcc matrix_build Release gcc
  stage release-clang matrix_build Release clang
  stage debug-gcc matrix_build Debug gcc
  stage debug-clang matrix_build Debug clang
fi
if [ "${QTR_HARDENING:-1}" != 0 ]; then
  stage sanitizers sanitizer_run
  stage valgrind tools/valgrind.sh "$build"
  stage lint tools/lint.sh
  stage fuzz env QTR_FUZZ_BUILD="$(cd "$(dirname "$build")" && pwd)/$(basename "$build")-fuzz" tools/fuzz.sh all 30
fi
# the long tier (label long) only with --long, as the last stage
run_tests() {
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600 -LE long | tee "$build/ctest.log"
}
stage tests run_tests
tests_rc=$?
if [ "$long_tier" = 1 ]; then
  stage long ctest --test-dir "$build" --output-on-failure -L long --timeout 3600
fi
summary
# ctest's own count, once more as the last line ("N passed, N failed")
if line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$build/ctest.log" | tail -n 1); then
  total=${line##* out of }
  failed_n=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
  echo "$((total - failed_n)) passed, $failed_n failed"
fi
if [ ${#failed[@]} -eq 0 ]; then exit 0; fi
if [ "${failed[*]}" = tests ]; then exit "$tests_rc"; fi  # (a failed long stage: 1)
exit 1
