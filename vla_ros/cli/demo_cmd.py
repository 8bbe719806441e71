"""``vla-ros demo``: the end-to-end demo (same as ``make demo``)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--seed', type=int, default=100_007, help='world seed')
    parser.add_argument('--bundle', default=None, help='policy bundle (default: models/default)')


def run(args: argparse.Namespace) -> int:
    from vla_ros.tools import demo

    argv = ['--seed', str(args.seed)] + (['--bundle', args.bundle] if args.bundle else [])
    return demo.main(argv)
