"""
A stand-alone simulator clock for fault-injection tests.

It publishes /clock at RATE_HZ, advancing at wall rate from START_S. Signals move it: SIGUSR1 jumps
forward by JUMP_S, SIGUSR2 jumps back to START_S (what a simulator reset does); SIGSTOP / SIGCONT
freeze it (like a frozen simulator, its time resumes where it stopped).

Usage: python clock_source.py   (prints 'ready' once the publisher exists)
"""

from __future__ import annotations

import signal
import sys
import time

import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

RATE_HZ = 200.0
START_S = 100.0
JUMP_S = 5.0


def main() -> None:
    rclpy.init()
    node = rclpy.create_node('test_clock_source')
    pub = node.create_publisher(Clock, '/clock',
                                QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    offset = {'s': START_S - time.monotonic()}

    def forward(*_) -> None:
        offset['s'] += JUMP_S

    def reset(*_) -> None:
        offset['s'] = START_S - time.monotonic()

    signal.signal(signal.SIGUSR1, forward)
    signal.signal(signal.SIGUSR2, reset)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    print('ready', flush=True)
    msg = Clock()
    last = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now - last > 0.2:  # we were stopped: sim time stood still meanwhile
                offset['s'] -= now - last
            last = now
            t_ns = int((time.monotonic() + offset['s']) * 1e9)
            msg.clock.sec, msg.clock.nanosec = divmod(t_ns, 1_000_000_000)
            pub.publish(msg)
            time.sleep(1.0 / RATE_HZ)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
