"""Every vla_ros_msgs type survives a round trip through another process over DDS."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import time

from builtin_interfaces.msg import Time
import numpy as np
import pytest
from sensor_msgs.msg import Image, JointState
from vla_ros_msgs.msg import (ActionChunk, AudioChunk, ModalityWeights, MultimodalFrame,
                              PolicyStatus, TactileArray, TactilePad)

ECHO = pathlib.Path(__file__).parent / 'helpers' / 'echo_node.py'


def _audio() -> AudioChunk:
    m = AudioChunk(sample_rate=16000, channels=2, encoding=AudioChunk.ENCODING_S16LE)
    m.header.stamp = Time(sec=12, nanosec=345)
    m.data = np.arange(-320, 320, dtype='<i2').tobytes()
    return m


def _tactile() -> TactileArray:
    m = TactileArray(unit='N')
    m.pads = [TactilePad(name='left', frame_id='l', rows=4, cols=4, channels=1),
              TactilePad(name='right', frame_id='r', rows=2, cols=3, channels=3)]
    m.values = np.linspace(0, 1, 16 + 18, dtype=np.float32).tolist()
    return m


def _frame() -> MultimodalFrame:
    m = MultimodalFrame()
    m.header.stamp = Time(sec=5, nanosec=7)
    m.modalities = ['image/front', 'audio', 'tactile', 'joints', 'language']
    m.present = [True, False, True, True, True]
    m.source_stamps = [Time(sec=5), Time(), Time(sec=4, nanosec=99), Time(sec=5), Time(sec=1)]
    img = Image(height=2, width=3, encoding='rgb8', step=9)
    img.data = bytes(range(18))
    m.camera_names, m.images = ['front'], [img]
    m.audio, m.audio_gap_fraction = _audio(), 0.25
    m.tactile = _tactile()
    m.joint_state = JointState(name=['a', 'b'], position=[0.5, -1.0])
    m.command = 'pick up the red cube'
    return m


def _action() -> ActionChunk:
    return ActionChunk(model_id='m1', action_names=['j1', 'gripper'], units=['rad', '1'],
                       kind='absolute_joint_position', horizon=3, dt=0.02,
                       values=[0.1, 0.0, 0.2, 0.5, 0.3, 1.0], inference_latency=0.0123,
                       frame_stamp=Time(sec=3, nanosec=4))


def _status() -> PolicyStatus:
    return PolicyStatus(state=PolicyStatus.STATE_ESTOPPED, state_name='estopped',
                        reason='e-stop latched', command='stop', model_id='m1', dry_run=True,
                        control_rate_hz=50.0, inference_latency_ms=12.5, chunks=7, holds=3)


def _weights() -> ModalityWeights:
    m = ModalityWeights(model_id='m1', method='presence_ablation',
                        modalities=['image/front', 'audio', 'language'],
                        weights=[0.25, 0.0, 0.75], deltas=[0.1, 0.0, 0.3],
                        present=[True, False, True], gate_weights=[0.5, 0.5], compute_ms=5.25)
    m.header.stamp = Time(sec=9, nanosec=11)
    return m


CASES = [_audio, _tactile, _frame, _action, _status, _weights]


@pytest.mark.parametrize('make', CASES, ids=lambda f: f.__name__.strip('_'))
def test_round_trip_between_processes(rclpy_init, make):
    from rclpy.qos import QoSDurabilityPolicy, QoSProfile

    sent = make()
    type_name = f'vla_ros_msgs/msg/{type(sent).__name__}'
    echo = subprocess.Popen([sys.executable, str(ECHO), type_name], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert echo.stdout.readline().strip() == 'ready'
        node = rclpy_init.create_node('rt_test')
        qos = QoSProfile(depth=10, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
        got = []
        node.create_subscription(type(sent), '/rt/out', got.append, qos)
        pub = node.create_publisher(type(sent), '/rt/in', qos)
        deadline = time.monotonic() + 15.0
        while not got and time.monotonic() < deadline:
            if pub.get_subscription_count():
                pub.publish(sent)
            rclpy_init.spin_once(node, timeout_sec=0.2)
        assert got, f'no {type_name} came back from the echo process'
        assert got[0] == sent
    finally:
        echo.send_signal(signal.SIGINT)
        try:
            echo.wait(10)
        except subprocess.TimeoutExpired:  # a loaded machine can stall DDS teardown
            echo.kill()
            echo.wait()
