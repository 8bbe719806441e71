"""
``fake_sensors``: the console script of the node (synthetic sensor streams).

The node class is :class:`~vla_ros.nodes.fake_sensors.FakeSensors`.
"""

from __future__ import annotations

from vla_ros.nodes.fake_sensors import FakeSensors
from vla_ros.ros.spin import run_node


def main(args: list[str] | None = None) -> None:
    """Run the node until SIGINT/SIGTERM (``args``: ROS arguments, default sys.argv)."""
    run_node(FakeSensors, args)
