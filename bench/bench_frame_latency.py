"""
BENCH frame_latency: header stamp -> frame assembled, across processes, 30 Hz 640x480.

A fake_sensors child process publishes a 30 Hz 640x480 rgb8 camera plus audio, tactile and
joints. In this process, phase 1 subscribes to the bare image topic (stamp -> callback: the
DDS transfer + rclpy deserialization), phase 2 runs the SensorInputs front end (stamp ->
``on_frame``: transfer + conversion + synchronization + frame assembly). Same run, same
publisher; phases alternate 3 x 3 s each; medians. Prints one line with the spread: p10/p90
of each path and the ratio of the per-round medians (min..max over the rounds). The frame
path contains the bare transfer, so a ratio below 1.0 is not a speed-up: ``verdict`` says
whether the rounds' ratios are all above 1.0 (``slower``), straddle it, or are all below it
(then the phases differed in something other than the code: discovery, load, cache).
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

sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until  # noqa: E402
from vla_ros.ros.sensor_inputs import declare_sync_parameters, SensorInputs  # noqa: E402, I100

WARMUP_S, SETTLE_S, PHASE_S, ROUNDS = S.pick((2.0, 1.0, 3.0, 3), (0.5, 0.3, 1.0, 1))


def spin(node: Node, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)


def settle(node: Node, got: list, timeout_s: float = 30.0) -> None:
    """Spin SETTLE_S, then until the phase's first sample arrived (discovery can be slower)."""
    spin(node, SETTLE_S)
    end = time.monotonic() + timeout_s
    while not got and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)


def main() -> None:
    rclpy.init()
    log = pathlib.Path(tempfile.gettempdir()) / f'bench_frame_latency_{os.getpid()}.log'
    sensors = NodeProcess('fake_sensors', ros_args(params={
        'cameras': ['front'], 'camera_rate_hz': 30.0, 'image_width': 640,
        'image_height': 480}), log_path=log)
    bare: list[float] = []
    lat: list[float] = []
    round_ratios: list[float] = []
    frames_dropped = 0
    with sensors:
        waiter = Node('bench_wait')  # the camera must be up before the first phase
        wait_until(lambda: waiter.count_publishers('/camera/front/image_raw') > 0, 60.0)
        waiter.destroy_node()
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
            settle(bare_node, got)
            got.clear()
            spin(bare_node, PHASE_S)
            bare += got
            bare_round = float(np.median(got)) if got else float('nan')
            bare_node.destroy_node()

            sync_node = Node('bench_sync', parameter_overrides=[
                Parameter('cameras', value=['front'])])
            sync_clock = sync_node.get_clock()
            got = []
            inputs = SensorInputs(
                sync_node, declare_sync_parameters(sync_node),
                on_frame=lambda f, c=sync_clock, g=got: g.append(
                    (c.now().nanoseconds - f.stamp_ns) / 1e6))
            settle(sync_node, got)
            got.clear()
            spin(sync_node, PHASE_S)
            lat += got
            if got:
                round_ratios.append(float(np.median(got)) / bare_round)
            frames_dropped += inputs.sync.stats.frames_dropped
            sync_node.destroy_node()
    rclpy.try_shutdown()
    if not bare or not lat:
        print(f'BENCH frame_latency ms=nan dds_ms=nan ratio=nan (no data; log {log})')
        sys.exit(1)
    ms, dds = float(np.median(lat)), float(np.median(bare))
    lo, hi = min(round_ratios), max(round_ratios)
    ratio = ms / dds
    # the frame path includes the bare transfer: a ratio below 1.0 is not a speed-up but the
    # two phases' conditions differing (discovery, load, cache); say which case this run is
    verdict = ('slower' if lo > 1.0 else 'straddles_1' if hi >= 1.0
               else 'below_1_all_rounds_not_a_speedup')
    print(f'BENCH frame_latency ms={ms:.2f} dds_ms={dds:.2f} ratio={ratio:.2f} '
          f'ratio_rounds={lo:.2f}..{hi:.2f} verdict={verdict} '
          f'p10_ms={np.percentile(lat, 10):.2f} p90_ms={np.percentile(lat, 90):.2f} '
          f'dds_p10_ms={np.percentile(bare, 10):.2f} dds_p90_ms={np.percentile(bare, 90):.2f} '
          f'frames={len(lat)} images={len(bare)} frames_dropped={frames_dropped}{S.tag()}')


if __name__ == '__main__':
    main()
