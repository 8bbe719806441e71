"""The one ``main`` body of every single-threaded vla_ros node."""

from __future__ import annotations

from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> None:
    """``rclpy.init``, build the node, spin until Ctrl-C or shutdown, then clean up.

    Plain ``rclpy.spin`` (single-threaded) on purpose: rclpy's MultiThreadedExecutor costs
    more per callback than these nodes' work (measured in multimodal_sync: 20 of 30 images/s
    handled with it, all of them without).
    """
    rclpy.init(args=args)
    node = make_node()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
