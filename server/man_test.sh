#!/usr/bin/env bash
# The man page against the binary and the README: every option --help prints (long and
# short) is in the rendered page and in README.md, and man renders the page without a
# warning. Registered with ctest (cmake/package.cmake) as server.man.
# usage: man_test.sh HTTPOWER_BINARY MAN_PAGE README
set -euo pipefail
bin=${1:?binary}
page=${2:?man page}
readme=${3:?README.md}
fail() { echo "man FAIL: $*" >&2; exit 1; }

# ASCII rendering (no hyphen or quote glyphs), backspace overstrikes removed.
text=$(LC_ALL=C MANWIDTH=100 man -l "$page" 2>/dev/null | col -b)
[ -n "$text" ] || fail "empty rendering of $page"
warnings=$(LC_ALL=C MANWIDTH=100 man --warnings -l "$page" 2>&1 >/dev/null || true)
[ -z "$warnings" ] || fail "man warns: $warnings"

mapfile -t longs < <("$bin" --help | grep -oE -- '(^|[ ,])--[a-z][a-z0-9-]*' | sed 's/^[ ,]*//' | sort -u)
mapfile -t shorts < <("$bin" --help | grep -oE -- '^  -[a-zA-Z],' | tr -d ' ,' | sort -u)
[ "${#longs[@]}" -ge 20 ] || fail "only ${#longs[@]} long options in --help"
for o in "${longs[@]}" "${shorts[@]}"; do
  grep -qe "$o\([^a-zA-Z0-9-]\|$\)" <<< "$text" || fail "$o is in --help but not in the man page"
done
for o in "${longs[@]}"; do
  grep -qe "$o\([^a-zA-Z0-9-]\|$\)" "$readme" || fail "$o is in --help but not in README.md"
done
grep -q "^NAME" <<< "$text" && grep -q "httpower - multi-threaded HTTP/1.1 static-file server" <<< "$text" ||
  fail "no NAME line"
grep -q "^FILES" <<< "$text" || fail "no FILES section"
echo "man: ${#longs[@]} long and ${#shorts[@]} short options of --help in the page and the README; no warning"
