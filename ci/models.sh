#!/usr/bin/env bash
# ci/models.sh [MODEL-GLOB]: exhaustive spin runs of proofs/models/*.pml.
#
# Each row below is: model | config name | spin -D flags | expectation.
#   pass   safety search (assertions + invalid end states, pan -DSAFETY): it must finish
#          with "errors: 0" and without truncation (pan exits 0 even when it finds an
#          error, so its output is what is checked);
#   np     non-progress cycle search (pan -DNP, ./pan -l) with no progress labels: any
#          cycle at all is an error, so "errors: 0" means every execution is finite
#          (with the safety row's valid end states: every execution terminates properly);
#   fail   a known-bug macro: the safety search must report errors > 0 (the model
#          catches the bug; a model that cannot fail proves nothing).
# A word "pan:FLAG" among the -D flags goes to pan instead of spin (e.g. pan:-E: no
# invalid-end-state check, for the SIGNAL=0 rows whose threads wait for ever by design).
# Every row fails on pan's own non-zero exit status and on "out of memory".
# Reachability: pan's unreached-code report of every pass / np row is kept; a line of a
# model that no pass / np row reaches fails the run, unless the line says why it is
# unreachable with the word "unreachable:" in a comment (the allow-list lives in the model,
# next to the code, with its reason).
# Every run happens in a scratch dir under build/models/ (never in the source tree); rows
# run two at a time (HTTPOWER_MODELS_JOBS), their table rows are printed in order.
# Prints a table (model, config, states, time, result) and exits non-zero if any row's
# expectation does not hold. proofs/models/README.md says what each model checks.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
filter=${1:-*}
ci/install-deps.sh >/dev/null

scratch=${HTTPOWER_MODELS_DIR:-$root/build/models}
pan_depth=${HTTPOWER_PAN_DEPTH:-100000}   # -m: a run that reaches it is truncated (FAILED)
pan_hash=${HTTPOWER_PAN_HASH:-22}         # -w: hash table 2^w slots (exhaustive either way)
jobs=${HTTPOWER_MODELS_JOBS:-2}           # rows run at once (2 cores)

rows=(
  # bounded_queue.pml: BoundedQueue<T> (core/include/httpower/bounded_queue.hpp)
  # CLOSE: 0 no close (fixed pop quotas), 1 close after producers joined, 2 close racing
  "bounded_queue|P1 C1 cap1 N2 no-close|-DP=1 -DC=1 -DCAP=1 -DN=2 -DCLOSE=0|pass"
  "bounded_queue|P2 C2 cap1 N2 no-close|-DP=2 -DC=2 -DCAP=1 -DN=2 -DCLOSE=0|pass"
  "bounded_queue|P1 C3 cap1 N3 close-after-join|-DP=1 -DC=3 -DCAP=1 -DN=3 -DCLOSE=1|pass"
  "bounded_queue|P2 C2 cap1 N2 close-racing|-DP=2 -DC=2 -DCAP=1 -DN=2 -DCLOSE=2|pass"
  "bounded_queue|P2 C1 cap2 N2 close-racing x2|-DP=2 -DC=1 -DCAP=2 -DN=2 -DCLOSE=2 -DCLOSE_TWICE|pass"
  "bounded_queue|P3 C1 cap1 N1 close-racing|-DP=3 -DC=1 -DCAP=1 -DN=1 -DCLOSE=2|pass"
  "bounded_queue|P1 C2 cap1 N2 close-racing spurious2|-DP=1 -DC=2 -DCAP=1 -DN=2 -DCLOSE=2 -DSPURIOUS=2|pass"
  "bounded_queue|P2 C2 cap1 N2 close-after-join timeouts2|-DP=2 -DC=2 -DCAP=1 -DN=2 -DCLOSE=1 -DTIMEOUTS=2|pass"
  "bounded_queue|P2 C2 cap1 N2 close-racing spurious1 timeouts1|-DP=2 -DC=2 -DCAP=1 -DN=2 -DCLOSE=2 -DSPURIOUS=1 -DTIMEOUTS=1|pass"
  "bounded_queue|bug SINGLE_CV P2 C2 cap1 no-close|-DSINGLE_CV -DP=2 -DC=2 -DCAP=1 -DN=2 -DCLOSE=0|fail"
  "bounded_queue|bug SINGLE_CV P2 C2 cap1 close-after-join|-DSINGLE_CV -DP=2 -DC=2 -DCAP=1 -DN=2 -DCLOSE=1|fail"
  "bounded_queue|bug CLOSE_NO_LOCK P1 C1 cap1 close-racing|-DCLOSE_NO_LOCK -DP=1 -DC=1 -DCAP=1 -DN=2 -DCLOSE=2|fail"
  "bounded_queue|bug CLOSE_NO_NOTIFY_ALL P1 C2 cap1 close-racing|-DCLOSE_NO_NOTIFY_ALL -DP=1 -DC=2 -DCAP=1 -DN=2 -DCLOSE=2|fail"
  "bounded_queue|bug POP_WAITERS_NOT_COUNTED P1 C1 cap1 no-close|-DPOP_WAITERS_NOT_COUNTED -DP=1 -DC=1 -DCAP=1 -DN=2 -DCLOSE=0|fail"
  "bounded_queue|bug PUSH_AFTER_CLOSE P1 C1 cap1 close-racing|-DPUSH_AFTER_CLOSE -DP=1 -DC=1 -DCAP=1 -DN=2 -DCLOSE=2|fail"
  "bounded_queue|bug POP_FROM_TAIL P1 C1 cap2 no-close|-DPOP_FROM_TAIL -DP=1 -DC=1 -DCAP=2 -DN=2 -DCLOSE=0|fail"
  "bounded_queue|no cycle: P2 C2 cap1 N2 close-racing|-DP=2 -DC=2 -DCAP=1 -DN=2 -DCLOSE=2|np"

  # connection_lifecycle.pml: acceptor, workers, poller, supervisor (server/server.cpp,
  # server/poller.cpp). K connections, W workers, R requests per connection; ENDS the
  # requests a client may send (1 keep-alive, 2 close, 4 with a half-close; default all);
  # proofs/models/README.md lists every parameter.
  "connection_lifecycle|K2 W1 cap1 R1|-DK=2 -DW=1 -DCAP=1 -DR=1|pass"
  "connection_lifecycle|K2 W2 cap1 R1 ends 1|-DK=2 -DW=2 -DCAP=1 -DR=1 -DENDS=1|pass"
  "connection_lifecycle|K3 W1 cap1 R1 ends 1 (queue full, held)|-DK=3 -DW=1 -DCAP=1 -DR=1 -DENDS=1|pass"
  "connection_lifecycle|K2 W1 cap1 R1 ends 1 timeouts|-DK=2 -DW=1 -DCAP=1 -DR=1 -DENDS=1 -DTIMEOUTS=1|pass"
  "connection_lifecycle|K2 W1 cap1 R1 ends 1 drain-deadline|-DK=2 -DW=1 -DCAP=1 -DR=1 -DENDS=1 -DDRAIN_DEADLINE=1|pass"
  "connection_lifecycle|K2 W1 cap1 R1 max-connections 1|-DK=2 -DW=1 -DCAP=1 -DR=1 -DMAXC=1|pass"
  "connection_lifecycle|K2 W1 cap1 R1 ends 3 EMFILE|-DK=2 -DW=1 -DCAP=1 -DR=1 -DENDS=3 -DEMFILE=1|pass"
  "connection_lifecycle|K2 W1 cap1 R1 ends 1 reset, epoll_ctl fails|-DK=2 -DW=1 -DCAP=1 -DR=1 -DENDS=1 -DRESETS=1 -DARMFAIL=1|pass"
  "connection_lifecycle|K2 W1 cap1 R2 ends 1 max-requests 1|-DK=2 -DW=1 -DCAP=1 -DR=2 -DENDS=1 -DMAXREQ=1|pass"
  "connection_lifecycle|no stop: K3 W1 cap1 R1 max-connections 2|-DK=3 -DW=1 -DCAP=1 -DR=1 -DMAXC=2 -DSIGNAL=0 pan:-E|pass"
  "connection_lifecycle|no stop: K3 W1 cap1 R1 (queue full, held)|-DK=3 -DW=1 -DCAP=1 -DR=1 -DSIGNAL=0 pan:-E|pass"
  "connection_lifecycle|no stop: K2 W1 cap1 R2 timeouts|-DK=2 -DW=1 -DCAP=1 -DR=2 -DTIMEOUTS=1 -DSIGNAL=0 pan:-E|pass"
  "connection_lifecycle|no stop: K2 W1 cap1 R1 ends 3 EMFILE|-DK=2 -DW=1 -DCAP=1 -DR=1 -DENDS=3 -DEMFILE=1 -DSIGNAL=0 pan:-E|pass"
  "connection_lifecycle|no cycle: K2 W1 cap1 R1 ends 1 timeouts|-DK=2 -DW=1 -DCAP=1 -DR=1 -DENDS=1 -DTIMEOUTS=1|np"
  "connection_lifecycle|bug PARK_WITHOUT_REARM K2 W1 R2|-DPARK_WITHOUT_REARM -DK=2 -DW=1 -DR=2|fail"
  "connection_lifecycle|bug PARK_WITHOUT_REARM K2 W1 R2 timeouts|-DPARK_WITHOUT_REARM -DK=2 -DW=1 -DR=2 -DTIMEOUTS=1|fail"
  "connection_lifecycle|bug CLOSE_QUEUE_BEFORE_ACCEPTOR_STOPS K1 W1|-DCLOSE_QUEUE_BEFORE_ACCEPTOR_STOPS -DK=1 -DW=1 -DR=1|fail"
  "connection_lifecycle|bug CLOSE_QUEUE_BEFORE_ACCEPTOR_STOPS K2 W2 R2|-DCLOSE_QUEUE_BEFORE_ACCEPTOR_STOPS -DK=2 -DW=2 -DR=2|fail"
  "connection_lifecycle|bug POLLER_PUSH_HOLDS_LOCK K3 W1 cap1|-DPOLLER_PUSH_HOLDS_LOCK -DK=3 -DW=1 -DCAP=1 -DR=1|fail"
  "connection_lifecycle|bug ARM_BEFORE_PARKED K2 W1 R2|-DARM_BEFORE_PARKED -DK=2 -DW=1 -DR=2|fail"
  "connection_lifecycle|bug SWEEP_CLOSES_BUSY K2 W1 R2|-DSWEEP_CLOSES_BUSY -DK=2 -DW=1 -DR=2|fail"
  "connection_lifecycle|bug ACCEPTOR_NO_RECHECK no stop K2 W1 max-connections 1|-DACCEPTOR_NO_RECHECK -DK=2 -DW=1 -DR=1 -DMAXC=1 -DSIGNAL=0 pan:-E|fail"
  "connection_lifecycle|bug HOLDING_AFTER_RETRY no stop K3 W1 cap1|-DHOLDING_AFTER_RETRY -DK=3 -DW=1 -DCAP=1 -DR=1 -DSIGNAL=0 pan:-E|fail"
  "connection_lifecycle|bug HELD_LOST_ON_STOP K3 W1 cap1 ends 1 drain-deadline|-DHELD_LOST_ON_STOP -DK=3 -DW=1 -DCAP=1 -DR=1 -DENDS=1 -DDRAIN_DEADLINE=1|fail"

  # wakeups.pml: the wake-ups that rest on atomics outside the queue, with store buffers
  # (a non-seq_cst store may become visible after the thread's later loads). PROTO picks
  # the protocol; proofs/INVARIANTS.md "Atomics outside the queue" states each pairing.
  "wakeups|1 acceptor_waiting_/live_ seq_cst|-DPROTO=1|pass"
  "wakeups|bug 1 ACC_WEAK flag store not seq_cst|-DPROTO=1 -DACC_WEAK|fail"
  "wakeups|bug 1 CLOSE_WEAK live_ decrement not seq_cst|-DPROTO=1 -DCLOSE_WEAK|fail"
  "wakeups|bug 1 NO_RECHECK acceptor skips the re-check|-DPROTO=1 -DNO_RECHECK|fail"
  "wakeups|2 draining_/live_ seq_cst, listener_closed_ relaxed|-DPROTO=2 -DLC_WEAK|pass"
  "wakeups|2 draining_/live_/listener_closed_ seq_cst|-DPROTO=2|pass"
  "wakeups|bug 2 SUP_WEAK draining_ store not seq_cst|-DPROTO=2 -DSUP_WEAK|fail"
  "wakeups|bug 2 CLOSE_WEAK live_ decrement not seq_cst|-DPROTO=2 -DCLOSE_WEAK|fail"
  "wakeups|bug 2 NOTIFY_FIRST notify before listener_closed_|-DPROTO=2 -DNOTIFY_FIRST|fail"
  "wakeups|3 holding_ seq_cst|-DPROTO=3|pass"
  "wakeups|3 holding_ relaxed (the queue mutex orders it)|-DPROTO=3 -DHOLD_WEAK|pass"
  "wakeups|bug 3 HOLDING_AFTER_RETRY|-DPROTO=3 -DHOLD_WEAK -DHOLDING_AFTER_RETRY|fail"
  "wakeups|bug 3 HOLDING_AFTER_RETRY seq_cst|-DPROTO=3 -DHOLDING_AFTER_RETRY|fail"
  "wakeups|4 watchers_/live_ seq_cst|-DPROTO=4|pass"
  "wakeups|bug 4 WATCH_WEAK watchers_ increment not seq_cst|-DPROTO=4 -DWATCH_WEAK|fail"
  "wakeups|bug 4 CLOSE_WEAK live_ decrement not seq_cst|-DPROTO=4 -DCLOSE_WEAK|fail"
  "wakeups|5 stop_requests_ seq_cst|-DPROTO=5|pass"
  "wakeups|5 stop_requests_ relaxed (the eventfd orders it)|-DPROTO=5 -DSTOP_WEAK|pass"
  "wakeups|bug 5 NOTIFY_FIRST notify before counting|-DPROTO=5 -DNOTIFY_FIRST|fail"
)

now() { date +%s.%N; }

# reach_lines DIR MODEL SPIN-FLAGS -> DIR/unreached: the source lines (NAME.pml:LINE) of
# the statements in pan's unreached-code report (but a "skip", reported as "(1)": it is
# folded into its guard, which is reported on its own); DIR/reached: the lines of the other
# statements (every statement, from spin -o3's transition table: no statement merging, the
# numbering of the report), so a line whose statement is reached in one inline expansion
# and not in another counts as reached
reach_lines() {
  local dir=$1 model=$2 flags=$3
  awk '/^unreached in proctype / {p = $4; next} /^unreached in init/ {p = ":init:"; next}
       p != "" && /^\t[^ (]+\.pml:[0-9]+, state [0-9]+,/ && !/, "\(1\)"$/ {
         split($0, a, ","); loc = a[1]; sub(/^\t/, "", loc); st = a[2]; sub(/ state /, "", st)
         print p, st, loc }
       /^pan: elapsed/ {p = ""}' "$dir/pan.out" | sort -u >"$dir/unreached.states"
  awk '{print $3}' "$dir/unreached.states" | sort -u >"$dir/unreached"
  mkdir -p "$dir/o3" && cp "$dir/$model.pml" "$dir/o3/"
  # shellcheck disable=SC2086  # flags are a list of words
  (cd "$dir/o3" && spin -a -o3 $flags "$model.pml" >/dev/null 2>&1)
  awk '/\/\* PROC / {p = $3; next}
       match($0, /\/\/ STATE [0-9]+ - [A-Za-z_0-9]+\.pml:[0-9]+ /) {
         split(substr($0, RSTART, RLENGTH), a, " "); print p, a[3], a[5] }' "$dir/o3/pan.m" |
    sort -u | awk 'NR == FNR {u[$1 " " $2] = 1; next} !(($1 " " $2) in u) {print $3}' \
      "$dir/unreached.states" - | sort -u >"$dir/reached"
}

# check_reached model -> 0 when every line that some pass / np row compiles but leaves
# unreached, and no pass / np row reaches, is marked "unreachable:" in the model; prints
# the others
check_reached() {
  local model=$1 pml="$root/proofs/models/$1.pml" common line n bad=0
  common=$(mktemp)
  comm -23 <(cat "$scratch/$model"-*/unreached 2>/dev/null | sort -u) \
    <(cat "$scratch/$model"-*/reached 2>/dev/null | sort -u) >"$common"
  while IFS= read -r line; do
    n=${line##*:}
    if ! sed -n "${n}p" "$pml" | grep -q 'unreachable:'; then
      echo "models: $model.pml:$n is reached by no row and not marked 'unreachable:': $(sed -n "${n}p" "$pml" | sed 's/^ *//')"
      bad=1
    fi
  done <"$common"
  rm -f "$common"
  return $bad
}

# run_one model name flags expect -> prints a table row; returns 1 if the expectation fails
run_one() {
  local model=$1 name=$2 flags=$3 expect=$4
  local dir="$scratch/$model-$(echo "$name" | tr -c 'A-Za-z0-9\n' '_')"
  local out="$dir/pan.out" t0 t1 states errors result ok=0 mode=-DSAFETY search="" opt=-O1
  local spin_flags="" pan_flags="" w rc
  for w in $flags; do
    case $w in pan:*) pan_flags+=" ${w#pan:}" ;; *) spin_flags+=" $w" ;; esac
  done
  if [ "$expect" = np ]; then mode=-DNP; search=-l; fi
  # a bug row stops at the first error: compiling pan.c is most of its time, so skip -O
  if [ "$expect" = fail ]; then opt=-O0; fi
  rm -rf "$dir" && mkdir -p "$dir" && cp "$root/proofs/models/$model.pml" "$dir/"
  t0=$(now)
  # shellcheck disable=SC2086  # flags are a list of words
  if ! (cd "$dir" && spin -a $spin_flags "$model.pml" >spin.out 2>&1); then
    result="ERROR spin -a (see $dir/spin.out)"
  elif ! (cd "$dir" && gcc -w "$opt" "$mode" -DVECTORSZ=4096 -o pan pan.c >gcc.out 2>&1); then
    result="ERROR gcc (see $dir/gcc.out)"
  else
    # shellcheck disable=SC2086  # pan_flags are a list of words
    (cd "$dir" && ./pan $search $pan_flags -m"$pan_depth" -w"$pan_hash" >pan.out 2>&1)
    rc=$?
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | tail -1)
    states=$(awk '/states, stored/ {print $1; exit}' "$out")
    if [ "$expect" != fail ]; then reach_lines "$dir" "$model" "$spin_flags"; fi
    if grep -qi 'out of memory' "$out"; then
      result="FAILED pan ran out of memory (see $out)"
    elif [ "$rc" != 0 ]; then
      result="FAILED pan exit status $rc (see $out)"
    elif [ -z "$errors" ]; then
      result="ERROR no pan verdict (see $out)"
    elif grep -q 'max search depth too small' "$out" && [ "$errors" = 0 ]; then
      result="FAILED search truncated at -m$pan_depth"
    elif [ "$expect" != fail ]; then
      if [ "$errors" = 0 ]; then result="ok: errors 0$([ "$expect" = np ] && echo ", no cycle")"; ok=1; else
        result="FAILED: $(grep -m1 -E '^pan:[0-9]+:|pan: ' "$out" | sed 's/^pan:[0-9]*: *//') (trail in $dir)"
      fi
    else
      if [ "$errors" -gt 0 ]; then
        ok=1
        result="ok: caught, $(grep -m1 -E '^pan:[0-9]+:' "$out" | sed 's/^pan:[0-9]*: *//; s/ (at depth.*//')"
      else
        result="FAILED: bug not caught (errors 0)"
      fi
    fi
  fi
  t1=$(now)
  printf '%-20s %-58s %10s %6.1fs  %s\n' "$model" "$name" "${states:--}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "$result"
  [ "$ok" = 1 ]
}

printf '%-20s %-58s %10s %7s  %s\n' model config states time result
bad=0; n=0; t_all=$SECONDS; models_run=(); results=()
mkdir -p "$scratch"
for row in "${rows[@]}"; do
  IFS='|' read -r model name flags expect <<<"$row"
  # shellcheck disable=SC2053  # the filter is a glob on purpose
  [[ $model == $filter ]] || continue
  if [[ " ${models_run[*]} " != *" $model "* ]]; then
    models_run+=("$model")
    rm -rf "$scratch/$model"-*
  fi
  # $jobs rows at a time; each prints its table row into its own file, shown in order
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  res=$(mktemp "$scratch/row.XXXXXX")
  (run_one "$model" "$name" "$flags" "$expect" >"$res"; echo $? >"$res.rc") &
  results+=("$res"); n=$((n + 1))
done
wait
for res in "${results[@]}"; do
  cat "$res"
  [ "$(cat "$res.rc" 2>/dev/null)" = 0 ] || bad=1
  rm -f "$res" "$res.rc"
done
for model in "${models_run[@]}"; do
  if check_reached "$model"; then
    echo "models: every line of $model.pml is reached by some row, or marked unreachable"
  else
    bad=1
  fi
done
echo "models: $n runs in $((SECONDS - t_all))s, $([ $bad = 0 ] && echo 'all as expected' || echo 'SOME FAILED')"
[ "$n" -gt 0 ] || { echo "models: no row matched '$filter'" >&2; exit 1; }
exit $bad
