"""The one ``main`` body of every single-threaded vla_ros node."""

from __future__ import annotations

import sys
from collections.abc import Callable

import rclpy
import rclpy.logging
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from vla_ros.errors import VlaRosError


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> None:
    """``rclpy.init``, build the node, spin until Ctrl-C or shutdown, then clean up.

    Plain ``rclpy.spin`` (single-threaded) on purpose: rclpy's MultiThreadedExecutor costs
    more per callback than these nodes' work (measured in multimodal_sync: 20 of 30 images/s
    handled with it, all of them without).
    """
    rclpy.init(args=args)
    try:
        node = make_node()
    except VlaRosError as e:  # bad parameters: one line that says which, no traceback
        rclpy.logging.get_logger(getattr(make_node, '__name__', 'node')).fatal(str(e))
        rclpy.try_shutdown()
        sys.exit(1)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
