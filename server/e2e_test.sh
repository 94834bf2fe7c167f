#!/usr/bin/env bash
# End-to-end: the httpower binary serving a copy of the demo site (www/) to real clients:
# curl and Python's http.client. Registered with ctest (server/CMakeLists.txt).
# usage: e2e_test.sh HTTPOWER_BINARY WWW_DIR
set -euo pipefail
bin=${1:?binary}
site=${2:?www dir}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "e2e FAIL: $*" >&2; exit 1; }

cp -r "$site" "$work/www"
head -c 3000000 /dev/urandom > "$work/www/files/large.bin"
mkfifo "$work/out"
"$bin" "$work/www" -p 0 -t 2 --quiet > "$work/out" 2> "$work/err" &
pid=$!
exec 3< "$work/out"
read -r -t 10 -u 3 line || fail "no start-up line"
echo "$line"
base=$(sed -n 's/.* on \(http:[^ ]*\) (.*/\1/p' <<< "$line")
[ -n "$base" ] || fail "cannot parse: $line"

c() { curl -sS --max-time 20 "$@"; }
for f in index.html style.css app.js img/logo.svg img/pattern.png docs/index.html docs/notes.txt files/large.bin; do
  c -o "$work/got" "$base$f"
  cmp -s "$work/got" "$work/www/$f" || fail "body of $f differs"
done
c "$base" | grep -q "HTTPower" || fail "index page"
c -I "$base" | grep -qi '^content-type: text/html' || fail "index content type"
c -I "${base}style.css" | grep -qi '^content-type: text/css' || fail "css content type"
c -I "${base}app.js" | grep -qi '^content-type: .*javascript' || fail "js content type"
c -I "${base}img/pattern.png" | grep -qi '^content-type: image/png' || fail "png content type"
[ "$(c -o /dev/null -w '%{http_code} %{redirect_url}' "${base}docs")" = "301 ${base}docs/" ] || fail "301"
[ "$(c -o /dev/null -w '%{http_code}' "${base}missing.html")" = 404 ] || fail "404"
[ "$(c -o /dev/null -w '%{http_code}' "${base}img/")" = 403 ] || fail "403 without listing"
# T2: a dotfile of the site (www/files/.gitignore) and a planted .git are not served.
mkdir -p "$work/www/.git" && echo "[core]" > "$work/www/.git/config"
[ "$(c -o /dev/null -w '%{http_code}' "${base}files/.gitignore")" = 404 ] || fail "dotfile served"
[ "$(c -o /dev/null -w '%{http_code}' "${base}.git/config")" = 404 ] || fail ".git served"
[ "$(c -o /dev/null -w '%{http_code}' "${base}%2egit/config")" = 404 ] || fail "encoded .git served"
c -r 100-199 -o "$work/range" "${base}files/large.bin"
[ "$(stat -c %s "$work/range")" = 100 ] && cmp -s -i 100:0 -n 100 "$work/www/files/large.bin" "$work/range" || fail "range"
# The README's range example, as written, on the committed site (no generated file needed).
[ "$(c -r 0-99 -o "$work/readme" -w '%{http_code}' "${base}docs/notes.txt")" = 206 ] &&
  cmp -s -n 100 "$work/www/docs/notes.txt" "$work/readme" || fail "README range example"
# Keep-alive: curl reuses one connection for two URLs.
c -v -o /dev/null -o /dev/null "${base}style.css" "${base}app.js" 2> "$work/v"
grep -q "Re-using existing connection" "$work/v" || fail "keep-alive not reused"

python3 - "$base" "$work/www" <<'PY' || fail "python http.client"
import http.client, sys, urllib.parse
base, root = sys.argv[1], sys.argv[2]
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
def get(path, method="GET", headers={}):
    conn.request(method, path, headers=headers)
    r = conn.getresponse()
    return r, r.read()
for _ in range(3):  # one connection, many requests (keep-alive)
    for path in ["/", "/style.css", "/img/logo.svg", "/files/large.bin"]:
        r, body = get(path)
        assert r.status == 200, (path, r.status)
        want = open(root + (path if path != "/" else "/index.html"), "rb").read()
        assert body == want, path
r, body = get("/style.css", "HEAD")
assert r.status == 200 and body == b"" and int(r.getheader("Content-Length")) > 0
etag = r.getheader("ETag")
r, body = get("/style.css", headers={"If-None-Match": etag})
assert r.status == 304 and body == b"", r.status
r, body = get("/files/large.bin", headers={"Range": "bytes=0-9,20-29"})
assert r.status == 206 and r.getheader("Content-Type").startswith("multipart/byteranges")
r, body = get("/nope")
assert r.status == 404
r, body = get("/", "DELETE")
assert r.status == 405 and "GET" in r.getheader("Allow")
conn.close()
print("python http.client: ok")
PY

kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "exit status $rc after SIGINT"
if curl -s --max-time 2 -o /dev/null "$base"; then fail "still listening after exit"; fi
echo "e2e: ok"
