#!/usr/bin/env python3
"""ci/mutate.py: a mutation score over the production sources, from mechanically made mutants.

ci/mutants/*.patch are mutants written by hand, one per invariant; this script makes them by
rule instead, so that the score says how much of the code the checks watch, not only the
parts somebody thought of. Every mutant is one small edit of one line of core/src/*.cpp,
core/include/httpower/bounded_queue.hpp or server/*.cpp (tests excluded):
  cmp    a comparison moves its boundary or flips: <  <=  >  >=  ==  !=
  bool   && and || swap
  neg    an if/while condition is negated, or a unary ! is dropped
  drop   a one-line statement is removed: a call (notify, close, ...), a return, break, continue
  int    an integer literal goes up or down by one
Comments, string and character literals (so log and error text), preprocessor lines,
static_asserts, template headers, initialised array bounds and assertion macros are never
touched. The space of mutants is listed in a fixed order, so a seed
picks the same sample every time (--list prints the space).

Each mutant is applied in a scratch copy of the tree (build/mutate/src, the approach of
ci/mutants.sh), the targets its checks need are rebuilt incrementally (ccache), and its
checks run in order, each under a time limit, until one fails. The checks of a source file
are its relevant tests (CHECKS below: the file's unit tests, properties, fuzzer corpus
replays; for server/ the server tests and the end-to-end script). A check counts only if it
passed on the unmutated tree in this run (it is run there first); one that failed there is
FLAKY, its kills do not count and the run fails, as in ci/mutants.sh.
Verdicts: KILLED (a check failed), TIMEOUT (a check ran past its limit: killed),
SURVIVED, DID-NOT-COMPILE (excluded from the score).

A survivor fails the run unless it is listed in ci/mutate-equivalent.txt (mutants argued
equivalent to the original, with the reason; matched by file, mutation and line text, so
line numbers may move).

SIGTERM stops a run and reports the mutants done so far; the sample runs in its sampled
order, so they are still a uniform sample.

In CI (ci/matrix.sh) the sample runs with --survivors-advisory: a survivor is printed with
the seed that drew it and the equivalent-list line to fill in, but only a flaky check or a
mutant that errs fails the step, since a random sample of a space not yet fully judged would
otherwise fail CI by chance. The hand-written mutants (ci/mutants.sh) are the gate.

Usage: ci/mutate.py [--seed N] [--count N | --all] [--only SUBSTR] [--list] [--dir D] [--no-fail]
                    [--survivors-advisory]
  (one mutant again: ci/mutate.py --all --only 'core/src/mime.cpp:76:53 `<=`')
  env: HTTPOWER_MUTATE_SEED, HTTPOWER_MUTATE_COUNT, HTTPOWER_MUTATE_TIMEOUT (s per check)
"""
import argparse
import fnmatch
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
SOURCES = ['core/src/*.cpp', 'core/include/httpower/bounded_queue.hpp', 'server/*.cpp']
EXCLUDE = ['*_test.cpp']
EQUIVALENT = 'ci/mutate-equivalent.txt'


def replay(name):
    return f'fuzz/{name} ../../fuzz/corpus/{name}'


PLANNER = ['core/response_planner_test', 'proptests/response_planner_prop', replay('planner_fuzzer')]
SERVER = ['server/serve_test', 'server/limits_test', 'server/shutdown_test', 'server/logs_test',
          'server/file_policy_test', 'server/static_files_test', 'server/concurrency_test',
          'server/cli_test', 'ctest -R "^server\\.e2e$" --output-on-failure']
# Source file -> checks (commands run in the scratch build dir), cheapest and closest first.
CHECKS = {
    'core/src/conditional.cpp': ['core/conditional_test', 'proptests/conditional_prop'] + PLANNER,
    'core/src/http_date.cpp': ['core/http_date_test', 'core/conditional_test',
                               'proptests/conditional_prop'] + PLANNER,
    'core/src/listing.cpp': ['core/listing_test', 'server/static_files_test', 'server/serve_test'],
    'core/src/mime.cpp': ['core/mime_test', 'server/cli_test'] + PLANNER,
    'core/src/range.cpp': ['core/range_test', 'proptests/range_prop', replay('range_fuzzer')] + PLANNER,
    'core/src/request.cpp': ['core/request_parser_test', 'proptests/request_parser_prop'] + PLANNER,
    'core/src/request_parser.cpp': ['core/request_parser_test', 'proptests/request_parser_prop',
                                    replay('request_parser_fuzzer'), replay('differential_fuzzer')],
    'core/src/response_planner.cpp': PLANNER,
    'core/src/target_resolver.cpp': ['core/target_resolver_test', 'proptests/target_resolver_prop',
                                     replay('target_resolver_fuzzer')] + PLANNER,
    'core/src/version.cpp': ['server/cli_test', 'ctest -R "^server\\.e2e$" --output-on-failure'],
    'core/include/httpower/bounded_queue.hpp': [
        'core/bounded_queue_test', 'proptests/bounded_queue_prop',
        'proptests/queue_linearizability_prop', 'server/concurrency_test', 'server/shutdown_test'],
}


def checks_for(path):
    return CHECKS.get(path, SERVER if path.startswith('server/') else [])


def targets_for(checks):
    """The cmake targets a list of checks needs (the executable of each; e2e needs httpower)."""
    out = []
    for c in checks:
        if c.startswith('ctest'):
            t = 'httpower'
        else:
            t = os.path.basename(c.split()[0])
        if t not in out:
            out.append(t)
    return out


def group(path):
    if path.startswith('server/'):
        return 'server/'
    if path.endswith('bounded_queue.hpp'):
        return 'queue header'
    return 'core/'


# ---------------------------------------------------------------------------------------------
# The mutant space


def code_mask(text):
    """text with comments, string and character literals blanked (newlines kept), so that
    positions still line up and no mutation lands in a comment or in log text."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a, b):
        for k in range(a, b):
            if out[k] != '\n':
                out[k] = ' '

    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            k = text.find('(', i)
            delim = ')' + text[i + 2:k] + '"'
            j = text.find(delim, k)
            j = n if j < 0 else j + len(delim)
            blank(i, j)
            i = j
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            blank(i, j + 1)
            i = j + 1
        else:
            i += 1
    return ''.join(out)


CMP = {'<': '<=', '<=': '<', '>': '>=', '>=': '>', '==': '!=', '!=': '=='}
CMP_RE = re.compile(r'(?<=\s)(<=|>=|==|!=|<|>)(?=\s)')
BOOL_RE = re.compile(r'(?<=\s)(&&|\|\|)(?=\s)')
NOT_RE = re.compile(r'(?<=[\s(])!(?=[A-Za-z_(*])')
COND_RE = re.compile(r'\b(if|while)\s*\(')
INT_RE = re.compile(r"(?<![\w.'])(\d+(?:'\d+)*)([uUlLzZ]*)(?![\w.'])")
CALL_RE = re.compile(r'^\s*(?:[A-Za-z_]\w*(?:\(\))?(?:::|\.|->))*~?[A-Za-z_]\w*\s*(?:<[^;]*>)?\(.*\)\s*;\s*$')
RETURN_RE = re.compile(r'^\s*return\b.*;\s*$')
JUMP_RE = re.compile(r'^\s*(break|continue)\s*;\s*$')
SKIP_LINE_RE = re.compile(r'^\s*#|static_assert|^\s*template\s*<')


def balanced(s):
    d = 0
    for ch in s:
        d += ch == '('
        d -= ch == ')'
        if d < 0:
            return False
    return d == 0


def close_paren(line, k):
    """Index of the ')' matching the '(' at line[k], or -1 when it is not on this line."""
    d = 0
    for j in range(k, len(line)):
        d += line[j] == '('
        d -= line[j] == ')'
        if d == 0:
            return j
    return -1


class Mutant:
    __slots__ = ('path', 'line', 'col', 'kind', 'old', 'new', 'text', 'desc')

    def __init__(self, path, line, col, kind, old, new, text, desc):
        self.path, self.line, self.col, self.kind = path, line, col, kind
        self.old, self.new, self.text, self.desc = old, new, text, desc

    def ident(self):
        return f'{self.path}:{self.line}:{self.col + 1}'

    def key(self):  # stable across line moves: file, mutation, trimmed line text
        return (self.path, self.desc, self.text.strip())


def line_mutants(path, lineno, raw, code):
    """Mutants of one line; raw is the source line, code the same line masked."""
    if SKIP_LINE_RE.search(code) or not code.strip():
        return []
    out = []

    def add(col, kind, old, new, desc):
        out.append(Mutant(path, lineno, col, kind, old, new, raw, desc))

    for m in CMP_RE.finditer(code):
        op = m.group(1)
        add(m.start(), 'cmp', op, CMP[op], f'`{op}` -> `{CMP[op]}`')
    for m in BOOL_RE.finditer(code):
        op = m.group(1)
        new = '||' if op == '&&' else '&&'
        add(m.start(), 'bool', op, new, f'`{op}` -> `{new}`')
    for m in COND_RE.finditer(code):
        k = m.end() - 1
        j = close_paren(code, k)
        if j < 0 or code[k + 1:j].lstrip().startswith(('auto ', 'const ')) or ';' in code[k:j]:
            continue  # multi-line condition, or an if with an initialiser
        add(k, 'neg', raw[k:j + 1], '(!' + raw[k:j + 1] + ')', f'negate the {m.group(1)} condition')
    for m in NOT_RE.finditer(code):
        add(m.start(), 'neg', '!', '', 'drop a unary `!`')
    for m in INT_RE.finditer(code):
        digits = m.group(1)
        if re.match(r'\]\s*=', code[m.end():]) and code[m.start() - 1] == '[':
            continue  # an array bound with an initialiser: a compile error or no change
        v = int(digits.replace("'", ''))
        for nv in ([v + 1, v - 1] if v > 0 else [v + 1]):
            add(m.start(1), 'int', digits, str(nv), f'`{digits}` -> `{nv}`')
    stmt = code.strip()
    if balanced(code) and stmt.endswith(';') and stmt.count(';') == 1:
        what = None
        if RETURN_RE.match(code):
            what = 'a return'
        elif JUMP_RE.match(code):
            what = 'a ' + JUMP_RE.match(code).group(1)
        elif CALL_RE.match(code) and not re.match(r'^\s*(return|delete|new|throw|co_\w+|\w*ASSERT\w*|assert)\b', code):
            what = 'a call'
        if what:
            s = len(raw) - len(raw.lstrip())
            add(s, 'drop', raw[s:].rstrip('\n'), '{}', f'drop {what}')
    return out


def list_sources():
    files = []
    for pat in SOURCES:
        for p in sorted(subprocess.run(['git', 'ls-files', pat], cwd=ROOT, capture_output=True,
                                       text=True, check=True).stdout.split()):
            if not any(fnmatch.fnmatch(os.path.basename(p), e) for e in EXCLUDE):
                files.append(p)
    return files


def enumerate_space():
    space = []
    for p in list_sources():
        with open(os.path.join(ROOT, p)) as f:
            text = f.read()
        mask = code_mask(text)
        for i, (raw, code) in enumerate(zip(text.split('\n'), mask.split('\n')), 1):
            space.extend(line_mutants(p, i, raw, code))
    return space


def apply(text, m):
    lines = text.split('\n')
    raw = lines[m.line - 1]
    assert raw[m.col:m.col + len(m.old)] == m.old, m.ident()
    lines[m.line - 1] = raw[:m.col] + m.new + raw[m.col + len(m.old):]
    return '\n'.join(lines)


# ---------------------------------------------------------------------------------------------
# Running


def load_equivalent():
    """ci/mutate-equivalent.txt: `path | mutation | line text | reason` per line."""
    keys = {}
    p = os.path.join(ROOT, EQUIVALENT)
    if os.path.exists(p):
        for ln in open(p):
            if ln.strip() and not ln.startswith('#'):
                parts = [x.strip() for x in ln.rstrip('\n').split(' | ')]
                if len(parts) >= 4:
                    keys[tuple(parts[:3])] = parts[3]
    return keys


class Runner:
    def __init__(self, base, timeout, log):
        self.timeout = timeout
        self.base = base
        self.src = os.path.join(self.base, 'src')
        self.bdir = os.path.join(self.src, 'build', 'default')
        self.log = log
        self.baseline = {}  # check -> True (passed on the unmutated tree) / False (FLAKY)
        # ci/env.sh's ccache settings, with the copy as the base dir: its compile commands then
        # match the checkout's own build, whose objects are reused.
        os.environ.update(CCACHE_BASEDIR=self.src, CCACHE_NOHASHDIR='1',
                          CCACHE_MAXSIZE=os.environ.get('CCACHE_MAXSIZE', '8G'))

    def prepare(self):
        if not os.path.exists(os.path.join(self.base, '.copied')):
            shutil.rmtree(self.src, ignore_errors=True)
            os.makedirs(self.src)
            subprocess.run('git ls-files -co --exclude-standard -z | tar --null -T - -cf - | '
                           f'tar -C "{self.src}" -xf -', shell=True, cwd=ROOT, check=True)
            open(os.path.join(self.base, '.copied'), 'w').close()
        else:  # a reused copy: bring it in line with the checkout (the build stays incremental)
            for p in subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout.split('\0'):
                if p and os.path.isfile(os.path.join(ROOT, p)):
                    self.restore(p)
        r = self.sh(['cmake', '--preset', 'default', '-DHTTPOWER_BENCH=OFF'], self.src)
        if r != 0:
            sys.exit(f'configure failed (see {self.log.name})')

    def restore(self, path):
        a, b = os.path.join(ROOT, path), os.path.join(self.src, path)
        if not os.path.exists(b) or open(a, 'rb').read() != open(b, 'rb').read():
            os.makedirs(os.path.dirname(b), exist_ok=True)
            shutil.copy2(a, b)

    def sh(self, cmd, cwd, timeout=None, shell=False):
        self.log.write(f'$ {cmd if shell else " ".join(cmd)}\n')
        self.log.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                  timeout=timeout, shell=shell, start_new_session=True).returncode
        except subprocess.TimeoutExpired:
            self.log.write('--- TIMEOUT\n')
            return 'timeout'

    def build(self, targets):
        return self.sh(['cmake', '--build', self.bdir, '-j2', '--target'] + targets, self.src) == 0

    def check(self, c):
        cmd = c if c.startswith('ctest') else './' + c + (' --gtest_brief=1' if c.endswith(('_test', '_prop')) else '')
        return self.sh(['timeout', '-k', '5', str(self.timeout), 'bash', '-c', cmd], self.bdir,
                       timeout=self.timeout + 30)

    def run_baseline(self, checks):
        todo = [c for c in checks if c not in self.baseline]
        if not todo:
            return True
        if not self.build(targets_for(todo)):
            return False
        for c in todo:
            self.log.write(f'=== baseline {c}\n')
            self.baseline[c] = self.check(c) == 0
        return True

    def run(self, m):
        checks = checks_for(m.path)
        if not self.run_baseline(checks):
            return 'ERROR', 'unmutated build failed'
        orig = open(os.path.join(self.src, m.path)).read()
        with open(os.path.join(self.src, m.path), 'w') as f:
            f.write(apply(orig, m))
        try:
            self.log.write(f'=== mutant {m.ident()} {m.desc}\n')
            if not self.build(targets_for(checks)):
                return 'DID-NOT-COMPILE', ''
            flaky_kill = None
            for c in checks:
                r = self.check(c)
                if r == 0:
                    continue
                if not self.baseline.get(c):
                    flaky_kill = flaky_kill or c
                    continue
                timed_out = r in ('timeout', 124, 137)
                return ('TIMEOUT' if timed_out else 'KILLED'), c
            return ('FLAKY-KILL', flaky_kill) if flaky_kill else ('SURVIVED', '')
        finally:
            with open(os.path.join(self.src, m.path), 'w') as f:
                f.write(orig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=int(os.environ.get('HTTPOWER_MUTATE_SEED', '0')) or None)
    ap.add_argument('--count', type=int, default=int(os.environ.get('HTTPOWER_MUTATE_COUNT', '15')))
    ap.add_argument('--all', action='store_true', help='every mutant of the space (in order)')
    ap.add_argument('--only', default='', help="only mutants whose 'path:line:col mutation' contains this")
    ap.add_argument('--list', action='store_true', help='print the sampled mutants, run nothing')
    ap.add_argument('--timeout', type=int, default=int(os.environ.get('HTTPOWER_MUTATE_TIMEOUT', '60')))
    ap.add_argument('--dir', default='build/mutate', help='the scratch directory (copy, build, log)')
    ap.add_argument('--no-fail', action='store_true', help='exit 0 even when survivors remain')
    ap.add_argument('--survivors-advisory', action='store_true',
                    help='survivors are listed but do not fail the run (a flaky check or a '
                         'mutant that errs still does): the CI sample')
    args = ap.parse_args()

    space = [m for m in enumerate_space() if args.only in f'{m.ident()} {m.desc}']
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    if args.all:
        sample = space
    else:
        # In the sampled order, so that a run stopped early (SIGTERM) is still a uniform sample.
        sample = random.Random(seed).sample(space, min(args.count, len(space)))
    print(f'=== mutate: seed {seed}, {len(sample)} of {len(space)} mutants '
          f'({100.0 * len(sample) / max(1, len(space)):.1f}% of the space); '
          f'replay: ci/mutate.py --seed {seed} --count {len(sample)}' + (f" --only '{args.only}'" if args.only else ''))
    if args.list:
        for m in sample:
            print(f'{m.ident():45} {m.kind:5} {m.desc:28} | {m.text.strip()}')
        return 0

    base = os.path.join(ROOT, args.dir)
    os.makedirs(base, exist_ok=True)
    log = open(os.path.join(base, 'mutate.log'), 'w')
    runner = Runner(base, args.timeout, log)
    runner.prepare()
    equivalent = load_equivalent()
    os.environ.setdefault('HTTPOWER_TEST_SCALE', '0.3')
    os.environ.setdefault('HTTPOWER_STRESS_SCALE', '0.3')
    results = []
    t0 = time.time()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    for i, m in enumerate(sample, 1):
        t = time.time()
        try:
            verdict, by = runner.run(m)
        except KeyboardInterrupt:  # stopped early: the report covers the mutants run so far
            print(f'=== stopped after {i - 1} of {len(sample)} mutants')
            break
        if verdict == 'SURVIVED' and m.key() in equivalent:
            verdict = 'EQUIVALENT'
        results.append((m, verdict, by))
        print(f'[{i}/{len(sample)}] {verdict:15} {m.ident():42} {m.desc:26} {time.time() - t:5.1f}s'
              f'{"  by " + by if by else ""}', flush=True)
    return report(results, runner, seed, time.time() - t0, args.no_fail, args.survivors_advisory)


def report(results, runner, seed, secs, no_fail, survivors_advisory=False):
    print(f'=== mutation score (seed {seed}, {len(results)} mutants, {secs:.0f}s)')
    print(f'{"group":14} {"killed":>7} {"timeout":>8} {"survived":>9} {"equiv":>6} {"no-compile":>11} {"score":>7}')
    groups = {}
    for m, v, _ in results:
        groups.setdefault(group(m.path), []).append(v)
    for g in ['core/', 'queue header', 'server/']:
        vs = groups.get(g, [])
        k, to, s, e, nc = (vs.count(x) for x in ('KILLED', 'TIMEOUT', 'SURVIVED', 'EQUIVALENT', 'DID-NOT-COMPILE'))
        scored = k + to + s
        score = f'{100.0 * (k + to) / scored:.1f}%' if scored else '-'
        print(f'{g:14} {k:7} {to:8} {s:9} {e:6} {nc:11} {score:>7}')
    print('(score = (killed + timeout) / (killed + timeout + survived); equivalent and '
          'did-not-compile mutants are left out)')
    bad = False
    surv = [(m, v) for m, v, _ in results if v in ('SURVIVED', 'FLAKY-KILL', 'ERROR')]
    if surv:
        print('=== survivors (file:line:col  mutation | line)')
        for m, v in surv:
            print(f'{v:10} {m.ident():42} {m.desc:26} | {m.text.strip()}')
            print(f'  equivalent-list entry: {m.path} | {m.desc} | {m.text.strip()} | REASON')
        # A sampled survivor is work to do (a new check, or an argued equivalence), found by
        # chance; the CI sample lists it with its seed rather than failing at random.
        if not survivors_advisory or any(v != 'SURVIVED' for _, v in surv):
            bad = True
    flaky = [c for c, ok in runner.baseline.items() if not ok]
    if flaky:
        print('=== FLAKY: checks that failed on the unmutated tree (their kills do not count)')
        for c in flaky:
            print('  ' + c)
        bad = True
    return 1 if bad and not no_fail else 0


if __name__ == '__main__':
    sys.exit(main())
