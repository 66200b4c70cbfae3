#!/usr/bin/env bash
# Fuzz one target, or each in turn, with libFuzzer (clang, ASan, UBSan).
#   tools/fuzz.sh TARGET SECONDS      e.g. tools/fuzz.sh csv 600
#   tools/fuzz.sh all SECONDS         every target, SECONDS each (CI: 30)
#   tools/fuzz.sh list                the targets
# Builds in $QTR_FUZZ_BUILD (default: a folder beside the checkout's parent
# temp dir, never inside the checkout). New inputs go to the build folder's
# corpus; a crash is saved there and makes the exit status 1: copy it into
# tests/fuzz/corpus/TARGET/ with the fix, so it stays a regression test.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
targets=$(sed -n 's/^qtr_add_fuzz(\([a-z_0-9]*\).*/\1/p' "$src/tests/fuzz/CMakeLists.txt")

usage() { echo "usage: tools/fuzz.sh TARGET|all SECONDS | list   (targets: $(echo $targets))" >&2; exit 2; }
[ $# -ge 1 ] || usage
if [ "$1" = list ]; then echo "$targets"; exit 0; fi
[ $# -eq 2 ] || usage
what=$1 secs=$2
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SECONDS must be a positive whole number, not '$secs'" >&2; exit 2; }
if [ "$what" = all ]; then run=$targets; else
  echo "$targets" | grep -qx "$what" || { echo "fuzz.sh: unknown target '$what' (targets: $(echo $targets))" >&2; exit 2; }
  run=$what
fi
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (tools/install-deps.sh --test)" >&2; exit 2; }

build=${QTR_FUZZ_BUILD:-${TMPDIR:-/tmp}/qtr-fuzz-build}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
CC=clang cmake -S "$src" -B "$build" -DQTR_FUZZ=ON -DQTR_WERROR=OFF -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="$flags" >/dev/null
cmake --build "$build" -j "$(nproc)" --target $(for t in $run; do printf 'fuzz_%s ' "$t"; done) >/dev/null

# The project folders a target also takes seeds from (SEEDS in its CMakeLists line).
seeds_of() {
  local line
  line=$(grep -E "^qtr_add_fuzz\($1[ )]" "$src/tests/fuzz/CMakeLists.txt" | grep -oE 'SEEDS [^)]*' || true)
  for d in ${line#SEEDS }; do printf '%s ' "$src/$d"; done
}

status=0
for t in $run; do
  work="$build/fuzz-work/$t"
  # artifacts of an earlier run would be counted as this run's: clear them
  rm -rf "$work/artifacts"
  mkdir -p "$work/corpus" "$work/artifacts"
  log="$work/last.log"
  echo "== fuzz $t for ${secs}s"
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$src/tests/fuzz/corpus/$t" \
    $(seeds_of "$t") >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  crashes=$(find "$work/artifacts" -type f | wc -l)
  echo "   execs ${execs:-?}  execs/s ${rate:-?}  ${cov:-cov: ?}  crashes/timeouts saved: $crashes  (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    status=1
    { grep -E 'ERROR|fuzz check failed|runtime error|SUMMARY|Test unit written' "$log" || true; } | head -8 | sed 's/^/   /'
    echo "   log: $log; artifacts: $work/artifacts/"
  fi
done
exit $status
