"""
``gz_tactile``: the console script of the node (Gazebo contacts to taxels).

The node class is :class:`~vla_ros.nodes.gz_tactile.GzTactile`.
"""

from __future__ import annotations

from vla_ros.nodes.gz_tactile import GzTactile
from vla_ros.ros.spin import run_node


def main(args: list[str] | None = None) -> None:
    """Run the node until SIGINT/SIGTERM (``args``: ROS arguments, default sys.argv)."""
    run_node(GzTactile, args)
