"""
``python -m vla_ros.cli.fusion_study``: the fusion study (what ``make fusion-study`` runs).

Runs the stages of :mod:`vla_ros.eval.fusion_study` that are not yet in the results
directory, then regenerates ``docs/fusion.md`` and its figure (``--report-only``: only that).
A maintainer tool, not a ``vla-ros`` subcommand.
"""

from __future__ import annotations

from pathlib import Path
import sys

from vla_ros.cli.common import ArgumentParser
from vla_ros.eval.fusion_conditions import FUSIONS
from vla_ros.eval.fusion_study import RESULTS, ROOT, run_study

STAGES = ('timing', 'robust', 'eval')


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog='python -m vla_ros.cli.fusion_study',
                       description=__doc__.strip().splitlines()[0])
    p.add_argument('--bundles', type=Path, default=ROOT / 'out' / 'fusion',
                   help='trained bundles, one directory per fusion')
    p.add_argument('--fusions', default=','.join(FUSIONS), help='comma-separated fusions')
    p.add_argument('--episodes', type=int, default=10, help='episodes per task kind')
    p.add_argument('--stages', default=','.join(STAGES),
                   help='comma-separated subset of timing, robust, eval')
    p.add_argument('--report-only', action='store_true', help='only regenerate the report')
    p.add_argument('--results', type=Path, default=RESULTS, help='per-episode results')
    p.add_argument('--md', type=Path, default=ROOT / 'docs' / 'fusion.md', help='the report')
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the stages that are missing, then regenerate the report."""
    a = build_parser().parse_args(argv)

    stages = () if a.report_only else tuple(a.stages.split(','))
    run_study(a.bundles, fusions=tuple(a.fusions.split(',')), episodes=a.episodes,
              stages=stages, results=a.results, md=a.md)
    return 0


if __name__ == '__main__':
    sys.exit(main())
