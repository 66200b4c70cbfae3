#!/usr/bin/env bash
# tools/test.sh's options: --long adds the long stage, --list prints the stages
# and exits (nothing built), an unknown option is refused with exit 2.
# usage: check_test_sh_options.sh SOURCE_DIR
set -u
sh="$1/tools/test.sh" fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
out=$("$sh" --list) || fail "--list exits $?"
[ "$out" = "stages: build release-gcc release-clang debug-gcc debug-clang sanitizers valgrind lint fuzz tests" ] || fail "--list: '$out'"
out=$("$sh" --long --list) || fail "--long --list exits $?"
[ "${out##* }" = long ] || fail "--long makes long the last stage: '$out'"
out=$(QTR_HARDENING=0 QTR_TEST_MATRIX=0 "$sh" --list --long)
[ "$out" = "stages: build tests long" ] || fail "QTR_HARDENING=0 QTR_TEST_MATRIX=0 --long: '$out'"
"$sh" --help | grep -q -- '--long' || fail "--help names --long"
err=$("$sh" --lnog --list 2>&1 >/dev/null); rc=$?
[ "$rc" = 2 ] || fail "an unknown option exits 2, got $rc"
echo "$err" | grep -q "unknown option '--lnog'" || fail "the refusal names the option: '$err'"
if [ "$fails" = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, $fails failed"; exit 1; fi
