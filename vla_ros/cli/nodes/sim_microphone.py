"""
``sim_microphone``: the console script of the node (the simulated microphone).

The node class is :class:`~vla_ros.nodes.sim_microphone.SimMicrophone`.
"""

from __future__ import annotations

from vla_ros.nodes.sim_microphone import SimMicrophone
from vla_ros.ros.spin import run_node


def main(args: list[str] | None = None) -> None:
    """Run the node until SIGINT/SIGTERM (``args``: ROS arguments, default sys.argv)."""
    run_node(SimMicrophone, args)
