#!/usr/bin/env python3
"""ci/coverage-gaps.py GCOVR_JSON DIR: lists every line of DIR with a branch the suite never
took, as `path:line  taken/total  source`, from gcovr's --json output (the same filters as
ci/coverage.sh). docs/coverage.md gives each listed line its reason; ci/coverage.sh prints
the lines that are missing there, so a new gap is seen."""
import json
import os
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


def main():
    report, prefix = sys.argv[1], sys.argv[2]
    for path, n, taken, total, text in gaps(report, prefix):
        print(f'{path}:{n}  {taken}/{total}  {text}')


if __name__ == '__main__':
    main()
