"""
Multi-process: fake_sensors + multimodal_sync with config/sync.yaml.

fake_sensors sends a 30 Hz camera, 50 Hz x 320-sample audio, 100 Hz tactile and joints. Frames
are aligned within one camera period (median; every present source within its max age), and
the presence mask drops within max age once a stream is stopped over ROS.
"""

from __future__ import annotations

import time

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from vla_ros.core.sync.config import DEFAULT_MAX_AGE_S
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until
from vla_ros_msgs.msg import MultimodalFrame

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(90)]
CAMERA_PERIOD_S = 1 / 30
TACTILE_MAX_AGE_S = 0.1
# Share of steady-state frames that must have every stream present. Not 1.0: on a loaded
# 2-core machine a 100 Hz Python publisher can stall past the 0.1 s max age now and then.
MIN_ALL_PRESENT = 0.8


def _max_age(key: str) -> float:
    kind = key.split('/', 1)[0]
    return TACTILE_MAX_AGE_S if kind == 'tactile' else DEFAULT_MAX_AGE_S[kind]


def _ns(t) -> int:
    return t.sec * 1_000_000_000 + t.nanosec


def test_frames_aligned_and_mask_drops_when_stream_stops(rclpy_init, repo_root, tmp_path):
    node = Node('sync_probe')
    frames: list[tuple[float, MultimodalFrame]] = []
    diags: list[DiagnosticArray] = []
    node.create_subscription(MultimodalFrame, '/multimodal_sync/frame',
                             lambda m: frames.append((time.monotonic(), m)), 50)
    node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)

    def spin_for(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy_init.spin_once(node, timeout_sec=0.02)

    sensors = NodeProcess('fake_sensors', ros_args(params={
        'camera_rate_hz': 30.0, 'audio_chunk_rate_hz': 50.0, 'sample_rate': 16000,
        'tactile_rate_hz': 100.0, 'joint_rate_hz': 100.0}), log_path=tmp_path / 'fake.log')
    sync = NodeProcess('multimodal_sync', ros_args(
        [repo_root / 'config/sync.yaml'], params={'max_age_s.tactile': TACTILE_MAX_AGE_S}),
        log_path=tmp_path / 'sync.log')
    with sensors, sync:
        ok = wait_until(lambda: (rclpy_init.spin_once(node, timeout_sec=0.05), len(frames))[1]
                        >= 30, timeout_s=40)
        sync.check_alive()
        assert ok, f'no frames; sync log:\n{sync.log_tail()}'
        spin_for(1.5)
        steady = [m for _, m in frames[-40:]]
        keys = ('image/front', 'joints', 'tactile', 'audio')
        all_present = [all(dict(zip(m.modalities, m.present))[k] for k in keys) for m in steady]
        assert sum(all_present) >= MIN_ALL_PRESENT * len(steady), all_present
        errors: dict[str, list[float]] = {}
        for m in steady:
            t = _ns(m.header.stamp)
            for key, src, present in zip(m.modalities, m.source_stamps, m.present):
                if present and key != 'language':
                    err = abs(_ns(src) - t) / 1e9
                    # the contract: a present source is never older than its max age
                    assert err <= _max_age(key), f'{key} present but {err * 1e3:.1f} ms off'
                    errors.setdefault(key, []).append(err)
            assert len(m.joint_state.position) == 7
        for key, errs in errors.items():
            # the typical frame is aligned within one camera period (a late message under
            # load may make one frame use an older, still fresh, reading)
            med = float(np.median(errs))
            assert med <= CAMERA_PERIOD_S, f'{key} median {med * 1e3:.1f} ms off'
            assert m.audio.sample_rate == 16000 and len(m.audio.data) == 16000 * 4
        assert any(len(m.images[0].data) == 640 * 480 * 3 for m in steady)
        assert any(dict(zip(m.modalities, m.present))['image/wrist'] for m in steady)

        # stop the tactile stream over ROS; the mask must drop within max age
        client = AsyncParameterClient(node, 'fake_sensors')
        assert client.wait_for_services(timeout_sec=10)
        future = client.set_parameters([Parameter('enabled_streams',
                                                  value=['camera', 'audio', 'joints'])])
        rclpy_init.spin_until_future_complete(node, future, timeout_sec=10)
        assert future.done() and all(r.successful for r in future.result().results)
        # frames are picked by their stamp (fake_sensors' clock, this host's system time), not
        # by when they arrived: under load a frame of before the stop may arrive after it
        stopped_ns = node.get_clock().now().nanoseconds
        spin_for(1.0)
        after = [m for _, m in frames
                 if _ns(m.header.stamp) > stopped_ns + (TACTILE_MAX_AGE_S + 0.15) * 1e9]
        assert len(after) >= 10
        assert not any(dict(zip(m.modalities, m.present))['tactile'] for m in after)
        assert all(dict(zip(m.modalities, m.present))['joints'] for m in after)
        sync.check_alive()
    names = {s.name for d in diags for s in d.status}
    assert 'multimodal_sync: sync tactile' in names and 'multimodal_sync: sync frames' in names
    node.destroy_node()
