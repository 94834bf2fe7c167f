#!/usr/bin/env bash
# ci/package.sh: the Debian package, built and used as a user would (a matrix step; needs
# root and a disposable machine). Builds it with CPack from the release preset, installs it
# with dpkg, checks its contents and conffiles, renders the man page with warnings on,
# checks the units and the logrotate snippet, serves the installed default root the way the
# units do (systemd's socket passed in, www-data, /etc/default/httpower's options, Type=notify),
# rotates the log with the installed logrotate snippet plus SIGUSR1, then removes and purges.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
ci/install-deps.sh >/dev/null
[ "$(id -u)" = 0 ] || { echo "package: needs root (dpkg -i)"; exit 1; }
fail() { echo "package FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$work"
  dpkg -P httpower >/dev/null 2>&1 || true
}
trap cleanup EXIT

cmake --preset release >/dev/null
cmake --build --preset release --target httpower httpower_man
(cd build/release && rm -f httpower_*.deb && cpack -G DEB >/dev/null)
deb=$(ls build/release/httpower_*.deb)
echo "package: $deb ($(stat -c %s "$deb") bytes)"

dpkg -c "$deb" > "$work/contents"
for f in ./usr/bin/httpower ./usr/share/man/man1/httpower.1.gz ./lib/systemd/system/httpower.service \
    ./lib/systemd/system/httpower.socket ./etc/default/httpower ./etc/logrotate.d/httpower \
    ./usr/share/httpower/www/index.html ./usr/share/httpower/www/style.css ./usr/share/doc/httpower/README.md; do
  grep -q " $f\$" "$work/contents" || fail "$f is not in the package"
done
! grep -qE "large\.bin|\.gitignore" "$work/contents" || fail "generated or hidden files in the package"
dpkg-deb -I "$deb" conffiles | sort > "$work/conffiles"
printf '/etc/default/httpower\n/etc/logrotate.d/httpower\n' | cmp -s - "$work/conffiles" || fail "conffiles: $(cat "$work/conffiles")"

dpkg -i "$deb" >/dev/null
[ -x /usr/bin/httpower ] || fail "no /usr/bin/httpower after dpkg -i"
[ "$(stat -c '%U:%G %a' /var/log/httpower)" = "www-data:adm 750" ] || fail "log directory: $(stat -c '%U:%G %a' /var/log/httpower)"
warnings=$(LC_ALL=C man --warnings -l /usr/share/man/man1/httpower.1.gz 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "man warns: $warnings"
LC_ALL=C man -l /usr/share/man/man1/httpower.1.gz | col -b | grep -q -- "--user NAME" || fail "man page without --user"
systemd-analyze verify /lib/systemd/system/httpower.socket /lib/systemd/system/httpower.service 2> "$work/verify" ||
  fail "systemd-analyze verify: $(cat "$work/verify")"
logrotate -d /etc/logrotate.d/httpower > "$work/lr" 2>&1 || fail "logrotate -d: $(cat "$work/lr")"

# As the units run it: systemd's socket (systemd-socket-activate), user www-data,
# /etc/default/httpower read the way EnvironmentFile is, READY=1 on the notify socket.
set -a; source /etc/default/httpower; set +a
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
notify=$work/notify
mkfifo "$work/bound" "$work/errpipe"
chmod 0755 "$work"
python3 - "$notify" "$work/bound" > "$work/notified" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(60)
os.chown(sys.argv[1], 33, 33)  # www-data sends to it
open(sys.argv[2], "w").write("bound\n")
print(s.recv(100).decode(), flush=True)
PY
stub=$!
read -r -t 20 bound < "$work/bound" || fail "notify stub did not start"
# shellcheck disable=SC2086 # HTTPOWER_OPTS is split into words, as systemd does with $HTTPOWER_OPTS
setpriv --reuid=www-data --regid=www-data --init-groups \
  systemd-socket-activate -l "127.0.0.1:$port" -E NOTIFY_SOCKET="$notify" \
  /usr/bin/httpower $HTTPOWER_OPTS "$HTTPOWER_ROOT" > "$work/out" 2> "$work/errpipe" &
pid=$!
exec 3< "$work/errpipe"
read -r -t 20 -u 3 line || fail "systemd-socket-activate said nothing"
[[ $line == *"Listening on 127.0.0.1:$port"* ]] || fail "systemd-socket-activate: $line"
cat <&3 > "$work/err" &
got=$(curl -sS --max-time 20 "http://127.0.0.1:$port/")
[ "$got" = "$(cat /usr/share/httpower/www/index.html)" ] || fail "installed root not served: $(head -c 200 <<< "$got"); $(cat "$work/err")"
wait "$stub" || fail "no READY=1"
[ "$(cat "$work/notified")" = READY=1 ] || fail "notify: $(cat "$work/notified")"
[ "$(stat -c %U /proc/$pid)" = www-data ] || fail "not running as www-data"

# The installed logrotate snippet, forced, then the SIGUSR1 its postrotate sends via systemd.
logrotate -f -s "$work/lr.state" /etc/logrotate.d/httpower
[ -f /var/log/httpower/access.log.1 ] || fail "logrotate did not rotate"
[ "$(stat -c '%U:%G %a' /var/log/httpower/access.log)" = "www-data:adm 640" ] || fail "new log: $(stat -c '%U:%G %a' /var/log/httpower/access.log)"
kill -USR1 "$pid"
# Requests until one is logged in the new file: the reopen happens when the server reads
# the signal, and a line is written when its worker next waits for work (bounded: 50).
for i in $(seq 50); do
  curl -sS --max-time 20 -o /dev/null "http://127.0.0.1:$port/style.css?$i"
  grep -q "style.css" /var/log/httpower/access.log && break
done
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM: $(cat "$work/err")"
cat /var/log/httpower/access.log.1 /var/log/httpower/access.log | grep -q '"GET / HTTP/1.1" 200' ||
  fail "the first request is in neither log file"
grep -q 'style.css' /var/log/httpower/access.log || fail "no line in the new access log after SIGUSR1"
grep -q 'SIGUSR1: log files reopened' /var/log/httpower/error.log || fail "error log not reopened"
grep -q 'stopped: ' /var/log/httpower/error.log || fail "no exit summary in the new error log"

dpkg -r httpower >/dev/null
[ ! -e /usr/bin/httpower ] || fail "/usr/bin/httpower left after dpkg -r"
[ -f /etc/default/httpower ] || fail "dpkg -r removed a conffile"
dpkg -P httpower >/dev/null
[ ! -e /etc/default/httpower ] && [ ! -e /var/log/httpower ] || fail "purge left files"
echo "package: ok"
