#!/usr/bin/env bash
# ci/mutants.sh [NAME-GLOB]: shows that the checks can fail. Each ci/mutants/*.patch breaks one
# invariant on purpose; the checks it names must then fail. A surviving mutant fails CI.
#
# Mutant file format: a unified diff (patch -p1, against the repo root) preceded by headers:
#   # mutant: what the mutant does
#   # invariant: Q6                      (the invariant it breaks)
#   # preset: default                    (optional; default | tsan | asan)
#   # build: target [target...]          (the cmake targets the checks need)
#   # check: COMMAND                     (one or more; run in the preset's build dir)
# The mutant is KILLED when any check exits non-zero or times out. A mutant that does not
# apply or does not compile is an ERROR (it proves nothing), and so is a check that fails on
# the unmutated source (it would "kill" everything).
#
# Work happens in a scratch copy under build/mutants/<preset>/, built incrementally: each
# mutant is applied, its targets rebuilt, its checks run, and the patch reverted.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source ci/env.sh
filter=${1:-*}
check_timeout=${HTTPOWER_MUTANT_CHECK_TIMEOUT:-120}
export HTTPOWER_TEST_SCALE=${HTTPOWER_TEST_SCALE:-0.3}
export HTTPOWER_STRESS_SCALE=${HTTPOWER_STRESS_SCALE:-0.3}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}

header() { sed -n "s/^# $2: //p" "$1"; }

scratch_for() {  # preset -> prepared scratch source dir (copied once per run)
  local preset=$1 dir=$root/build/mutants/$1
  if [ ! -f "$dir/.copied" ]; then
    mkdir -p "$dir/src"
    (cd "$root" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$dir/src" -xf -
    touch "$dir/.copied"
    (cd "$dir/src" && cmake --preset "$preset" -DHTTPOWER_BENCH=OFF >"$dir/configure.log" 2>&1) ||
      { echo "configure failed for $preset (see $dir/configure.log)" >&2; return 1; }
  fi
  echo "$dir/src"
}

declare -A baseline_ok=()  # preset|check -> 1 once it passed on the unmutated source

# run_checks BDIR MUTANT [baseline]: returns 0 if a check failed, naming it in $hit. No
# subshell, so that baseline_ok survives between calls.
run_checks() {
  local bdir=$1 m=$2 mode=${3:-} c key
  while IFS= read -r c; do
    [ -n "$c" ] || continue
    key="$bdir|$c"
    if [ "$mode" = baseline ] && [ -n "${baseline_ok[$key]:-}" ]; then continue; fi
    if ! (cd "$bdir" && timeout "$check_timeout" bash -c "$c" >>"$bdir/../mutant-check.log" 2>&1) 2>/dev/null; then
      hit=$c; return 0
    fi
    [ "$mode" = baseline ] && baseline_ok[$key]=1
  done < <(header "$m" check)
  return 1
}

rm -rf "$root/build/mutants"
rows=(); bad=0; n=0; hit=
shopt -s nullglob
for m in "$root"/ci/mutants/$filter.patch; do
  n=$((n + 1))
  name=$(basename "$m" .patch)
  preset=$(header "$m" preset); preset=${preset:-default}
  inv=$(header "$m" invariant)
  src=$(scratch_for "$preset") || { rows+=("$name|$inv|ERROR|configure failed"); bad=1; continue; }
  bdir=$src/build/$preset
  targets=$(header "$m" build)
  # Baseline once per mutant's targets: the checks must pass on the unmutated source.
  if ! cmake --build "$bdir" --target $targets >"$bdir/../build.log" 2>&1; then
    rows+=("$name|$inv|ERROR|unmutated build failed"); bad=1; continue
  fi
  if run_checks "$bdir" "$m" baseline; then
    rows+=("$name|$inv|ERROR|check fails without the mutant: $hit"); bad=1; continue
  fi
  if ! (cd "$src" && patch -s -p1 --no-backup-if-mismatch <"$m" >/dev/null); then
    rows+=("$name|$inv|ERROR|patch does not apply"); bad=1; continue
  fi
  if ! cmake --build "$bdir" --target $targets >"$bdir/../build.log" 2>&1; then
    rows+=("$name|$inv|ERROR|mutant does not compile"); bad=1
  elif run_checks "$bdir" "$m"; then
    rows+=("$name|$inv|killed|$hit")
  else
    rows+=("$name|$inv|SURVIVED|-"); bad=1
  fi
  (cd "$src" && patch -s -p1 -R --no-backup-if-mismatch <"$m" >/dev/null) ||
    { echo "cannot revert $name" >&2; exit 1; }
done

echo "=== mutants: $n"
printf '%-40s %-10s %-9s %s\n' "mutant" "invariant" "result" "killed by"
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d <<<"$r"
  printf '%-40s %-10s %-9s %s\n' "$a" "$b" "$c" "$d"
done
[ "$n" -gt 0 ] || { echo "no mutants found"; exit 1; }
exit $bad
