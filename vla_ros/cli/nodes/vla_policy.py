"""``vla_policy``: the console script of :class:`~vla_ros.nodes.vla_policy.VlaPolicy`."""

from __future__ import annotations

import sys

import rclpy
import rclpy.logging
from vla_ros.errors import VlaRosError
from vla_ros.nodes.vla_policy import VlaPolicy
from vla_ros.ros.rt_loop import make_executor, set_fifo_priority
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
    # With the graph in a child process, the GIL holders left here are the executor's
    # callbacks; at SCHED_FIFO (below the control thread) none is preempted by another process
    # while holding it. Not with the graph in a thread: configure starts it from this thread.
    prio = int(node.get_parameter('executor_priority').value)
    if prio > 0 and node.get_parameter('inference_worker').value == 'process':
        set_fifo_priority(prio, logger=node.get_logger(), what='executor thread')
    spin_until_shutdown(node, make_executor(str(node.get_parameter('executor').value)), stop)
