"""
``python -m vla_ros.cli.lerobot_figure BAG``: the round-trip figure of docs/lerobot.md.

One recorded episode -> LeRobotDataset -> bags -> the sync core again
(:mod:`vla_ros.lerobot_io.figure`); draws source and round trip side by side and prints the
numbers (``ROUNDTRIP key=value ...``). Needs the LeRobot venv (``make lerobot-env``). A
maintainer tool, not a ``vla-ros`` subcommand.
"""

from __future__ import annotations

from pathlib import Path
import shutil
import sys
import tempfile

from vla_ros.cli.common import ArgumentParser, run_command
from vla_ros.lerobot_io.figure import plot, round_trip

PROG = 'python -m vla_ros.cli.lerobot_figure'


def main(argv: list[str] | None = None) -> int:
    p = ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument('bag', type=Path, help='one recorded episode (a bag directory)')
    p.add_argument('--png', type=Path, default=Path('docs/img/lerobot_round_trip.png'),
                   help='the figure to write')
    a = p.parse_args(argv)

    def go() -> int:
        work = Path(tempfile.mkdtemp(prefix='vla_ros_rt_'))
        try:
            src, back, nums = round_trip(a.bag, work)
            plot(src, back, nums, a.png)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print('ROUNDTRIP ' + ' '.join(f'{k}={v:.4g}' for k, v in nums.items()))
        return 0
    return run_command(PROG, go)


if __name__ == '__main__':
    sys.exit(main())
