"""
The one ``main`` body of every vla_ros node: start, spin, and stop in order.

rclpy's own signal handling is not used. On SIGINT/SIGTERM it shuts the context down from its
signal thread while callbacks and the nodes' threads may still be publishing ("RCLError: Failed
to publish: publisher's context is invalid", "failed to initialize wait set: the given context
is not valid"), and Python raises KeyboardInterrupt wherever the main thread happens to be,
inside rclpy's C++ bindings too ("RuntimeError: Unable to convert call argument '0' to Python
object"). Both ended a node now and then with a traceback and exit status 1.

Here a signal only asks for a stop (:class:`StopSignals`). The executor finishes the callback
it is in, ``executor.shutdown()`` waits for the others, the node stops its own timers and
threads in ``destroy_node``, and only then is the context shut down: nothing can publish into
a context that is gone. A repeated signal (launch sends SIGINT to a process that the terminal
already interrupted, then SIGTERM) changes nothing; SIGKILL remains for a node that hangs.
"""

from __future__ import annotations

from collections.abc import Callable
import signal
import sys
import threading

import rclpy
from rclpy.executors import SingleThreadedExecutor
import rclpy.logging
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from vla_ros.errors import VlaRosError

# [s] longest wait of the executor before it re-checks for a stop request: a signal handler
# runs in the main thread only between Python bytecodes, not while it waits in rcl_wait
SHUTDOWN_POLL_S = 0.1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """
    SIGINT and SIGTERM set :attr:`requested` (install in the main thread).

    Nothing is raised into the running code, so a signal never interrupts a callback or an
    rclpy call half way.
    """

    def __init__(self, signals: tuple[int, ...] = STOP_SIGNALS) -> None:
        self.requested = threading.Event()
        self.signum: int | None = None
        for s in signals:
            signal.signal(s, self._on_signal)

    def _on_signal(self, signum: int, _frame) -> None:
        if self.signum is None:
            self.signum = signum
        self.requested.set()


def init(args: list[str] | None = None) -> StopSignals:
    """``rclpy.init`` without rclpy's signal handlers; SIGINT/SIGTERM request a stop instead."""
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    return StopSignals()


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> None:
    """
    Initialize, build the node, spin until SIGINT/SIGTERM, then stop in order.

    Single-threaded on purpose: rclpy's MultiThreadedExecutor costs more per callback than
    these nodes' work (measured in multimodal_sync: 20 of 30 images/s handled with it, all of
    them without).
    """
    stop = init(args)
    try:
        node = make_node()
    except VlaRosError as e:  # bad parameters: one line that says which, no traceback
        rclpy.logging.get_logger(getattr(make_node, '__name__', 'node')).fatal(str(e))
        rclpy.try_shutdown()
        sys.exit(1)
    spin_until_shutdown(node, SingleThreadedExecutor(), stop)


def spin_until_shutdown(node: Node, executor, stop: StopSignals) -> None:
    """
    Spin ``executor`` (``node`` added here) until ``stop`` is requested, then clean up.

    Order: the executor stops (and waits for its callbacks), ``node.destroy_node()`` stops the
    node's timers and threads, then the context is shut down.
    """
    executor.add_node(node)
    try:
        while not stop.requested.is_set() and node.context.ok():
            executor.spin_once(timeout_sec=SHUTDOWN_POLL_S)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
