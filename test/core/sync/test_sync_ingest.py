"""
Test the synchronizer's ingest checks, no ROS.

Values past what a sensor produces, absurd audio, foreign tactile layouts and the bounded
joint-name cache.
"""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.frame import TactileLayout
from vla_ros.core.sync import CameraConfig, SyncConfig
from vla_ros.core.sync.synchronizer import MultimodalSynchronizer
from vla_ros.errors import ConfigError, LayoutError, SampleRateError, ValueRangeError

MS = 1_000_000
S = 1_000_000_000
T0 = 100 * S
JOINTS = ('a', 'b', 'c')
LAYOUT = TactileLayout(('left', 'right'), ((2, 2, 1), (2, 2, 1)))


def make(required=(), **kw) -> MultimodalSynchronizer:
    cams = (CameraConfig('front', required=False), CameraConfig('wrist', required=False))
    cfg = SyncConfig(cameras=cams, joint_names=JOINTS, required=required, **kw)
    return MultimodalSynchronizer(cfg, clock=lambda: T0 + 10 * S)


@pytest.mark.parametrize('add, error', [
    (lambda s: s.add_joints(T0, JOINTS, [1e39, 0.0, 0.0]), ValueRangeError),
    (lambda s: s.add_joints(T0, JOINTS, [1.7e308, 0.0, 0.0]), ValueRangeError),
    (lambda s: s.add_joints(T0, JOINTS, [0.0, 0.0, 0.0], [0.0, -1e30, 0.0]), ValueRangeError),
    (lambda s: s.add_tactile(T0, np.full(8, 3e38, np.float32), LAYOUT), ValueRangeError),
    (lambda s: s.add_audio(T0, np.full(320, 3e38, np.float32), 16000), ValueRangeError),
    (lambda s: s.add_audio(T0, np.zeros(2000, np.float32), 1), SampleRateError),
    (lambda s: s.add_audio(T0, np.zeros(3 * 16000, np.float32), 16000), LayoutError),
])
def test_huge_finite_values_and_absurd_audio_are_rejected_at_ingest(add, error):
    """
    Values that would overflow float32 in the policy never enter a frame.

    They used to latch FAULT downstream; absurd audio rates are rejected before any resampling.
    """
    sync = make(required=())
    with pytest.raises(error):
        add(sync)
    assert sum(st.rejected for st in sync.stats.modalities.values()) == 1
    frame = sync.assemble(T0)
    assert not frame.present['joints'] and not frame.present['tactile']
    assert not frame.present['audio']


def test_tactile_with_another_layout_than_configured_is_rejected():
    sync = make(required=(), tactile_layout=LAYOUT)
    other = TactileLayout(('left', 'right'), ((4, 1, 1), (4, 1, 1)))
    with pytest.raises(LayoutError, match='configured'):
        sync.add_tactile(T0, np.ones(8, np.float32), other)
    sync.add_tactile(T0, np.ones(8, np.float32), LAYOUT)
    sized = make(required=(), tactile_size=32)
    with pytest.raises(LayoutError, match='expects 32'):
        sized.add_tactile(T0, np.ones(8, np.float32), LAYOUT)


def test_joint_name_cache_is_bounded():
    sync = make(required=())
    for k in range(100):
        names = (*JOINTS, *(f'extra_{k}_{i}' for i in range(50)))
        sync.add_joints(T0 + k * MS, names, np.zeros(len(names)))
    assert len(sync._joint_index) <= 8


def test_images_are_kept_for_image_buffer_s_other_streams_for_buffer_s():
    cfg = SyncConfig(cameras=(CameraConfig('front'),), joint_names=('j',),
                     modalities=('image', 'joints'), buffer_s=2.0, image_buffer_s=0.25)
    sync = MultimodalSynchronizer(cfg, clock=lambda: 3 * 10**9)
    for i in range(61):  # 2 s at 30 Hz
        t = 10**9 + i * 33_333_333
        sync.add_image('front', t, np.zeros((2, 2, 3), np.uint8))
        sync.add_joints(t, ['j'], [0.0], [0.0])
    assert len(sync._images['front']) == 8 and len(sync._joints) == 61
    long = SyncConfig(image_buffer_s=0.25, history_frames=5, history_spacing_s=0.3)
    assert long.image_horizon_s == pytest.approx(1.2 + long.image_slop_s)
    with pytest.raises(ConfigError, match='image_buffer_s'):
        SyncConfig(image_buffer_s=0.01, image_slop_s=0.02)


def test_the_synchronizer_has_no_default_clock():
    """Its clock must be the one the stamps are on: a default (uptime) was a trap (issue 26)."""
    cfg = SyncConfig(cameras=(CameraConfig('front'),), joint_names=JOINTS)
    with pytest.raises(TypeError, match='clock'):
        MultimodalSynchronizer(cfg)  # type: ignore[call-arg]


@pytest.mark.parametrize('t0_s', [1.0, 1000.0, 1.8e9, 1e7])
def test_streams_stamped_far_from_the_machine_uptime_sync_on_their_own_clock(t0_s):
    """
    Synthetic, sim and wall-clock stamps: every frame is made, whatever the machine's uptime.

    bench sync stamped from 1000 s and failed on machines up for less than that.
    """
    t0 = int(t0_s * S)
    now = [t0]
    cfg = SyncConfig(cameras=(CameraConfig('front'),), joint_names=JOINTS,
                     modalities=('image', 'joints'))
    sync = MultimodalSynchronizer(cfg, clock=lambda: now[0])
    frames = 0
    for i in range(100):  # 1 s: joints at 100 Hz, a camera at 10 Hz
        now[0] = t = t0 + i * 10 * MS
        sync.add_joints(t, JOINTS, [0.0, 0.0, 0.0])
        if i % 10 == 9:
            sync.add_image('front', t, np.zeros((2, 2, 3), np.uint8))
            frames += sync.assemble(t).present['image/front']
    assert frames == 10
    assert sum(st.rejected for st in sync.stats.modalities.values()) == 0
