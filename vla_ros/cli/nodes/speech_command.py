"""
``speech_command``: the console script of the node (spoken commands to ``vla/command``).

The node class is :class:`~vla_ros.nodes.speech_command.SpeechCommand`.
"""

from __future__ import annotations

from vla_ros.nodes.speech_command import SpeechCommand
from vla_ros.ros.spin import run_node


def main(args: list[str] | None = None) -> None:
    """Run the node until SIGINT/SIGTERM (``args``: ROS arguments, default sys.argv)."""
    run_node(SpeechCommand, args)
