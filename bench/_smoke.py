"""
Smoke mode of the benchmarks: ``--smoke`` or ``VLA_BENCH_SMOKE=1``.

A smoke run takes the same code path as the full benchmark with tiny sizes and rounds (a
second or a few), so ``make test`` can run every benchmark (test/test_bench_smoke.py) and a
benchmark cannot break unnoticed. Its numbers mean nothing; its ``BENCH <name>`` line ends
with ``smoke=1``. Importing this module reads (and removes) ``--smoke`` from ``sys.argv``, before
a benchmark's own argument parser, and sets the variable for the benchmark's child processes.
"""

from __future__ import annotations

import os
import sys
from typing import TypeVar

ENV = 'VLA_BENCH_SMOKE'
FLAG = '--smoke'
T = TypeVar('T')


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
