"""``vla-ros demo``: the end-to-end demo (same as ``make demo``)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--duration', type=float, default=5.0, help='measurement time [s]')


def run(args: argparse.Namespace) -> int:
    from vla_ros.tools import demo

    return demo.main(['--duration', str(args.duration)])
