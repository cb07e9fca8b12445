#!/usr/bin/env bash
# The test command: typecheck, then every test file (unit, namespace,
# containerd, UML) through tap. Ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json || { echo "typecheck: 0 passed, 1 failed"; exit 1; }
out=$(mktemp)
npx tap "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: [0-9]+' "$out" | tail -1)
rm -f "$out"
num() { sed -nE "s/.*[{ ,]$1: ([0-9]+).*/\1/p" <<<"$summary"; }
pass=$(num pass); fail=$(num fail); skip=$(num skip); todo=$(num todo)
echo "tests: ${pass:-0} passed, ${fail:-0} failed, $(( ${skip:-0} + ${todo:-0} )) skipped"
exit "$rc"
