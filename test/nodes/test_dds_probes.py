"""
Directed single-message probes over DDS (issue 15, defects 5-9 and 11).

One well-formed but hostile message on a topic of a running graph (fake_sensors ->
multimodal_sync + vla_policy, commanded) must be rejected and counted, must not latch a fault,
must not let a non-finite value into a published frame, and must not stop the valid stream's
frames.
"""

from __future__ import annotations

import math
import time

from helpers.policy_graph import Listener, start_graph
import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
JOINTS = [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]
S = 1_000_000_000


@pytest.fixture(scope='module')
def graph(tmp_path_factory):
    """Run the graph, commanded; yield (listener, frames, publishers, procs)."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image, JointState
    from vla_ros_msgs.msg import AudioChunk, MultimodalFrame, TactileArray

    from helpers.bundles import make_random_bundle

    tmp = tmp_path_factory.mktemp('probes')
    bundle = make_random_bundle(tmp / 'bundle')
    rclpy.init()
    lis = Listener(rclpy)
    frames: list = []
    lis.node.create_subscription(MultimodalFrame, '/multimodal_sync/frame',
                                 lis._add(frames), 50)
    q = qos_profile_sensor_data
    pubs = {'joints': lis.node.create_publisher(JointState, '/joint_states', q),
            'tactile': lis.node.create_publisher(TactileArray, '/tactile/array', q),
            'audio': lis.node.create_publisher(AudioChunk, '/audio/chunk', q),
            'image': lis.node.create_publisher(Image, '/camera/front/image_raw', q)}
    procs = start_graph(tmp, bundle, {'dry_run': True})
    procs.append(NodeProcess('multimodal_sync', ros_args(params={
        'cameras': ['front'], 'required_modalities': ['joints']}),
        log_path=tmp / 'sync.log').start())
    try:
        assert lis.wait_state('idle', 40.0), procs[1].log_tail()
        lis.command('pick up the red cube')
        assert lis.wait_state('running', 20.0), procs[1].log_tail()
        assert wait_until(lambda: len(frames) > 10, 20.0), procs[2].log_tail()
        yield lis, frames, pubs, procs
    finally:
        for p in procs:
            p.stop()
        lis.close()
        rclpy.try_shutdown()


def _now(lis) -> int:
    return lis.node.get_clock().now().nanoseconds


def _stamp(msg, t_ns: int):
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(t_ns, S)
    return msg


def _joints(t_ns: int, value: float):
    from sensor_msgs.msg import JointState
    return _stamp(JointState(name=JOINTS, position=[value] * len(JOINTS)), t_ns)


def _tactile(t_ns: int, pads, value: float):
    from vla_ros_msgs.msg import TactileArray, TactilePad
    msg = _stamp(TactileArray(unit='N'), t_ns)
    msg.pads = [TactilePad(name=n, rows=r, cols=c, channels=1) for n, r, c in pads]
    msg.values = [value] * sum(r * c for _, r, c in pads)
    return msg


def _audio(t_ns: int, rate: int, samples: np.ndarray):
    from vla_ros_msgs.msg import AudioChunk
    msg = _stamp(AudioChunk(sample_rate=rate, channels=1, encoding='F32LE'), t_ns)
    msg.data = samples.astype('<f4').tobytes()
    return msg


def _image(t_ns: int):
    from sensor_msgs.msg import Image
    msg = _stamp(Image(height=64, width=64, encoding='rgb8', step=64 * 3), t_ns)
    msg.data = bytes(64 * 64 * 3)
    return msg


PADS = [(n, r, c) for n, r, c in C.DEFAULT_TACTILE_PADS]
PROBES = {
    'joints_1e39': lambda t: [('joints', _joints(t, 1e39))],
    'joints_overflowing_interpolation': lambda t: [('joints', _joints(t - S // 100, 1.7e308)),
                                                   ('joints', _joints(t + S // 100, -1.7e308))],
    'tactile_foreign_layout': lambda t: [('tactile', _tactile(t, [('x', 3, 3)], 0.1))],
    'tactile_3e38': lambda t: [('tactile', _tactile(t, PADS, 3e38))],
    'audio_3e38': lambda t: [('audio', _audio(t, 16000, np.full(320, 3e38)))],
    'audio_1hz': lambda t: [('audio', _audio(t, 1, np.zeros(2000)))],
    'image_5s_in_the_past': lambda t: [('image', _image(t - 5 * S))],
    'joints_50s_in_the_future': lambda t: [('joints', _joints(t + 50 * S, 0.0))],
}


@pytest.mark.timeout(180)
@pytest.mark.parametrize('probe', list(PROBES))
def test_single_hostile_message(graph, probe):
    lis, frames, pubs, procs = graph
    start = time.monotonic()
    for topic, msg in PROBES[probe](_now(lis)):
        pubs[topic].publish(msg)
    time.sleep(1.0)
    after = lis.since(frames, start + 0.3)
    # frames keep flowing (30 Hz camera; a stall of any stream would show here)
    assert len(after) >= 10, f'{probe}: {len(after)} frames in 0.7 s'
    for _, m in after:
        assert all(math.isfinite(v) for v in m.joint_state.position), probe
        assert all(math.isfinite(v) for v in m.tactile.values), probe
        present = dict(zip(m.modalities, m.present))
        assert present['joints'] and present['image/front'], (probe, present)
    audio_ok = [dict(zip(m.modalities, m.present))['audio'] for _, m in after[-5:]]
    assert all(audio_ok), f'{probe}: audio not present after the probe'
    states = [s.state_name for _, s in lis.since(lis.status, start)]
    assert 'fault' not in states, (probe, [s.reason for _, s in lis.since(lis.status, start)])
    assert lis.last_status().state_name == 'running', lis.last_status().reason
    print(f'{probe}: {len(after)} frames in the 0.7 s after the probe')
    for p in procs:
        p.check_alive()


@pytest.mark.timeout(60)
def test_megabyte_command_rejected_fast_and_logged_short(graph):
    lis, frames, pubs, procs = graph
    log_before = procs[1].log_path.stat().st_size
    lis.command('x' * 1_000_000)
    assert wait_until(lambda: 'command rejected' in lis.last_status().reason, 5.0)
    lis.command('pick up the red cube')
    assert lis.wait_state('running', 10.0), lis.last_status().reason
    grown = procs[1].log_path.stat().st_size - log_before
    assert grown < 20_000, f'log grew by {grown} bytes'
    for p in procs:
        p.check_alive()
