"""
Run all benchmarks, or the one named: ``python -m bench [NAME]``.

Each ``bench/bench_<name>.py`` runs in its own process (clean memory and thread state) and
prints one summary line ``BENCH <name> key=value ...`` comparing against a same-run baseline.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix('bench_') for p in HERE.glob('bench_*.py'))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f'unknown benchmark(s) {unknown}; available: {available()}', file=sys.stderr)
        return 2
    failed = []
    for name in names:
        res = subprocess.run([sys.executable, str(HERE / f'bench_{name}.py')],
                             cwd=HERE.parent)
        if res.returncode != 0:
            failed.append(name)
    if failed:
        print(f'benchmarks failed: {failed}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
