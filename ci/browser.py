#!/usr/bin/python3
"""The demo site in a real browser: headless Chromium, driven through Selenium, looks at
www/ served by HTTPower on 127.0.0.1 (an ephemeral port) and checks what a person sees.

Usage: ci/browser.py --bin HTTPOWER --root WWW --artifacts DIR [--server-args ARGS] [--only a,b]

Each check is independent (a failure does not hide the others), prints PASS or FAIL with the
reason, and saves a screenshot into DIR. The last line is "N passed, N failed"; the exit
status is 1 when a check failed, 2 for a broken set-up (no browser, a server that does not
start). The network facts come from Chrome's performance log (CDP Network events): the
status a response had on the wire (Network.responseReceivedExtraInfo), not the one the page
is shown from its cache. Every wait has a deadline; the server is stopped in `finally` and
dies with this process (PR_SET_PDEATHSIG) if it is killed.
"""
import argparse
import ctypes
import hashlib
import json
import os
import selectors
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 10         # any one wait for the page
SCRIPT_S = 30       # an asynchronous in-page script (the 8 MiB download and its digest)
START_S = 10        # the server's start-up line

EXPECTED_SUBRESOURCES = {  # path -> the Content-Type the page needs for it
    "/style.css": "text/css",
    "/app.js": "javascript",
    "/img/logo.svg": "image/svg+xml",
    "/img/pattern.png": "image/png",
}


class CheckFailed(Exception):
    pass


def require(cond, what):
    if not cond:
        raise CheckFailed(what)


def setup_failed(what):
    print("browser: FAILED to set up: %s" % what, file=sys.stderr, flush=True)
    sys.exit(2)


# ---------------------------------------------------------------- the server

def start_server(binary, root, args, log_path):
    """Starts HTTPower on 127.0.0.1 port 0; returns (process, base URL)."""
    def die_with_parent():
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    cmd = [binary, root, "-p", "0", "-b", "127.0.0.1", "--access-log", log_path + ".access"]
    cmd += args
    print("browser: server:", " ".join(shlex.quote(c) for c in cmd), flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=die_with_parent)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_S
    line = b""
    marker = b"http://127.0.0.1:"
    # stderr is merged in: a warning (running as root) may come before the start-up line.
    while marker not in line or b"\n" not in line[line.index(marker):]:
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            stop_server(proc)
            setup_failed("no start-up line from the server within %d s" % START_S)
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            proc.wait(timeout=5)
            setup_failed("the server exited (%s): %s" % (proc.returncode, line.decode()))
        line += chunk
    first = line[line.rfind(b"\n", 0, line.index(marker)) + 1:].partition(b"\n")[0]
    print("browser:", first.decode(), flush=True)
    with open(log_path, "wb") as log:  # all its output, drained so that it never blocks
        log.write(line)
    threading.Thread(target=drain, args=(proc.stdout, log_path), daemon=True).start()
    port = first[first.index(marker) + len(marker):].split(b"/")[0].decode()
    return proc, "http://127.0.0.1:%s/" % port


def drain(stream, path):
    with open(path, "ab") as log:
        for chunk in iter(lambda: stream.read1(4096), b""):
            log.write(chunk)
            log.flush()


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# ---------------------------------------------------------------- the browser

def start_browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1100,900", "--no-first-run", "--disable-extensions",
              "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(WAIT_S * 2)
    driver.set_script_timeout(SCRIPT_S)
    return driver


class Net:
    """The Network events of the performance log from now on (the log is read, so emptied),
    grouped by request, once every request of the origin seen has finished or failed."""

    def __init__(self, driver, origin):
        self.driver, self.origin = driver, origin
        self.requests, self.order = {}, []  # requestId -> dict; ids in order of appearance
        WebDriverWait(driver, WAIT_S, poll_frequency=0.05).until(
            lambda _: self.read() and all(r["done"] for r in self.ours),
            "requests still open: %s" % self.order)

    @property
    def ours(self):
        return [self.requests[i] for i in self.order
                if self.requests[i].get("url", "").startswith(self.origin)]

    def read(self):
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            p = msg.get("params", {})
            if msg["method"].startswith("Network.") and "requestId" in p:
                self.add(msg["method"], p)
        return True

    def add(self, method, p):
        r = self.requests.get(p["requestId"])
        if r is None:
            r = self.requests[p["requestId"]] = {"hops": [], "sent": [], "wire": [],
                                                 "failed": None, "done": False}
            self.order.append(p["requestId"])
        if method == "Network.requestWillBeSent":
            if "redirectResponse" in p:
                rr = p["redirectResponse"]
                r["hops"].append((rr["url"], rr["status"], header(rr["headers"], "location")))
            r["url"] = p["request"]["url"]
        elif method == "Network.requestWillBeSentExtraInfo":
            r["sent"].append(p["headers"])
        elif method == "Network.responseReceivedExtraInfo":
            r["wire"].append((p["statusCode"], p["headers"]))
        elif method == "Network.responseReceived":
            resp = p["response"]
            r.update(url=resp["url"], status=resp["status"], mime=resp["mimeType"],
                     type=p.get("type"), headers=resp["headers"])
        elif method == "Network.loadingFinished":
            r["done"] = True
        elif method == "Network.loadingFailed":
            r["failed"], r["done"] = p.get("errorText"), True

    def by_path(self, path):
        return [r for r in self.ours if urllib.parse.urlsplit(r["url"]).path == path]


def header(headers, name):
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def severe_console(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait_loaded(driver, extra_js=None):
    cond = "return document.readyState === 'complete'"
    if extra_js:
        cond += " && (" + extra_js + ")"
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script(cond),
        "%s not loaded within %d s (%s)" % (driver.current_url, WAIT_S, extra_js or "readyState"))


def flush_logs(driver, clear_cache=False):
    """Leaves the page and drops the log entries so far; with clear_cache, also the browser's
    cache, so that the next page is fetched as on a first visit (200s, not 304s or hits)."""
    driver.get("about:blank")  # ends what the last page still had under way
    if clear_cache:
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get_log("performance")
    driver.get_log("browser")


# ---------------------------------------------------------------- the checks

def check_index(ctx):
    """The index page: every subresource 200 with its type, images drawn, styles and script
    applied, no console error; the page's own header probe shows the server's answer."""
    d, base = ctx.driver, ctx.base
    flush_logs(d, clear_cache=True)
    d.get(base)
    wait_loaded(d, "document.getElementById('clock').textContent.startsWith('at ')")
    net = Net(d, ctx.origin)
    for path, ctype in [("/", "text/html")] + list(EXPECTED_SUBRESOURCES.items()):
        rs = net.by_path(path)
        require(rs, "no request for %s" % path)
        for r in rs:
            require(r.get("failed") is None, "%s failed: %s" % (path, r.get("failed")))
            require(r.get("status") == 200, "%s answered %s: %s" % (path, r.get("status"), r))
            require(ctype in (r.get("mime") or ""), "%s came as %s" % (path, r.get("mime")))
        require(any(s == 200 for r in rs for s, _ in r["wire"]), "%s: no 200 on the wire" % path)
    bad = [(r["url"], r.get("status"), r.get("failed")) for r in net.ours
           if r.get("failed") or r.get("status") != 200]
    require(not bad, "responses other than 200: %s" % bad)
    errors = severe_console(d)
    require(not errors, "console errors: %s" % errors)
    require_drawn(d)
    h1 = d.find_element(By.TAG_NAME, "h1").text
    require(h1 == "HTTPower", "h1 is %r" % h1)
    require(len(d.find_elements(By.TAG_NAME, "img")) == 2, "the page should have two images")
    ctx.shot("index")
    d.find_element(By.ID, "probe").click()
    WebDriverWait(d, WAIT_S).until(lambda d: d.find_element(By.ID, "headers").is_displayed(),
                                   "the header probe showed nothing within %d s" % WAIT_S)
    probe = d.find_element(By.ID, "headers").text
    require(probe.startswith("HTTP 200") and "etag:" in probe, "header probe shows %r" % probe)
    ctx.shot("index-probe")


def check_redirect(ctx):
    """`docs` (a directory named without its slash) is 301 to `docs/`, whose page renders."""
    d, base = ctx.driver, ctx.base
    flush_logs(d)
    d.get(base + "docs")
    wait_loaded(d)
    require(d.current_url == base + "docs/", "ended at %s" % d.current_url)
    net = Net(d, ctx.origin)
    hops = [h for r in net.ours for h in r["hops"]]
    require(hops == [(base + "docs", 301, "/docs/")], "redirects seen: %s" % hops)
    page = [r for r in net.by_path("/docs/") if r.get("type") == "Document"]
    require(page and page[0].get("status") == 200, "docs/ answered %s" % page)
    css = net.by_path("/style.css")
    require(css and all(r.get("status") == 200 for r in css), "../style.css: %s" % css)
    require(require_drawn(d)["sheets"], "docs/ has no stylesheet")
    h2 = d.find_element(By.TAG_NAME, "h2").text
    require(h2 == "A subfolder", "h2 is %r" % h2)
    errors = severe_console(d)
    require(not errors, "console errors: %s" % errors)
    ctx.shot("docs")


def require_drawn(driver):
    """Every image decoded and drawn, every stylesheet applied (a stylesheet the browser
    refused, e.g. for its Content-Type, has no rules)."""
    seen = driver.execute_script("""
      return {imgs: [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
              sheets: [...document.querySelectorAll('link[rel=stylesheet]')].map(
                  l => [l.getAttribute('href'), l.sheet ? l.sheet.cssRules.length : 0])};""")
    require(all(ok for _, ok in seen["imgs"]), "images not drawn: %s" % seen["imgs"])
    require(all(n > 0 for _, n in seen["sheets"]), "stylesheets not applied: %s" % seen["sheets"])
    return seen


def listing_rows(driver):
    return driver.execute_script("""
      return [...document.querySelectorAll('table tr')].slice(1).map(tr => {
        const a = tr.querySelector('a'), s = tr.querySelector('td.s');
        return [a ? a.textContent : '', s ? s.getAttribute('title') : null];
      });""")


def check_listing(ctx):
    """`files/` (no index.html) renders as a listing with the real sizes, and its links work."""
    d, base = ctx.driver, ctx.base
    flush_logs(d)
    d.get(base + "files/")
    wait_loaded(d)
    net = Net(d, ctx.origin)
    page = [r for r in net.by_path("/files/") if r.get("type") == "Document"]
    require(page and page[0].get("status") == 200, "files/ answered %s" %
            [(r.get("status"), r.get("failed")) for r in page])
    require(d.title == "Index of /files/", "title is %r" % d.title)
    rows = dict(listing_rows(d))
    files = sorted(n for n in os.listdir(os.path.join(ctx.root, "files")) if not n.startswith("."))
    require(sorted(n for n in rows if n != "../") == files, "rows %s, files %s" % (sorted(rows), files))
    for n in files:
        size = os.path.getsize(os.path.join(ctx.root, "files", n))
        require(rows[n] == "%d bytes" % size, "%s listed as %r, is %d bytes" % (n, rows[n], size))
    errors = severe_console(d)
    require(not errors, "console errors: %s" % errors)
    ctx.shot("listing")
    d.find_element(By.LINK_TEXT, "README.txt").click()
    WebDriverWait(d, WAIT_S).until(lambda d: d.current_url == base + "files/README.txt",
                                   "the README.txt link did not lead to files/README.txt")
    wait_loaded(d)
    with open(os.path.join(ctx.root, "files", "README.txt")) as f:
        want = f.read().strip()
    shown = d.find_element(By.TAG_NAME, "body").text.strip()
    require(shown == want, "README.txt shows %r" % shown[:80])


SORT_HEADS = (("size", "Size"), ("date", "Modified (UTC)"), ("name", "Name"))


def expected_orders(directory):
    """The six orders of the visible files of `directory` that a listing sorted by name, size
    or date (each ascending and descending) must show. Names compare without case (the
    listing's natural order, enough for names without digits); ties on size or date go by
    name."""
    files = []
    for n in os.listdir(directory):
        if not n.startswith("."):
            st = os.stat(os.path.join(directory, n))
            files.append((n, st.st_size, int(st.st_mtime)))
    keys = {"name": lambda f: f[0].casefold(), "size": lambda f: (f[1], f[0].casefold()),
            "date": lambda f: (f[2], f[0].casefold())}
    return {(k, desc): [f[0] for f in sorted(files, key=keys[k], reverse=desc)]
            for k in keys for desc in (False, True)}


def check_sort(ctx):
    """The listing's column heads sort it: a click on Size, Modified or Name shows the rows in
    that order, ascending, a second click descending, with an arrow on the current head.
    The demo's files (ci/demo-files.sh fixes their dates) give six different orders, so a
    listing that ignores a key or a direction cannot pass."""
    d, base = ctx.driver, ctx.base
    want = expected_orders(os.path.join(ctx.root, "files"))
    require(len({tuple(v) for v in want.values()}) == 6,
            "the demo's files do not tell the six orders apart: %s" % want)
    flush_logs(d)
    d.get(base + "files/")
    wait_loaded(d)
    shown = [n for n, _ in listing_rows(d) if n != "../"]
    require(shown == want[("name", False)], "by default: %s, not %s" % (shown, want[("name", False)]))
    for key, label in SORT_HEADS:
        for desc in (False, True):
            query = "?sort=%s&order=%s" % (key, "desc" if desc else "asc")
            d.find_element(By.XPATH, "//th/a[starts-with(normalize-space(.), '%s')]" % label).click()
            WebDriverWait(d, WAIT_S).until(lambda d: d.current_url == base + "files/" + query,
                                           "clicking %s did not lead to %s" % (label, query))
            wait_loaded(d)
            shown = [n for n, _ in listing_rows(d) if n != "../"]
            require(shown == want[(key, desc)], "%s: %s, not %s" % (query, shown, want[(key, desc)]))
            head = d.find_element(By.XPATH, "//th/a[starts-with(normalize-space(.), '%s')]" % label).text
            require(head.endswith("\u2193" if desc else "\u2191"), "%s: the head reads %r" % (query, head))
            if key == "size" and not desc:
                ctx.shot("listing-by-size")
    errors = severe_console(d)
    require(not errors, "console errors: %s" % errors)


def check_reload(ctx):
    """A reload revalidates the page: the browser sends the ETag it was given and the server
    answers 304 on the wire; nothing is fetched again in full, and the page is the same."""
    d, base = ctx.driver, ctx.base
    flush_logs(d)
    d.get(base)
    wait_loaded(d)
    first = [r for r in Net(d, ctx.origin).by_path("/") if r.get("type") == "Document"]
    require(first, "no first load of /")
    etag = header(first[-1]["headers"], "etag")
    require(etag, "the first answer has no ETag")
    d.refresh()
    wait_loaded(d, "document.getElementById('clock').textContent.startsWith('at ')")
    net = Net(d, ctx.origin)
    doc = [r for r in net.by_path("/") if r.get("type") == "Document"]
    require(doc, "no reload of /")
    inm = [header(h, "if-none-match") for h in doc[0]["sent"]]
    require(inm == [etag], "If-None-Match sent: %s (ETag %s)" % (inm, etag))
    wire = [s for s, _ in doc[0]["wire"]]
    require(wire == [304], "the reload was answered %s on the wire" % wire)
    full = [(r["url"], s) for r in net.ours for s, _ in r["wire"] if s == 200]
    require(not full, "fetched again in full: %s" % full)
    require(d.find_element(By.TAG_NAME, "h1").text == "HTTPower", "page changed on reload")
    ctx.shot("reload")


RESUME_JS = """
const [url, cut, done] = arguments;
const hex = b => [...new Uint8Array(b)].map(x => x.toString(16).padStart(2, '0')).join('');
(async () => {
  const ac = new AbortController();
  const r1 = await fetch(url, {signal: ac.signal, cache: 'no-store'});
  const etag = r1.headers.get('ETag'), total = Number(r1.headers.get('Content-Length'));
  const reader = r1.body.getReader(), parts = [];
  let got = 0;
  while (got < cut) {
    const {value, done: end} = await reader.read();
    if (end) break;
    parts.push(value); got += value.length;
  }
  ac.abort();                                   // the download is cut here
  let aborted = false;
  try { await reader.read(); } catch (e) { aborted = e.name === 'AbortError'; }
  const stale = await fetch(url, {cache: 'no-store',
                                  headers: {'Range': 'bytes=' + got + '-', 'If-Range': '"stale"'}});
  const staleLen = stale.headers.get('Content-Length');
  await stale.body.cancel();
  const r2 = await fetch(url, {cache: 'no-store',
                               headers: {'Range': 'bytes=' + got + '-', 'If-Range': etag}});
  const rest = new Uint8Array(await r2.arrayBuffer());
  const all = new Uint8Array(got + rest.length);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  all.set(rest, o);
  const sha = hex(await crypto.subtle.digest('SHA-256', all));
  const out = {status1: r1.status, etag, total, got, aborted, staleStatus: stale.status, staleLen,
               status2: r2.status, contentRange: r2.headers.get('Content-Range'),
               restLen: rest.length, sha};
  const pre = document.createElement('pre');
  pre.id = 'resume';
  pre.textContent = 'files/large.bin: cut after ' + got + ' of ' + total + ' bytes, resumed with ' +
      r2.status + ' ' + out.contentRange + '\\nSHA-256 in the page: ' + sha;
  document.body.prepend(pre);
  done(out);
})().catch(e => done({error: String(e)}));
"""


def check_resume(ctx):
    """An interrupted download of files/large.bin resumes with Range + If-Range (206 from the
    cut), the joined bytes hash (SHA-256 in the page) to the file's, which is the one
    files/checksums.txt publishes; a stale If-Range gets the whole file (200) instead of a
    splice of two versions."""
    d, base = ctx.driver, ctx.base
    path = os.path.join(ctx.root, "files", "large.bin")
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(ctx.root, "files", "checksums.txt")) as f:
        listed = [ln.split()[0] for ln in f if ln.rstrip().endswith("  large.bin")]
    require(listed == [want], "files/checksums.txt says %s, large.bin hashes to %s" % (listed, want))
    d.get(base)
    wait_loaded(d)
    r = d.execute_async_script(RESUME_JS, base + "files/large.bin", 1 << 20)
    require("error" not in r, "in-page error: %s" % r.get("error"))
    require(r["status1"] == 200 and r["total"] == size, "first fetch: %s" % r)
    require(r["aborted"] and 0 < r["got"] < size, "not cut mid-way: got %s of %s" % (r["got"], size))
    require(r["staleStatus"] == 200 and r["staleLen"] == str(size),
            "stale If-Range answered %s with %s bytes" % (r["staleStatus"], r["staleLen"]))
    require(r["status2"] == 206, "resume answered %s" % r["status2"])
    require(r["contentRange"] == "bytes %d-%d/%d" % (r["got"], size - 1, size),
            "Content-Range %s after %d bytes" % (r["contentRange"], r["got"]))
    require(r["got"] + r["restLen"] == size, "%d + %d bytes" % (r["got"], r["restLen"]))
    require(r["sha"] == want, "SHA-256 in the page %s, of the file %s" % (r["sha"], want))
    print("browser: resume: cut after %d bytes, 206 %s, sha256 %s" % (r["got"], r["contentRange"], want))
    ctx.shot("resume")


PRECOMPRESSED_JS = """
const [paths, done] = arguments;
(async () => {
  const out = {};
  for (const p of paths) {
    const t = performance.getEntriesByName(new URL(p, location.href).href)[0];
    const r = await fetch(p, {cache: 'no-store'});
    out[p] = {text: await r.text(), encoding: r.headers.get('Content-Encoding'),
              vary: r.headers.get('Vary'),
              encoded: t ? t.encodedBodySize : null, decoded: t ? t.decodedBodySize : null};
  }
  const pre = document.createElement('pre');
  pre.id = 'precompressed';
  pre.textContent = paths.map(p => p + ': ' + out[p].decoded + ' bytes, arrived as ' +
      out[p].encoding + ' in ' + out[p].encoded + ' bytes').join('\\n');
  document.body.prepend(pre);
  done(out);
})().catch(e => done({error: String(e)}));
"""


def check_precompressed(ctx):
    """With --precompressed, app.js and style.css come from their .gz variants with
    Content-Encoding: gzip and Vary: Accept-Encoding; the browser decodes them (the script
    runs, the styles apply), the body on the wire is the .gz file's size, and the text the
    page reads is the original file's."""
    d, base = ctx.driver, ctx.base
    paths = ["app.js", "style.css"]
    flush_logs(d, clear_cache=True)
    d.get(base)
    wait_loaded(d)
    net = Net(d, ctx.origin)
    for p in paths:
        rs = net.by_path("/" + p)
        require(rs and rs[0].get("status") == 200, "/%s answered %s" % (p, rs))
        enc = header(rs[0]["headers"], "content-encoding")
        require(enc == "gzip", "/%s arrived with Content-Encoding %s" % (p, enc))
    clock = d.find_element(By.ID, "clock").text
    require(clock.startswith("at "), "app.js did not run: the clock says %r" % clock)
    require_drawn(d)
    errors = severe_console(d)
    require(not errors, "console errors: %s" % errors)
    got = d.execute_async_script(PRECOMPRESSED_JS, paths)
    require("error" not in got, "in-page error: %s" % got.get("error"))
    for p in paths:
        g = got[p]
        with open(os.path.join(ctx.root, p), encoding="utf-8") as f:
            want = f.read()
        gz = os.path.getsize(os.path.join(ctx.root, p + ".gz"))
        require(g["encoding"] == "gzip", "%s: Content-Encoding %s in the page" % (p, g["encoding"]))
        require("accept-encoding" in (g["vary"] or "").lower(), "%s: Vary %s" % (p, g["vary"]))
        require(g["text"] == want, "%s: the page reads other text than the file's" % p)
        require(g["encoded"] == gz and g["decoded"] == len(want.encode()),
                "%s: %s bytes on the wire (the .gz has %d), %s decoded (the file has %d)"
                % (p, g["encoded"], gz, g["decoded"], len(want.encode())))
    ctx.shot("precompressed")


CHECKS = {"index": check_index, "redirect": check_redirect, "listing": check_listing,
          "sort": check_sort,
          "reload": check_reload, "resume": check_resume, "precompressed": check_precompressed}


class Ctx:
    def __init__(self, driver, base, root, artifacts):
        self.driver, self.base, self.root, self.artifacts = driver, base, root, artifacts
        self.origin = base.rstrip("/")

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.artifacts, name + ".png"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--server-args", default="--listing --precompressed")
    ap.add_argument("--only", default=",".join(CHECKS))
    a = ap.parse_args()
    names = a.only.split(",")
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        setup_failed("unknown check %s (known: %s)" % (unknown, ", ".join(CHECKS)))
    os.makedirs(a.artifacts, exist_ok=True)
    proc, base = start_server(a.bin, os.path.abspath(a.root), shlex.split(a.server_args),
                              os.path.join(a.artifacts, "server.log"))
    driver = None
    passed, failed = [], []
    try:
        try:
            driver = start_browser()
        except Exception as e:  # no Chromium, no driver, a driver of another version
            setup_failed("cannot start headless Chromium: %s" % str(e).strip().splitlines()[0])
        ctx = Ctx(driver, base, os.path.abspath(a.root), a.artifacts)
        for n in names:
            t0 = time.monotonic()
            try:
                CHECKS[n](ctx)
                passed.append(n)
                print("PASS %-13s %5.1f s" % (n, time.monotonic() - t0), flush=True)
            except Exception as e:  # a failed check, a timeout, a WebDriver error: all count
                failed.append(n)
                why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                print("FAIL %-13s %5.1f s: %s" % (n, time.monotonic() - t0, why), flush=True)
                try:
                    ctx.shot("FAILED-" + n)
                except Exception:
                    pass
    finally:
        if driver is not None:
            driver.quit()
        stop_server(proc)
    print("browser: screenshots in %s" % os.path.abspath(a.artifacts))
    print("browser: %d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
