"""``make demo``: start the sensor graph as processes and report what flows through it.

Stage 1 (foundation): ``fake_sensors`` runs as its own process; this process subscribes over
DDS, measures per-topic rates and latency (header stamp -> arrival) and prints a table.
Exits non-zero when a stream is missing or far below its rate.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image, JointState
from vla_ros_msgs.msg import AudioChunk, TactileArray

from vla_ros import constants as C
from vla_ros.tools.procs import NodeProcess, ros_args

MIN_RATE_FRACTION = 0.5


class RateProbe(Node):
    """Counts messages and stamp-to-arrival latency per topic."""

    def __init__(self, topics: dict[str, type]) -> None:
        super().__init__('vla_demo_probe')
        self.stats: dict[str, list[float]] = {t: [] for t in topics}
        for topic, msg_type in topics.items():
            self.create_subscription(
                msg_type, topic, lambda m, t=topic: self._on_msg(t, m), qos_profile_sensor_data)

    def _on_msg(self, topic: str, msg) -> None:
        now_ns = self.get_clock().now().nanoseconds
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        self.stats[topic].append((now_ns - stamp_ns) * 1e-6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--duration', type=float, default=5.0, help='measurement time [s]')
    args = parser.parse_args(argv)

    expected = {C.camera_topic(c): 30.0 for c in C.DEFAULT_CAMERAS}
    expected.update({C.AUDIO_TOPIC: 50.0, C.TACTILE_TOPIC: 100.0, C.JOINT_STATES_TOPIC: 100.0})
    types = {C.camera_topic(c): Image for c in C.DEFAULT_CAMERAS}
    types.update({C.AUDIO_TOPIC: AudioChunk, C.TACTILE_TOPIC: TactileArray,
                  C.JOINT_STATES_TOPIC: JointState})

    log = tempfile.NamedTemporaryFile(prefix='fake_sensors_', suffix='.log', delete=False)
    print('[demo] starting fake_sensors (640x480 rgb8 x2 @30Hz, audio, tactile, joints)')
    rclpy.init()
    ok = True
    with NodeProcess('fake_sensors', ros_args(), log_path=log.name) as sensors:
        probe = RateProbe(types)
        executor = rclpy.executors.SingleThreadedExecutor()
        executor.add_node(probe)
        try:
            warmup_end = time.monotonic() + 10.0
            while time.monotonic() < warmup_end and not all(probe.stats.values()):
                executor.spin_once(timeout_sec=0.1)
                sensors.check_alive()
            for samples in probe.stats.values():
                samples.clear()
            end = time.monotonic() + args.duration
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.1)
            sensors.check_alive()
        finally:
            probe.destroy_node()
            rclpy.try_shutdown()
    print(f'{"topic":28s} {"rate_hz":>8s} {"expected":>8s} {"latency_ms(median)":>18s}')
    for topic, samples in probe.stats.items():
        rate = len(samples) / args.duration
        lat = sorted(samples)[len(samples) // 2] if samples else float('nan')
        good = rate >= MIN_RATE_FRACTION * expected[topic]
        ok &= good
        print(f'{topic:28s} {rate:8.1f} {expected[topic]:8.1f} {lat:18.2f}'
              f'{"" if good else "  <-- LOW"}')
    print(f'[demo] {"OK" if ok else "FAILED"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
