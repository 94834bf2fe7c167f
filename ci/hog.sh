#!/usr/bin/env bash
# ci/hog.sh [PRESET]: the checks that involve time, run again and again while a CPU hog keeps
# every core busy. A check that fails here without a defect is a flaky check (docs/stress.md,
# "Under a CPU hog"); every check must hold on a loaded machine.
#
# Each run is one ctest invocation of the preset (default unless given; its test preset's
# environment: scale, TSAN_OPTIONS) with a fresh seed HTTPOWER_SEED=base+i, printed; every
# stress program (and every test that reads HTTPOWER_SEED) takes it, so a failing run is
# repeated with the seed it printed. Runs (all bounded by ctest's timeouts):
#   HTTPOWER_HOG_RUNS (3)         runs of the stress label (ctest -L stress)
#   HTTPOWER_HOG_TIMING_RUNS (5)  runs of a seeded sample of HTTPOWER_HOG_SAMPLE (16) tests
#                                 from the timing-sensitive server and queue tests
#                                 (HTTPOWER_HOG_TIMING_REGEX, the timeouts, deadlines,
#                                 drains and blocking waits)
#   HTTPOWER_HOG_SUITE_RUNS (0)   runs of the whole suite (the local campaign)
#   HTTPOWER_SEED                 the base seed (random when unset)
#   HTTPOWER_HOG_WORKERS (nproc)  hog processes: stress-ng --cpu N, or busy loops without it
# Every run is made, then a summary; the exit status is non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
preset=${1:-default}
runs=${HTTPOWER_HOG_RUNS:-3}
timing_runs=${HTTPOWER_HOG_TIMING_RUNS:-5}
suite_runs=${HTTPOWER_HOG_SUITE_RUNS:-0}
sample=${HTTPOWER_HOG_SAMPLE:-16}
workers=${HTTPOWER_HOG_WORKERS:-$(nproc)}
timing_regex=${HTTPOWER_HOG_TIMING_REGEX:-'^(Concurrency|Shutdown)\.|^Serve\.(HeaderTimeout|IdleKeepAlive|SendTimeout|StalledDownload|FastDownload|MaxRequests|GracefulStop|C3_)|^BoundedQueue\.Q[456]'}
base=${HTTPOWER_SEED:-$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) ))}

run=()
if [ "$preset" = tsan ]; then
  # ThreadSanitizer dies with "unexpected memory mapping" when vm.mmap_rnd_bits > 28.
  bits=$(sysctl -n vm.mmap_rnd_bits 2>/dev/null || echo 0)
  if [ "$bits" -gt 28 ]; then
    sysctl -qw vm.mmap_rnd_bits=28 2>/dev/null || run=(setarch "$(uname -m)" -R)
  fi
fi
ci/install-deps.sh >/dev/null
echo "=== hog: preset $preset, build"
{ cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" >/dev/null; } ||
  { echo "hog: build of $preset failed"; exit 1; }

# The hog: one CPU-bound process per core, bounded (it ends by itself after an hour even if
# this script is killed) and stopped by its pid when the runs are done.
hog_pids=()
stop_hog() { [ ${#hog_pids[@]} -eq 0 ] || kill "${hog_pids[@]}" 2>/dev/null; wait "${hog_pids[@]}" 2>/dev/null; hog_pids=(); }
trap stop_hog EXIT
if command -v stress-ng >/dev/null; then
  stress-ng --cpu "$workers" --timeout 3600s --quiet &
  hog_pids+=($!)
  hog="stress-ng --cpu $workers"
else
  for _ in $(seq "$workers"); do
    timeout 3600 bash -c 'while :; do :; done' &
    hog_pids+=($!)
  done
  hog="$workers busy loops"
fi
echo "=== hog: $hog; base seed $base (HTTPOWER_SEED=$base to repeat)"

results=(); failed=0; i=0
one_run() {  # one_run KIND CTEST-ARGS...
  local kind=$1 t0=$SECONDS seed r; shift
  i=$((i + 1)); seed=$((base + i))
  echo "--- hog run $i ($kind) seed $seed: ctest $*"
  if HTTPOWER_SEED=$seed "${run[@]}" ctest --preset "$preset" "$@"; then r=ok; else r=FAILED; failed=$((failed + 1)); fi
  # The stress programs' summary lines (latencies, cut times, exit times under the hog).
  grep -h '_stress: requests=' "build/$preset/Testing/Temporary/LastTest.log" 2>/dev/null | cut -c1-400
  results+=("$(printf 'run %-3d %-7s %-7s seed %-20s %4ds' "$i" "$kind" "$r" "$seed" $((SECONDS - t0)))")
}

mapfile -t timing_tests < <(ctest --preset "$preset" -N -R "$timing_regex" 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: //p')
pick_sample() {  # pick_sample SEED: $sample of the timing tests, chosen by SEED
  local keyed=() t
  RANDOM=$1
  for t in "${timing_tests[@]}"; do keyed+=("$RANDOM $t"); done  # no $(...): it would reseed
  printf '%s\n' "${keyed[@]}" | sort -n | head -n "$sample" | cut -d' ' -f2-
}
t_start=$SECONDS
for _ in $(seq "$suite_runs"); do one_run suite; done
for _ in $(seq "$runs"); do one_run stress -L stress; done
for _ in $(seq "$timing_runs"); do
  # The sample: $sample timing-sensitive tests, chosen by this run's seed.
  [ ${#timing_tests[@]} -gt 0 ] && picked=$(pick_sample "$((base + i + 1))") || picked=
  [ -n "$picked" ] || { echo "hog: no test matches $timing_regex"; failed=$((failed + 1)); break; }
  one_run timing -R "^($(printf '%s\n' "$picked" | sed 's/[.[\*^$()+?{|]/\\&/g' | paste -sd '|'))\$"
done
stop_hog

echo "=== hog summary: preset $preset, $hog, base seed $base, $((SECONDS - t_start)) s"
printf '%s\n' "${results[@]}"
echo "hog: $(( ${#results[@]} - failed )) of ${#results[@]} runs passed"
[ "$failed" -eq 0 ]
