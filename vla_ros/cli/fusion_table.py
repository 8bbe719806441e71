"""
``python -m vla_ros.cli.fusion_table``: train and compare the fusions at one budget.

The earlier, smaller comparison of :mod:`vla_ros.eval.fusion_table` (every fusion trained on
the same bags with the same steps, then evaluated closed loop through the nodes); writes one
bundle per fusion under ``--out``, a markdown page and a bar chart. A maintainer tool, not a
``vla-ros`` subcommand.

    python -m vla_ros.cli.fusion_table out/demos --steps 4000 --episodes 2
"""

from __future__ import annotations

from pathlib import Path
import sys

from vla_ros.cli.common import ArgumentParser
from vla_ros.eval.fusion_table import compare, FUSIONS, write_comparison


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog='python -m vla_ros.cli.fusion_table', description=__doc__)
    p.add_argument('data', nargs='+', help='bag directories (as for vla-ros train)')
    p.add_argument('--steps', type=int, default=4000, help='optimizer steps per fusion')
    p.add_argument('--episodes', type=int, default=2, help='eval episodes per task kind')
    p.add_argument('--fusions', default=','.join(FUSIONS), help='comma-separated fusions')
    p.add_argument('--threads', type=int, default=2, help='torch threads')
    p.add_argument('--cache', default='out/cache', help='dataset cache')
    p.add_argument('--out', type=Path, default=Path('out/fusion'), help='bundles and results')
    p.add_argument('--md', type=Path, default=Path('docs/fusion.md'), help='the page to write')
    p.add_argument('--png', type=Path, default=Path('docs/img/fusion.png'), help='its chart')
    p.add_argument('--skip-train', action='store_true', help='reuse bundles under --out')
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    records, runs = compare(a.data, a.out, fusions=a.fusions.split(','), steps=a.steps,
                            episodes=a.episodes, threads=a.threads, cache=a.cache,
                            skip_train=a.skip_train)
    print(write_comparison(records, runs, a.md, a.png))
    return 0


if __name__ == '__main__':
    sys.exit(main())
