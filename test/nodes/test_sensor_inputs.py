"""
SensorInputs in-process: parameters, frames over DDS, and bad input.

Every bad-input class is counted, logged and dropped while frames keep coming.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image, JointState
from vla_ros import constants as C
from vla_ros.errors import ConfigError
from vla_ros.ros.sensor_inputs import declare_sync_parameters, SensorInputs
from vla_ros_msgs.msg import AudioChunk, TactileArray, TactilePad

pytestmark = [pytest.mark.ros, pytest.mark.timeout(60)]
JOINTS = [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]


def make_inputs(overrides=()):
    node = Node('sync_under_test', parameter_overrides=[
        Parameter('cameras', value=['front']), *overrides])
    cfg = declare_sync_parameters(node)
    frames, rejects = [], []
    inputs = SensorInputs(node, cfg, on_frame=frames.append,
                          on_reject=lambda key, reason: rejects.append(reason))
    return node, inputs, frames, rejects


def stamp_msg(msg, t_ns: int):
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(t_ns, 1_000_000_000)
    return msg


def image(t_ns: int, h=48, w=64, encoding='rgb8') -> Image:
    msg = stamp_msg(Image(height=h, width=w, encoding=encoding, step=w * 3), t_ns)
    msg.data = bytes(h * w * 3)
    return msg


def joints(t_ns: int, names=JOINTS, value=0.5) -> JointState:
    return stamp_msg(JointState(name=list(names), position=[value] * len(names)), t_ns)


def audio(t_ns: int, rate=16000, channels=1, n_bytes=640, encoding='S16LE') -> AudioChunk:
    msg = stamp_msg(AudioChunk(sample_rate=rate, channels=channels, encoding=encoding), t_ns)
    msg.data = bytes(n_bytes)
    return msg


def tactile(t_ns: int, value=0.1) -> TactileArray:
    msg = stamp_msg(TactileArray(unit='N'), t_ns)
    msg.pads = [TactilePad(name='l', rows=2, cols=2, channels=1)]
    msg.values = [value] * 4
    return msg


def callbacks(inputs: SensorInputs) -> dict[str, object]:
    return {s.topic_name: s.callback for s in inputs._subs}  # resolved: '/vla/command'


def test_parameters_declared_once_with_descriptors(rclpy_init):
    node, inputs, _, _ = make_inputs([Parameter('image_slop_s', value=0.03)])
    try:
        assert inputs.config.image_slop_s == 0.03
        desc = node.describe_parameter('image_slop_s')
        assert desc.read_only and 'frame time' in desc.description
        assert desc.floating_point_range[0].to_value == 10.0
        # a second declaration (another front end on the same node) reuses the values
        assert declare_sync_parameters(node) == inputs.config
    finally:
        node.destroy_node()


def test_bad_parameter_value_is_config_error(rclpy_init):
    node = Node('bad_params', parameter_overrides=[Parameter('trigger', value='sometimes')])
    try:
        with pytest.raises(ConfigError, match='sometimes'):
            declare_sync_parameters(node)
    finally:
        node.destroy_node()


def test_frames_over_dds_in_process(rclpy_init):
    node, inputs, frames, _ = make_inputs()
    pub_node = Node('pub_under_test')
    pubs = {t: pub_node.create_publisher(m, t, qos_profile_sensor_data) for t, m in (
        ('/camera/front/image_raw', Image), ('/joint_states', JointState))}
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    ex.add_node(pub_node)
    try:
        deadline = time.monotonic() + 10
        t = 1_000_000_000
        while len(frames) < 5 and time.monotonic() < deadline:
            t += 10_000_000
            pubs['/joint_states'].publish(joints(t - 5_000_000, value=t / 1e9))
            pubs['/joint_states'].publish(joints(t + 5_000_000, value=t / 1e9 + 0.01))
            ex.spin_once(timeout_sec=0.02)
            ex.spin_once(timeout_sec=0.02)
            pubs['/camera/front/image_raw'].publish(image(t))
            ex.spin_once(timeout_sec=0.02)
            ex.spin_once(timeout_sec=0.02)
            ex.spin_once(timeout_sec=0.02)
        assert len(frames) >= 5
        f = frames[-1]
        assert f.present['image/front'] and f.images['front'].shape == (48, 64, 3)
        assert f.joint_positions.shape == (7,)
        assert f.joint_positions[0] == pytest.approx(f.stamp_ns / 1e9 + 0.005, abs=1e-6)
        names = {s.name for s in inputs.diagnostics()}
        assert 'sync_under_test: sync image/front' in names
    finally:
        ex.shutdown()
        pub_node.destroy_node()
        node.destroy_node()


BAD_INPUTS = {
    'unknown_encoding': ('/camera/front/image_raw', lambda t: image(t, encoding='bayer_xyz8'),
                         'image/front:UnsupportedEncodingError'),
    'data_short': ('/camera/front/image_raw', lambda t: _short(image(t)),
                   'image/front:ImageSizeError'),
    'zero_size': ('/camera/front/image_raw', lambda t: image(t, h=0),
                  'image/front:ImageSizeError'),
    'absurd_size': ('/camera/front/image_raw', lambda t: _absurd(image(t)),
                    'image/front:ImageSizeError'),
    'nan_tactile': ('/tactile/array', lambda t: tactile(t, value=float('nan')),
                    'tactile:NonFiniteError'),
    'inf_audio': ('/audio/chunk', lambda t: _inf_audio(t), 'audio:NonFiniteError'),
    'sample_rate_0': ('/audio/chunk', lambda t: audio(t, rate=0), 'audio:SampleRateError'),
    'channel_mismatch': ('/audio/chunk', lambda t: audio(t, channels=3, n_bytes=640),
                         'audio:ChannelMismatchError'),
    'unknown_joint_names': ('/joint_states', lambda t: joints(t, names=['j1', 'j2']),
                            'joints:JointNameError'),
    'message_100mb': ('/camera/front/image_raw', lambda t: _huge(image(t)),
                      'image/front:MessageTooLargeError'),
}


def _short(msg):
    msg.data = bytes(len(msg.data) - 10)
    return msg


def _absurd(msg):
    msg.width, msg.step = 20000, 60000
    return msg


def _inf_audio(t):
    msg = audio(t, encoding='F32LE', n_bytes=0)
    msg.data = np.array([0.0, np.inf], '<f4').tobytes()
    return msg


def _huge(msg):
    msg.data = bytes(100 * 1024 * 1024)
    return msg


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_counted_logged_and_frames_continue(rclpy_init, case):
    """
    Each bad message is counted, reported and dropped; the next good ones still make frames.

    Each bad message goes through the real subscription callback and is counted under its reason.
    """
    topic, make_bad, reason = BAD_INPUTS[case]
    node, inputs, frames, rejects = make_inputs()
    try:
        cbs = callbacks(inputs)
        t = 5_000_000_000
        cbs['/joint_states'](joints(t))
        cbs['/camera/front/image_raw'](image(t))
        assert len(frames) == 1
        cbs[topic](make_bad(t + 10_000_000))
        assert inputs.sync.stats.reasons[reason] == 1, inputs.sync.stats.reasons
        assert rejects and reason.split(':')[0] in rejects[-1]
        key = reason.split(':')[0]
        assert inputs.sync.stats.modalities[key].rejected == 1
        cbs['/joint_states'](joints(t + 20_000_000))
        cbs['/camera/front/image_raw'](image(t + 20_000_000))
        assert len(frames) == 2 and frames[-1].stamp_ns == t + 20_000_000
    finally:
        node.destroy_node()


def test_zero_stamp_arrival_policy_and_missing_required_counted(rclpy_init):
    node, inputs, frames, rejects = make_inputs([Parameter('stamp_policy', value='arrival')])
    try:
        cbs = callbacks(inputs)
        cbs['/camera/front/image_raw'](image(0))  # zero stamp -> arrival time; no joints yet
        assert not frames and 'missing' in rejects[-1]
        assert inputs.sync.stats.reasons['missing:joints'] == 1
        assert inputs.sync.stats.modalities['image/front'].accepted == 1
    finally:
        node.destroy_node()


def test_last_pending_image_becomes_a_frame_when_streams_stop(rclpy_init):
    """
    A trigger waiting for another camera is emitted after max_wait_s, even with no message.

    It used to wait for the next message forever.
    """
    node, inputs, frames, _ = make_inputs([Parameter('cameras', value=['front', 'wrist']),
                                           Parameter('max_wait_s', value=0.05)])
    try:
        cbs = callbacks(inputs)
        t = time.time_ns()
        cbs['/joint_states'](joints(t))
        cbs['/camera/wrist/image_raw'](image(t - 40_000_000))  # recent, outside the slop
        cbs['/camera/front/image_raw'](image(t))
        assert not frames  # waiting for a better wrist image
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        end = time.monotonic() + 1.0
        while not frames and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.01)
        assert len(frames) == 1 and frames[0].stamp_ns == t
        assert not frames[0].present['image/wrist']
    finally:
        node.destroy_node()


def test_each_reason_logged_and_counted_on_its_own(rclpy_init):
    """
    Frame failures are counted under ``missing:<key>``, with one log throttle per reason.

    Two problems never share one counter.
    """
    node, inputs, frames, rejects = make_inputs(
        [Parameter('required_modalities', value=['joints', 'tactile'])])
    try:
        cbs = callbacks(inputs)
        t = 5_000_000_000
        cbs['/camera/front/image_raw'](image(t))           # no joints, no tactile
        cbs['/joint_states'](joints(t + 10_000_000))
        cbs['/camera/front/image_raw'](image(t + 10_000_000))  # joints ok, tactile missing
        reasons = inputs.sync.stats.reasons
        assert reasons['missing:joints'] == 1 and reasons['missing:tactile'] == 1
        assert {'missing:joints', 'missing:tactile'} <= set(inputs._last_log)
        assert not frames and len(rejects) == 2
    finally:
        node.destroy_node()


def test_huge_command_rejected_unseen_and_counted(rclpy_init):
    from std_msgs.msg import String

    node, inputs, _, rejects = make_inputs()
    try:
        cb = callbacks(inputs)[C.namespaced(C.COMMAND_TOPIC)]
        t0 = time.perf_counter()
        cb(String(data='x' * 1_000_000))
        assert time.perf_counter() - t0 < 0.05
        assert inputs.sync.stats.modalities['language'].rejected == 1
        assert 'CommandTooLongError' in rejects[-1] or 'characters' in rejects[-1]
        assert inputs.sync._command == ''
        assert len(rejects[-1]) < 300
    finally:
        node.destroy_node()
