"""
Run all benchmarks, or the ones named: ``python -m bench [--smoke] [NAME ...]``.

Each ``bench/bench_<name>.py`` runs in its own process (clean memory and thread state) and
prints one summary line ``BENCH <name> key=value ...`` comparing against a same-run baseline.
``--smoke`` runs each in its smoke mode (bench/_smoke.py: the same code path with tiny sizes,
a few seconds each, the line marked ``smoke=1``), as ``make test`` does.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
SMOKE_ENV = 'VLA_BENCH_SMOKE'  # bench/_smoke.py reads it


def available() -> list[str]:
    return sorted(p.stem.removeprefix('bench_') for p in HERE.glob('bench_*.py'))


def main(argv: list[str]) -> int:
    smoke = '--smoke' in argv
    names = [a for a in argv if a != '--smoke'] or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f'unknown benchmark(s) {unknown}; available: {available()}', file=sys.stderr)
        return 2
    env = {**os.environ, SMOKE_ENV: '1'} if smoke else None
    failed = []
    for name in names:
        res = subprocess.run([sys.executable, str(HERE / f'bench_{name}.py')],
                             cwd=HERE.parent, env=env)
        if res.returncode != 0:
            failed.append(name)
    if failed:
        print(f'benchmarks failed: {failed}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
