#!/usr/bin/env bash
# cppcheck over our C (host/, plugins/, sdk/, tests/support/) on the rule set
# in .cppcheck (why each rule: docs/hardening.md). Exit 1 on any finding.
# A finding is fixed, or suppressed inline on its line with the reason:
#   // cppcheck-suppress <id> ; why it is not a bug
#   tools/lint.sh              every file
#   tools/lint.sh FILE...      only these
set -uo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
cd "$src" || exit 2
command -v cppcheck >/dev/null || { echo "lint.sh: cppcheck is needed (tools/install-deps.sh --test)" >&2; exit 2; }
# .cppcheck: one option a line, # comments
mapfile -t opts < <(sed -e 's/[[:space:]]*#.*//' -e '/^[[:space:]]*$/d' .cppcheck)
if [ $# -gt 0 ]; then files=("$@"); else files=(host plugins sdk tests/support); fi
cppcheck "${opts[@]}" -j "$(nproc)" --error-exitcode=1 "${files[@]}"
rc=$?
[ "$rc" -eq 0 ] && echo "lint.sh: cppcheck $(cppcheck --version | sed 's/Cppcheck //'): no findings"
exit "$rc"
