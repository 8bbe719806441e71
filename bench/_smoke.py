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
import json
import os
from pathlib import Path
import shutil
import sys
import tempfile
from typing import TypeVar

import yaml

ENV = 'VLA_BENCH_SMOKE'
FLAG = '--smoke'
# smoke mode: a directory of random-weights bundles (seed 0) the tests already exported
# (test/test_bench_smoke.py); random_bundle copies the one of the same config from there
BUNDLES_ENV = 'VLA_BENCH_SMOKE_BUNDLES'
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


def random_bundle(out: Path, cfg) -> Path:
    """
    Return a random-weights bundle of ``cfg`` (seed 0) in ``out``: exported, or a copy.

    In smoke mode with ``BUNDLES_ENV`` set, a bundle there whose recorded config is ``cfg``'s
    is copied to ``out`` instead (the same files: the export is seeded), so a smoke run needs
    no torch; without a match it is exported as in a full run.
    """
    cache = os.environ.get(BUNDLES_ENV, '') if SMOKE else ''
    want = json.loads(json.dumps(cfg.to_dict()))  # tuples -> lists, as bundle.yaml holds them
    for cand in sorted(Path(cache).iterdir()) if cache else ():
        prov = yaml.safe_load((cand / 'bundle.yaml').read_text())['provenance']
        if (prov.get('config') == want and prov.get('seed') == 0
                and prov.get('source') == 'export_random_bundle' and not prov.get('int8')
                and prov.get('parity_max_abs') is not None):  # None: a NaN-output bundle
            shutil.copytree(cand, out, dirs_exist_ok=True)
            return out
    # optional heavy dependency: torch (the export)
    from vla_ros.model.export import export_random_bundle
    return export_random_bundle(out, cfg)
