"""
``mujoco_sim``: the console script of the node (the MuJoCo robot and world).

The node class is :class:`~vla_ros.nodes.mujoco_sim.MujocoSim`.
"""

from __future__ import annotations

from vla_ros.nodes.mujoco_sim import MujocoSim
from vla_ros.ros.spin import run_node


def main(args: list[str] | None = None) -> None:
    """Run the node until SIGINT/SIGTERM (``args``: ROS arguments, default sys.argv)."""
    run_node(MujocoSim, args)
