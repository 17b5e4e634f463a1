#!/usr/bin/env bash
# The project's test command (`npm test`): type-check, then every tap test. It ends with the
# plain line `tests: N passed, N failed` that CI reads, and exits non-zero on any failure.
set -u -o pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

typecheck_failed=0
echo "typecheck: tsc --noEmit"
if ! npx --no-install tsc --noEmit -p .; then
  typecheck_failed=1
  echo "typecheck: FAILED"
fi

npx --no-install tap "$@" 2>&1 | tee "$log"
tap_status=${PIPESTATUS[0]}

# tap's closing summary: "# { total: 517, pass: 510, fail: 2, skip: 5 }"
summary=$(grep -E '^# \{ total: ' "$log" | tail -n 1)
passed=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
passed=${passed:-0}
failed=${failed:-0}
if [ "$tap_status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
failed=$((failed + typecheck_failed))
[ "$typecheck_failed" -eq 0 ] && passed=$((passed + 1))
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
