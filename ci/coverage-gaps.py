#!/usr/bin/env python3
"""ci/coverage-gaps.py GCOVR_JSON DIR [DOC]: lists every line of DIR with a branch the suite never
took, as `path:line  taken/total  source`, from gcovr's --json output (the same filters as
ci/coverage.sh). docs/coverage.md gives each listed line its reason; with DOC, the gaps whose
file and source text no row of DOC holds are printed after the list as `NOT IN DOC: ...`."""
import json
import os
import re
import sys


def gaps(report, prefix):
    out = []
    for f in json.load(open(report))['files']:
        path = f['file']
        if not path.startswith(prefix):
            continue
        src = open(path).read().split('\n') if os.path.exists(path) else []
        for ln in f['lines']:
            br = ln.get('branches', [])
            if not br or ln.get('gcovr/noncode'):
                continue
            taken = sum(1 for b in br if b['count'] > 0)
            if taken < len(br):
                n = ln['line_number']
                text = src[n - 1].strip() if n <= len(src) else ''
                out.append((path, n, taken, len(br), text))
    return sorted(out)


def cell(text):  # the source column of a docs/coverage.md row
    text = text.replace('|', '\\|')
    return text[:87] + '...' if len(text) > 90 else text


def main():
    report, prefix = sys.argv[1], sys.argv[2]
    listed = set()
    if len(sys.argv) > 3:
        for row in open(sys.argv[3]):
            m = re.match(r'\| \w \| `([^`:]+):\d+` \| [\d/]+ \| `(.*)` \|$', row.rstrip('\n'))
            if m:
                listed.add((m.group(1), m.group(2)))
    found = gaps(report, prefix)
    for path, n, taken, total, text in found:
        print(f'{path}:{n}  {taken}/{total}  {text}')
    if len(sys.argv) > 3:
        for path, n, taken, total, text in found:
            if (path, cell(text)) not in listed:
                print(f'NOT IN DOC: {path}:{n}  {taken}/{total}  {text}')


if __name__ == '__main__':
    main()
