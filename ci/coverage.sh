#!/usr/bin/env bash
# ci/coverage.sh: builds the coverage preset (g++ --coverage), runs the whole test suite, and
# prints line and branch coverage for core/ and server/ (production sources only: tests,
# stress programs and test support are left out). Fails when a figure falls below its floor
# in ci/coverage-floors.txt (the measured figure minus a small margin), so a change that
# leaves code untested is seen. HTML detail: build/coverage/coverage.html. Then lists each
# branch of core/ never taken that docs/coverage.md does not explain (ci/coverage-gaps.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
ci/install-deps.sh >/dev/null
rm -rf build/coverage
echo "=== preset coverage"
cmake --workflow --preset coverage
gcov_args=(--root . --object-directory build/coverage --exclude '.*_test\.cpp$'
           --exclude '.*_prop\.cpp$' --exclude '.*_fuzzer\.cpp$' --exclude 'build/.*'
           --exclude 'server/test_support\.hpp$' --exclude-unreachable-branches --exclude-throw-branches)
summary() {  # summary DIR -> "lines branches" (percent, one decimal)
  # -o names a scratch file: gcovr replaces its output path, and /dev/null given there
  # becomes a regular file for every later process on the machine.
  gcovr "${gcov_args[@]}" --filter "$1/" --print-summary -o build/coverage/summary.txt 2>/dev/null |
    awk '/^lines:/ {l=$2} /^branches:/ {b=$2} END {gsub("%","",l); gsub("%","",b); print l, b}'
}
gcovr "${gcov_args[@]}" --filter 'core/' --filter 'server/' --html-details build/coverage/coverage.html >/dev/null 2>&1 || true
fail=0
printf '%-8s %8s %8s   %s\n' dir lines branches "floor (lines branches)"
while read -r dir lfloor bfloor; do
  case "$dir" in ''|'#'*) continue ;; esac
  read -r l b < <(summary "$dir")
  ok=$(awk -v l="$l" -v b="$b" -v lf="$lfloor" -v bf="$bfloor" 'BEGIN {print (l >= lf && b >= bf) ? "ok" : "BELOW"}')
  printf '%-8s %7s%% %7s%%   %s %s %s\n' "$dir" "$l" "$b" "$lfloor" "$bfloor" "$ok"
  [ "$ok" = ok ] || fail=1
done < ci/coverage-floors.txt
# Every line of core/ with a branch never taken, and the ones docs/coverage.md gives no reason for.
gcovr "${gcov_args[@]}" --filter 'core/' --json -o build/coverage/core.json >/dev/null 2>&1 || true
ci/coverage-gaps.py build/coverage/core.json core/ docs/coverage.md >build/coverage/core-gaps.txt || true
echo "core/: $(grep -vc '^NOT IN DOC' build/coverage/core-gaps.txt) lines with a branch not taken (build/coverage/core-gaps.txt); without a reason in docs/coverage.md:"
grep '^NOT IN DOC' build/coverage/core-gaps.txt || echo "  none"
exit $fail
