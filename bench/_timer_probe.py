"""
Same-run baseline of BENCH control: a bare rclpy 50 Hz timer beside a busy onnxruntime session.

The session runs the policy bundle with 1 intra-op thread, inferring back to back in a second
thread; the timer publishes a JointTrajectory per tick on ``/bench_probe/joint_trajectory``. The
bench receives it exactly as it receives vla_policy's commands, so both jitters include timer +
DDS + the listener. argv: bundle directory, seconds to run (once the bench's listener matched).
"""

from __future__ import annotations

import sys
import threading
import time

import _policy_graph as G  # noqa: F401 - sets up sys.path and the DDS environment
from bench_e2e import example_frame
import numpy as np


def main() -> int:
    import rclpy
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    from vla_ros.core.runtime.policy_runtime import PolicyRuntime

    bundle, seconds = sys.argv[1], float(sys.argv[2])
    rt = PolicyRuntime.from_bundle(bundle, intra_op_threads=1)
    rt.set_command('pick up the red cube')
    frame = example_frame()
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            rt.infer(frame)

    rclpy.init()
    node = rclpy.create_node('bench_timer_probe')
    pub = node.create_publisher(JointTrajectory, '/bench_probe/joint_trajectory', 1)

    def tick() -> None:
        msg = JointTrajectory(joint_names=['j'])
        msg.points.append(JointTrajectoryPoint(positions=[float(np.float64(0.0))]))
        pub.publish(msg)

    node.create_timer(0.02, tick)
    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    wait_end = time.monotonic() + 30.0  # the bench's listener matched: no tick lost to discovery
    while pub.get_subscription_count() == 0 and time.monotonic() < wait_end:
        rclpy.spin_once(node, timeout_sec=0.05)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        stop.set()
        worker.join()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
