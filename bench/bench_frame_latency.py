"""BENCH frame_latency: header stamp -> frame assembled, across processes, 30 Hz 640x480.

A fake_sensors child process publishes a 30 Hz 640x480 rgb8 camera plus audio, tactile and
joints. In this process, phase 1 subscribes to the bare image topic (stamp -> callback: the
DDS transfer + rclpy deserialization), phase 2 runs the SensorInputs front end (stamp ->
``on_frame``: transfer + conversion + synchronization + frame assembly). Same run, same
publisher; phases alternate 3 x 3 s each; medians. Prints one line.
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
import time

import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(ROOT / 'config/fastdds_shm.xml'))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

from vla_ros.nodes.sensor_inputs import SensorInputs, declare_sync_parameters  # noqa: E402
from vla_ros.tools.procs import NodeProcess, ros_args  # noqa: E402

WARMUP_S, SETTLE_S, PHASE_S, ROUNDS = 2.0, 1.0, 3.0, 3


def spin(node: Node, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)


def main() -> None:
    rclpy.init()
    log = pathlib.Path(tempfile.gettempdir()) / f'bench_frame_latency_{os.getpid()}.log'
    sensors = NodeProcess('fake_sensors', ros_args(params={
        'cameras': ['front'], 'camera_rate_hz': 30.0, 'image_width': 640,
        'image_height': 480}), log_path=log)
    bare: list[float] = []
    lat: list[float] = []
    frames_dropped = 0
    with sensors:
        time.sleep(WARMUP_S)
        for _ in range(ROUNDS):  # alternate phases so drift in load hits both alike
            bare_node = Node('bench_bare')
            clock = bare_node.get_clock()
            got: list[float] = []

            def on_image(msg: Image, clock=clock, got=got) -> None:
                stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
                got.append((clock.now().nanoseconds - stamp) / 1e6)

            bare_node.create_subscription(Image, '/camera/front/image_raw', on_image,
                                          qos_profile_sensor_data)
            spin(bare_node, SETTLE_S)
            got.clear()
            spin(bare_node, PHASE_S)
            bare += got
            bare_node.destroy_node()

            sync_node = Node('bench_sync', parameter_overrides=[
                Parameter('cameras', value=['front'])])
            sync_clock = sync_node.get_clock()
            got = []
            inputs = SensorInputs(
                sync_node, declare_sync_parameters(sync_node),
                on_frame=lambda f, c=sync_clock, g=got: g.append(
                    (c.now().nanoseconds - f.stamp_ns) / 1e6))
            spin(sync_node, SETTLE_S)
            got.clear()
            spin(sync_node, PHASE_S)
            lat += got
            frames_dropped += inputs.sync.stats.frames_dropped
            sync_node.destroy_node()
    rclpy.try_shutdown()
    if not bare or not lat:
        print(f'BENCH frame_latency ms=nan dds_ms=nan ratio=nan (no data; log {log})')
        sys.exit(1)
    ms, dds = float(np.median(lat)), float(np.median(bare))
    print(f'BENCH frame_latency ms={ms:.2f} dds_ms={dds:.2f} ratio={ms / dds:.2f} '
          f'frames={len(lat)} images={len(bare)} p90_ms={np.percentile(lat, 90):.2f} '
          f'dds_p90_ms={np.percentile(bare, 90):.2f} frames_dropped={frames_dropped}')


if __name__ == '__main__':
    main()
