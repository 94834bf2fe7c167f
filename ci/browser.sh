#!/usr/bin/env bash
# ci/browser.sh [--server-args 'ARGS'] [--only CHECK,...]: the demo site in a real browser.
# Installs headless Chromium, its WebDriver and Selenium (ci/install-deps.sh browser; the
# README's test command needs none of them), builds httpower (default preset) unless
# HTTPOWER_BIN names one, makes the demo's large file (ci/demo-files.sh), then runs
# ci/browser.py: HTTPower serves www/ on 127.0.0.1 and an ephemeral port, Chromium loads the
# pages and the checks look at what a person sees. Screenshots (PNG), the server's output and
# access log go to build/artifacts/browser/ (HTTPOWER_ARTIFACTS overrides), which CI keeps.
# Bounded: every wait in the browser has a deadline, and the whole run is killed after
# HTTPOWER_BROWSER_TIMEOUT seconds (default 170), server and browser included.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
ci/install-deps.sh browser >/dev/null
bin=${HTTPOWER_BIN:-}
if [ -z "$bin" ]; then
  bin=build/default/server/httpower
  [ -f build/default/build.ninja ] || cmake --preset default >/dev/null
  cmake --build build/default -j2 --target httpower >/dev/null
fi
ci/demo-files.sh
art=${HTTPOWER_ARTIFACTS:-build/artifacts/browser}
rm -rf "$art" && mkdir -p "$art"
echo "browser: screenshots and logs go to $PWD/$art"
# timeout runs the test in its own process group and signals the whole group: Chromium, its
# driver and the server go too. The server also dies with the test (PR_SET_PDEATHSIG), and
# the trap below stops anything of the group still running, whatever ends this script.
pid=
trap '[ -z "$pid" ] || kill -KILL -- "-$pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
timeout -k 5 "${HTTPOWER_BROWSER_TIMEOUT:-170}" /usr/bin/python3 ci/browser.py \
  --bin "$bin" --root www --artifacts "$art" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
[ "$rc" != 124 ] || echo "browser: FAILED: not done within ${HTTPOWER_BROWSER_TIMEOUT:-170} s, killed"
exit "$rc"
