"""``vla_policy``: the console script of :class:`~vla_ros.nodes.vla_policy.VlaPolicy`."""

from __future__ import annotations

import sys

import rclpy
import rclpy.logging
from vla_ros.errors import VlaRosError
from vla_ros.nodes.vla_policy import VlaPolicy
from vla_ros.ros.rt_loop import make_executor
from vla_ros.ros.spin import init, spin_until_shutdown


def main(args: list[str] | None = None) -> None:
    """Run the lifecycle policy node on its configured executor until SIGINT/SIGTERM."""
    stop = init(args)
    try:
        node = VlaPolicy()
    except VlaRosError as e:  # bad sync parameters: one line, no traceback
        rclpy.logging.get_logger('vla_policy').fatal(str(e))
        rclpy.try_shutdown()
        sys.exit(1)
    # A thread woken from sleep needs the GIL; the holder drops it only every switch
    # interval (default 5 ms): the classic cause of multi-ms wake-up latency of the control
    # thread beside busy sensor/inference threads.
    switch_ms = float(node.get_parameter('gil_switch_interval_ms').value)
    if switch_ms > 0:
        sys.setswitchinterval(switch_ms * 1e-3)
    spin_until_shutdown(node, make_executor(str(node.get_parameter('executor').value)), stop)
