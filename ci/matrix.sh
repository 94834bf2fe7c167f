#!/usr/bin/env bash
# The wider matrix after the README's test command: sanitizer presets, fuzz smoke, the
# timing checks under a CPU hog, spin models, the Debian package, the demo site in a headless
# browser, mutants. Runs every step, prints a summary, exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
steps=("ci/preset.sh asan" "ci/preset.sh tsan" "ci/preset.sh fuzz" "ci/hog.sh" "ci/coverage.sh" "ci/models.sh" "ci/package.sh" "ci/browser.sh" "ci/mutants.sh")
[ -n "${HTTPOWER_MATRIX_STEPS:-}" ] && IFS=',' read -r -a steps <<< "$HTTPOWER_MATRIX_STEPS"
results=()
failed=0
for s in "${steps[@]}"; do
  t0=$SECONDS
  if $s; then r=ok; else r=FAILED; failed=1; fi
  results+=("$(printf '%-22s %-7s %4ds' "$s" "$r" $((SECONDS - t0)))")
done
echo "=== matrix summary"
printf '%s\n' "${results[@]}"
exit $failed
