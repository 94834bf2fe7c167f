#!/usr/bin/env bash
# run_traced.sh PROGRAM [ARGS...]: runs a test program with HTTPOWER_TRACE set, so that every
# httpower server it starts (as a child process or in process) writes its hand-off trace when
# it stops, then replays each trace with lifecycle_reference.py (the transition rules of
# connection_lifecycle.pml). Fails when the program fails, when no server wrote a trace, or
# when a trace takes a step the model does not allow (the traces are replayed whether or not
# the program passed); a failing run keeps its traces and prints where they are.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/httpower-trace.XXXXXX")
HTTPOWER_TRACE="$dir/trace.%p" "$@"
status=$?
shopt -s nullglob
traces=("$dir"/trace.*)
verdict=0
if [ ${#traces[@]} -eq 0 ]; then
  echo "run_traced: no server wrote a trace (traces expected in $dir)"
  verdict=1
elif ! python3 -B "$here/lifecycle_reference.py" "${traces[@]}" >"$dir/report" 2>&1; then
  grep VIOLATION "$dir/report" | head -5
  echo "run_traced: FAIL: a trace breaks connection_lifecycle.pml (traces kept in $dir)"
  verdict=1
else
  events=$(sed -n 's/.*: \([0-9]*\) events follow.*/\1/p' "$dir/report" | awk '{n += $1} END {print n}')
  echo "run_traced: ${#traces[@]} traces, $events events, every step allowed by connection_lifecycle.pml"
fi
if [ "$status" -ne 0 ]; then
  echo "run_traced: $1 exited with status $status (traces kept in $dir)"
  exit "$status"
fi
[ "$verdict" -eq 0 ] && rm -rf "$dir"
exit "$verdict"
