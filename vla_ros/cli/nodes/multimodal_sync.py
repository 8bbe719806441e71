"""
``multimodal_sync``: the console script of the node (sensor streams to MultimodalFrame).

The node class is :class:`~vla_ros.nodes.multimodal_sync.MultimodalSync`.
"""

from __future__ import annotations

from vla_ros.nodes.multimodal_sync import MultimodalSync
from vla_ros.ros.spin import run_node


def main(args: list[str] | None = None) -> None:
    """Run the node until SIGINT/SIGTERM (``args``: ROS arguments, default sys.argv)."""
    run_node(MultimodalSync, args)
