"""The one ``main`` body of every single-threaded vla_ros node."""

from __future__ import annotations

from collections.abc import Callable
import sys

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
import rclpy.logging
from rclpy.node import Node
from vla_ros.errors import VlaRosError

SHUTDOWN_POLL_S = 0.5  # [s] longest wait of the executor before it re-checks for shutdown


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> None:
    """
    ``rclpy.init``, build the node, spin until Ctrl-C or shutdown, then clean up.

    Single-threaded on purpose: rclpy's MultiThreadedExecutor costs
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
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        # rclpy.spin with a wait timeout: a SIGTERM/SIGINT that shuts the context down just
        # as the executor starts waiting was sometimes never noticed (the node hung on exit)
        while rclpy.ok():
            executor.spin_once(timeout_sec=SHUTDOWN_POLL_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


def spin_until_shutdown(node: Node, executor) -> None:
    """
    Spin ``executor`` (``node`` added) until Ctrl-C or shutdown, then clean up.

    rclpy can fail a take that races the SIGINT shutdown of the context ('Unable to convert
    call argument'): an exit, not a crash; while running it still raises.
    """
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RuntimeError:
        if rclpy.ok():
            raise
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
