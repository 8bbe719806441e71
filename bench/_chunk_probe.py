"""
Probe of ``bench remote`` (runs on the robot host, inside its network namespace).

Sends a language command, then for ``--seconds`` records, per chunk previewed on
``/vla_policy/action_chunk``: receipt (wall clock) - frame stamp [ms] -- fake_sensors stamps
with the wall clock, so this is frame -> chunk in the scheduler plus one local DDS hop. Also
the newest ``remote_bytes_per_frame`` and ``remote_rtt_ms`` of vla_policy's diagnostics.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

from diagnostic_msgs.msg import DiagnosticArray
import rclpy
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import String
from vla_ros.core.convert import stamp_to_ns
from vla_ros.qos import LATCHED_QOS
from vla_ros_msgs.msg import ActionChunk, PolicyStatus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=float, default=8.0)
    ap.add_argument('--warm', type=float, default=2.0)
    ap.add_argument('--wait-publisher', default='',
                    help='command only once this topic has a publisher (the remote server)')
    a = ap.parse_args()
    rclpy.init()
    node = rclpy.create_node('remote_bench_probe')
    lat: list[tuple[float, float]] = []
    diag: dict[str, str] = {}
    state = ['']
    node.create_subscription(ActionChunk, '/vla_policy/action_chunk', lambda m: lat.append(
        (time.monotonic(), (time.time_ns() - stamp_to_ns(m.frame_stamp)) * 1e-6)), 50)
    node.create_subscription(PolicyStatus, '/vla_policy/status',
                             lambda m: state.__setitem__(0, m.state_name), LATCHED_QOS)

    def on_diag(m: DiagnosticArray) -> None:
        for s in m.status:
            diag.update({kv.key: kv.value for kv in s.values if kv.key.startswith('remote_')})
    node.create_subscription(DiagnosticArray, '/diagnostics', on_diag, 10)
    cmd = node.create_publisher(String, '/vla/command', LATCHED_QOS)
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60 and (state[0] not in ('idle', 'running') or (
            a.wait_publisher and not node.count_publishers(a.wait_publisher))):
        ex.spin_once(timeout_sec=0.1)
    cmd.publish(String(data='pick up the red cube'))
    t_start = time.monotonic() + a.warm
    while time.monotonic() < t_start + a.seconds:
        ex.spin_once(timeout_sec=0.1)
    window = [v for t, v in lat if t >= t_start]
    print(json.dumps({'latencies_ms': window, 'state': state[0], **diag}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == '__main__':
    main()
