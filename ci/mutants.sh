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
# The mutant is KILLED when one of its checks exits non-zero or times out on the mutant, and
# that check (the "killed by" column) passed on the unmutated source in this run and never
# failed there. Each check runs on the unmutated source before the first mutant that names it
# (again before the next one while it has not passed). A check that fails there is FLAKY: it
# fails without a defect, so its kills prove nothing. Flaky checks are listed and fail the
# run; a mutant whose only killers are flaky checks is a FLAKY-KILL, also a failure, and the
# mutant's remaining checks still run after a flaky killer, looking for a sound one. A
# mutant that does not apply or does not compile is an ERROR (it proves nothing).
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
declare -A flaky=()        # preset|check -> 1 once it failed on the unmutated source

# run_checks BDIR MUTANT [baseline]: with baseline, runs each check not yet passed on the
# unmutated source (a failure marks it flaky, the others still run); without, runs the checks
# on the mutant until one fails that is not known to be flaky. Sets $killers to the failing
# checks, separated by $sep. No subshell, so that baseline_ok and flaky survive between calls.
run_checks() {
  local bdir=$1 m=$2 mode=${3:-} c key
  killers=
  while IFS= read -r c; do
    [ -n "$c" ] || continue
    key="$bdir|$c"
    if [ "$mode" = baseline ] && [ -n "${baseline_ok[$key]:-}" ]; then continue; fi
    echo "=== ${mode:-mutant} $(basename "$m" .patch): $c" >>"$bdir/../mutant-check.log"
    if (cd "$bdir" && timeout "$check_timeout" bash -c "$c" >>"$bdir/../mutant-check.log" 2>&1) 2>/dev/null; then
      [ "$mode" = baseline ] && baseline_ok[$key]=1
      continue
    fi
    killers+="${killers:+$sep}$c"
    if [ "$mode" = baseline ]; then
      flaky[$key]=1
      flaky_list+=("$c (on the unmutated source, before $(basename "$m" .patch))")
    elif [ -n "${baseline_ok[$key]:-}" ] && [ -z "${flaky[$key]:-}" ]; then
      return 0
    fi
  done < <(header "$m" check)
  [ -n "$killers" ]
}

rm -rf "$root/build/mutants"
rows=(); bad=0; n=0; killers=; flaky_list=(); sep=$'\x1f'  # rows: name|inv|result|bdir|killers
shopt -s nullglob
for m in "$root"/ci/mutants/$filter.patch; do
  n=$((n + 1))
  name=$(basename "$m" .patch)
  preset=$(header "$m" preset); preset=${preset:-default}
  inv=$(header "$m" invariant)
  src=$(scratch_for "$preset") || { rows+=("$name|$inv|ERROR||configure failed"); bad=1; continue; }
  bdir=$src/build/$preset
  targets=$(header "$m" build)
  # Baseline once per check and run: the checks must pass on the unmutated source.
  if ! cmake --build "$bdir" --target $targets >"$bdir/../build.log" 2>&1; then
    rows+=("$name|$inv|ERROR||unmutated build failed"); bad=1; continue
  fi
  run_checks "$bdir" "$m" baseline
  if ! (cd "$src" && patch -s -p1 --no-backup-if-mismatch <"$m" >/dev/null); then
    rows+=("$name|$inv|ERROR||patch does not apply"); bad=1; continue
  fi
  if ! cmake --build "$bdir" --target $targets >"$bdir/../build.log" 2>&1; then
    rows+=("$name|$inv|ERROR||mutant does not compile"); bad=1
  elif run_checks "$bdir" "$m"; then
    rows+=("$name|$inv|killed|$bdir|$killers")
  else
    rows+=("$name|$inv|SURVIVED||-"); bad=1
  fi
  (cd "$src" && patch -s -p1 -R --no-backup-if-mismatch <"$m" >/dev/null) ||
    { echo "cannot revert $name" >&2; exit 1; }
done

# The verdict, once every baseline of the run is known: a kill counts only through a check that
# passed on the unmutated source and never failed there (the first such killer is named).
echo "=== mutants: $n"
printf '%-40s %-10s %-10s %s\n' "mutant" "invariant" "result" "killed by"
for r in "${rows[@]}"; do
  IFS='|' read -r a b c e d <<<"$r"
  if [ "$c" = killed ]; then
    sound=; IFS=$sep read -r -a ks <<<"$d"
    for k in "${ks[@]}"; do
      if [ -n "${baseline_ok[$e|$k]:-}" ] && [ -z "${flaky[$e|$k]:-}" ]; then sound=$k; break; fi
    done
    if [ -n "$sound" ]; then d=$sound; else c=FLAKY-KILL; d="only flaky: ${d//$sep/, }"; bad=1; fi
  fi
  printf '%-40s %-10s %-10s %s\n' "$a" "$b" "$c" "$d"
done
if [ ${#flaky_list[@]} -gt 0 ]; then
  echo "=== FLAKY: checks that failed on the unmutated source (fix them; their kills do not count)"
  printf '  %s\n' "${flaky_list[@]}"
  bad=1
fi
[ "$n" -gt 0 ] || { echo "no mutants found"; exit 1; }
exit $bad
