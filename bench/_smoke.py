"""
Smoke mode of the benchmarks: ``--smoke`` or ``VLA_BENCH_SMOKE=1``.

A smoke run takes the same code path as the full benchmark with tiny sizes and rounds (a
second or a few), so ``make test`` can run every benchmark (test/test_bench_smoke.py) and a
benchmark cannot break unnoticed. Its numbers mean nothing; its ``BENCH <name>`` line ends
with ``smoke=1``. Importing this module reads (and removes) ``--smoke`` from ``sys.argv``, before
a benchmark's own argument parser, and sets the variable for the benchmark's child processes.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
import shutil
import sys
import tempfile
from typing import TypeVar

ENV = 'VLA_BENCH_SMOKE'
FLAG = '--smoke'
T = TypeVar('T')
_tmp: Path | None = None


def _enabled() -> bool:
    if FLAG in sys.argv[1:]:
        sys.argv.remove(FLAG)
        os.environ[ENV] = '1'  # probes the benchmark starts run small too
    return os.environ.get(ENV, '') not in ('', '0')


SMOKE = _enabled()


def pick(full: T, smoke: T) -> T:
    """Return ``smoke`` in smoke mode, else ``full`` (a size, a duration, a round count)."""
    return smoke if SMOKE else full


def tag() -> str:
    """Return the suffix of the ``BENCH`` line: `` smoke=1`` in smoke mode, else nothing."""
    return ' smoke=1' if SMOKE else ''


def out_dir(full: Path) -> Path:
    """
    Return where a benchmark writes results and caches (``full``, or a throwaway directory).

    In smoke mode: a directory of that name in a temporary folder removed at exit, so smoke
    runs leave out/ (results, cached exports) alone.
    """
    global _tmp
    if not SMOKE:
        return full
    if _tmp is None:
        _tmp = Path(tempfile.mkdtemp(prefix='vla_bench_smoke_'))
        atexit.register(shutil.rmtree, _tmp, True)
    return _tmp / full.name
