"""
``python -m vla_ros.cli.gazebo_files``: regenerate the Gazebo files from the robot description.

Rewrites ``config/vla_arm.urdf`` and ``config/tabletop_world.sdf`` (:mod:`vla_ros.sim.gazebo`);
``--check`` writes nothing and exits 1 when they are stale. A maintainer tool, not a
``vla-ros`` subcommand.
"""

from __future__ import annotations

import sys

from vla_ros.cli.common import ArgumentParser
from vla_ros.sim.gazebo import stale_files, write_files

PROG = 'python -m vla_ros.cli.gazebo_files'


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog=PROG, description=__doc__.strip().splitlines()[0])
    parser.add_argument('--check', action='store_true', help='exit 1 if files are stale')
    args = parser.parse_args(argv)
    if not args.check:
        for path in write_files():
            print(f'wrote {path}')
        return 0
    stale = [str(p) for p in stale_files()]
    if stale:
        print(f'stale generated files: {stale}; run {PROG}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
