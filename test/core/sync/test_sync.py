"""
MultimodalSynchronizer semantics, no ROS.

Windows, masks, interpolation, clock jumps, out-of-order and duplicate stamps, stamp policy.
"""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.frame import TactileLayout
from vla_ros.core.sync import CameraConfig, SyncConfig
from vla_ros.core.sync.buffers import AddResult, StampedBuffer
from vla_ros.core.sync.synchronizer import MultimodalSynchronizer
from vla_ros.errors import (ConfigError, JointNameError, LayoutError, MissingModalityError,
                            NonFiniteError, SampleRateError, StampError, StampOutlierError)

MS = 1_000_000
S = 1_000_000_000
T0 = 100 * S
JOINTS = ('a', 'b', 'c')
LAYOUT = TactileLayout(('left', 'right'), ((2, 2, 1), (2, 2, 1)))


class FakeClock:
    """The node clock [ns] a test controls (a simulator's /clock goes back on reset)."""

    def __init__(self, t: int = T0 + 10 * S) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def make(clock=None, **kw) -> MultimodalSynchronizer:
    cfg = {'cameras': (CameraConfig('front'), CameraConfig('wrist', required=False)),
           'joint_names': JOINTS}
    if kw.get('required') == ():  # nothing required: cameras optional too
        cfg['cameras'] = (CameraConfig('front', required=False),
                          CameraConfig('wrist', required=False))
    cfg.update(kw)
    return MultimodalSynchronizer(SyncConfig(**cfg), clock=clock or FakeClock())


def img(value: int = 0) -> np.ndarray:
    return np.full((4, 6, 3), value, np.uint8)


def feed_joints(sync, t_start, t_end, period=10 * MS, names=JOINTS):
    for t in range(t_start, t_end + 1, period):
        sec = (t - T0) / S
        sync.add_joints(t, names, [sec, 2 * sec, -sec], [1.0, 2.0, -1.0])


def test_buffer_out_of_order_duplicate_too_old():
    buf = StampedBuffer(horizon_ns=135, max_len=10)
    assert buf.add(50, 'a') == AddResult.OK
    assert buf.add(70, 'c') == AddResult.OK
    assert buf.add(60, 'b') == AddResult.OUT_OF_ORDER
    assert buf.add(60, 'x') == AddResult.DUPLICATE
    assert buf.add(200, 'd') == AddResult.OK  # trims 50 and 60 (older than 200 - 135)
    assert buf.add(10, 'old') == AddResult.TOO_OLD
    assert buf.nearest(180)[1] == 'd'
    assert buf.latest_at(150) == (70, 'c')
    assert buf.bracket(100) == ((70, 'c'), (200, 'd'))
    assert len(buf) == 2


def test_full_frame_images_nearest_within_slop_and_joint_interpolation():
    sync = make()
    feed_joints(sync, T0, T0 + 200 * MS)
    sync.add_image('front', T0 + 100 * MS, img(1))
    sync.add_image('wrist', T0 + 95 * MS, img(2))   # 5 ms off: within the 20 ms slop
    sync.add_image('wrist', T0 + 60 * MS, img(3))
    frame = sync.assemble(T0 + 105 * MS)
    assert frame.present['image/front'] and frame.present['image/wrist']
    assert frame.images['wrist'][0, 0, 0] == 2
    # joints interpolated between the 100 ms and 110 ms samples (linear in time)
    np.testing.assert_allclose(frame.joint_positions, [0.105, 0.21, -0.105], atol=1e-9)
    np.testing.assert_allclose(frame.joint_velocities, [1.0, 2.0, -1.0])
    assert frame.joint_names == JOINTS
    assert frame.source_stamps['image/wrist'] == T0 + 95 * MS


def test_optional_camera_outside_slop_is_absent_and_required_raises():
    sync = make()
    feed_joints(sync, T0, T0 + 200 * MS)
    sync.add_image('front', T0 + 100 * MS, img())
    sync.add_image('wrist', T0 + 50 * MS, img())
    frame = sync.assemble(T0 + 100 * MS)
    assert frame.present['image/front'] and not frame.present['image/wrist']
    assert 'wrist' not in frame.images and frame.source_stamps['image/wrist'] == 0
    with pytest.raises(MissingModalityError) as info:
        sync.assemble(T0 + 150 * MS)  # front image 50 ms away
    assert info.value.modality == 'image/front'
    assert sync.stats.frames == 1 and sync.stats.frames_dropped == 1
    assert sync.stats.reasons['missing:image/front'] == 1


def test_joints_matched_by_name_extras_ignored_missing_is_error():
    sync = make(cameras=(CameraConfig('front', required=False),))
    sync.add_joints(T0, ['c', 'extra', 'a', 'b'], [3.0, 9.0, 1.0, 2.0])
    frame = sync.assemble(T0)
    np.testing.assert_array_equal(frame.joint_positions, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(frame.joint_velocities, [0.0, 0.0, 0.0])
    with pytest.raises(JointNameError, match=r"\['b'\]"):
        sync.add_joints(T0 + MS, ['a', 'c'], [1.0, 3.0])
    assert sync.stats.modalities['joints'].rejected == 1


def test_presence_mask_drops_after_max_age():
    sync = make(required=(), max_age_s={'joints': 0.05, 'tactile': 0.05, 'audio': 0.05})
    feed_joints(sync, T0, T0 + 100 * MS)
    sync.add_tactile(T0 + 100 * MS, np.ones(8, np.float32), LAYOUT)
    sync.add_audio(T0 + 80 * MS, np.zeros(320, np.float32), 16000)  # ends at T0+100ms
    f1 = sync.assemble(T0 + 140 * MS)
    assert f1.present['joints'] and f1.present['tactile'] and f1.present['audio']
    f2 = sync.assemble(T0 + 160 * MS)
    assert not f2.present['joints'] and not f2.present['tactile'] and not f2.present['audio']
    assert f2.joint_positions is None and f2.tactile is None
    assert sync.stats.modalities['joints'].missing == 1


def test_audio_window_from_arbitrary_chunks_with_gap_resample_and_mixdown():
    sync = make(required=(), audio_window_s=0.1, audio_rate=16000)
    # 48 kHz stereo chunks of odd size: L = 0.5, R = -0.1 -> mono 0.2
    chunk = np.tile(np.array([[0.5, -0.1]], np.float32), (777, 1))
    t = T0
    while t < T0 + 100 * MS:
        if not (T0 + 40 * MS <= t < T0 + 60 * MS):  # drop ~20 ms of chunks
            sync.add_audio(t, chunk, 48000)
        t += 777 * S // 48000
    frame = sync.assemble(T0 + 100 * MS)
    assert frame.audio.shape == (1600,) and frame.audio.dtype == np.float32
    assert frame.audio_rate == 16000
    filled = frame.audio[frame.audio != 0]
    np.testing.assert_allclose(filled, 0.2, atol=1e-6)
    assert 0.1 < frame.audio_gap_fraction < 0.35  # the dropped chunks, zero-filled
    assert frame.present['audio']


def test_audio_window_samples_are_aligned_to_time():
    sync = make(required=(), audio_window_s=0.05)
    ramp = np.arange(16000, dtype=np.float32) / 16000  # value = seconds since T0
    for i in range(0, 16000, 320):
        sync.add_audio(T0 + i * S // 16000, ramp[i:i + 320], 16000)
    frame = sync.assemble(T0 + 500 * MS)
    assert frame.audio_gap_fraction == 0.0
    np.testing.assert_allclose(frame.audio[-1], 0.5 - 1 / 16000, atol=1e-6)
    np.testing.assert_allclose(frame.audio[0], 0.45, atol=1e-6)


def test_out_of_order_audio_and_images():
    sync = make(required=(), audio_window_s=0.04)
    chunks = [(T0 + k * 20 * MS, np.full(320, k + 1, np.float32) / 10) for k in range(2)]
    for t, c in reversed(chunks):
        sync.add_audio(t, c, 16000)
    frame = sync.assemble(T0 + 40 * MS)
    assert frame.audio_gap_fraction == 0.0
    np.testing.assert_allclose(frame.audio[:320], 0.1)
    np.testing.assert_allclose(frame.audio[320:], 0.2)
    assert sync.add_image('front', T0 + 50 * MS, img()) == AddResult.OK
    assert sync.add_image('front', T0 + 30 * MS, img()) == AddResult.OUT_OF_ORDER
    assert sync.add_image('front', T0 + 30 * MS, img()) == AddResult.DUPLICATE
    st = sync.stats.modalities['image/front']
    assert (st.received, st.accepted, st.dropped, st.out_of_order) == (3, 2, 1, 1)


def test_tactile_latest_max_mean():
    samples = [(T0 + k * 10 * MS, np.full(8, k, np.float32)) for k in range(5)]
    for mode, expected in (('latest', 4.0), ('max', 4.0), ('mean', 3.0)):
        sync = make(required=(), tactile_mode=mode, tactile_window_s=0.025)
        for t, v in samples:
            v = v.copy()
            v[0] = -t / S  # element-wise reduction: first value is the max of the newest
            sync.add_tactile(t, v, LAYOUT)
        frame = sync.assemble(T0 + 40 * MS)
        assert frame.tactile[1] == pytest.approx(expected), mode
        assert frame.tactile_layout == LAYOUT


def test_clock_jump_backwards_clears_buffers_and_reports():
    jumps = []
    clock = FakeClock(T0 + 100 * MS)
    sync = make(required=(), clock=clock)
    sync.on_clock_jump = lambda old, new: jumps.append((old, new))
    feed_joints(sync, T0, T0 + 100 * MS)
    sync.add_image('front', T0 + 100 * MS, img())
    assert sync.assemble(T0 + 100 * MS).present['joints']
    clock.t = 5 * S  # simulation reset: /clock went back, and so do the stamps
    sync.add_joints(5 * S, JOINTS, [0.0, 0.0, 0.0])
    assert jumps == [(T0 + 100 * MS, 5 * S)]
    assert sync.stats.clock_jumps == 1
    frame = sync.assemble(5 * S)
    assert frame.present['joints'] and not frame.present['image/front']
    np.testing.assert_array_equal(frame.joint_positions, [0.0, 0.0, 0.0])


def test_newest_stamps_restart_with_the_new_timeline_after_a_clock_jump():
    """
    After a sim reset, the newest stamp per stream follows the new timeline.

    The newest stamp (what triggers frames and ages diagnostics) must follow the new timeline, or
    every frame after a sim reset is stamped in the old one.
    """
    clock = FakeClock(T0)
    sync = make(required=(), clock=clock)
    sync.add_image('front', T0, img())
    sync.add_joints(T0, JOINTS, [0.0, 0.0, 0.0])
    assert sync.stats.modalities['image/front'].last_stamp_ns == T0
    clock.t = 1 * S
    sync.add_joints(1 * S, JOINTS, [0.0, 0.0, 0.0])  # reset: the clear happens here
    sync.add_image('front', 1 * S + 10 * MS, img())
    assert sync.stats.modalities['image/front'].last_stamp_ns == 1 * S + 10 * MS
    assert sync.stats.modalities['joints'].last_stamp_ns == 1 * S
    assert sync.assemble(1 * S + 10 * MS).present['joints']


def test_zero_stamp_policy_reject_and_arrival():
    sync = make(required=())
    with pytest.raises(StampError):
        sync.add_joints(0, JOINTS, [1.0, 2.0, 3.0])
    assert sync.stats.modalities['joints'].rejected == 1
    sync = make(required=(), stamp_policy='arrival')
    sync.add_joints(0, JOINTS, [1.0, 2.0, 3.0], arrival_ns=T0)
    assert sync.assemble(T0).source_stamps['joints'] == T0
    sync.add_tactile(0, np.ones(8, np.float32), LAYOUT)  # clock() is used without arrival_ns
    assert sync.assemble(T0 + 10 * S).source_stamps['tactile'] == T0 + 10 * S


def test_language_latched():
    sync = make(required=('language',), cameras=(CameraConfig('front', required=False),))
    with pytest.raises(MissingModalityError):
        sync.assemble(T0)
    sync.set_command('pick up the red cube', T0)
    for t in (T0, T0 + 50 * S):
        frame = sync.assemble(t)
        assert frame.command == 'pick up the red cube' and frame.present['language']
        assert frame.command_stamp_ns == T0


def test_timer_trigger_config_and_unused_modalities():
    sync = make(trigger='timer', required=(), modalities=('joints', 'image'),
                cameras=(CameraConfig('front', required=False),))
    feed_joints(sync, T0, T0 + 20 * MS)
    frame = sync.assemble(T0 + 20 * MS)
    assert set(frame.present) == {'image/front', 'joints'}
    assert frame.audio is None


def test_bad_values_rejected_and_counted():
    sync = make(required=())
    with pytest.raises(NonFiniteError):
        sync.add_audio(T0, np.array([0.0, np.nan], np.float32), 16000)
    with pytest.raises(SampleRateError):
        sync.add_audio(T0, np.zeros(4, np.float32), 0)
    with pytest.raises(NonFiniteError):
        sync.add_tactile(T0, np.full(8, np.inf, np.float32), LAYOUT)
    with pytest.raises(LayoutError):
        sync.add_tactile(T0, np.ones(7, np.float32), LAYOUT)
    with pytest.raises(NonFiniteError):
        sync.add_joints(T0, JOINTS, [0.0, np.nan, 0.0])
    st = sync.stats.modalities
    assert (st['audio'].rejected, st['tactile'].rejected, st['joints'].rejected) == (2, 2, 1)
    sync.record_reject('image/front', 'UnsupportedEncodingError')
    assert sync.stats.reasons['image/front:UnsupportedEncodingError'] == 1


@pytest.mark.parametrize('kw, match', [
    ({'trigger': 'sometimes'}, 'trigger'),
    ({'primary_camera': 'side'}, 'primary_camera'),
    ({'image_slop_s': -1.0}, 'image_slop_s'),
    ({'required': ('smell',)}, 'smell'),
    ({'tactile_mode': 'median'}, 'tactile_mode'),
    ({'max_age_s': {'audio': float('nan')}}, 'audio'),
    ({'cameras': (CameraConfig('a'), CameraConfig('a'))}, 'unique'),
])
def test_config_validation_quotes_bad_values(kw, match):
    with pytest.raises(ConfigError, match=match):
        SyncConfig(**kw)


def test_one_stamp_outlier_is_rejected_and_clears_nothing():
    """
    One message stamped in the past or the future (clock unchanged) is rejected alone.

    The other streams keep their data and frames keep coming.
    """
    sync = make(required=('joints',), clock=FakeClock(T0 + 100 * MS))
    feed_joints(sync, T0, T0 + 100 * MS)
    sync.add_image('front', T0 + 100 * MS, img())
    with pytest.raises(StampOutlierError, match='behind'):
        sync.add_joints(T0 - 5 * S, JOINTS, [0.0, 0.0, 0.0])
    with pytest.raises(StampOutlierError, match='ahead'):
        sync.add_image('wrist', T0 + 50 * S, img())
    assert sync.stats.clock_jumps == 0
    assert sync.assemble(T0 + 100 * MS).present['image/front']
    assert sync.stats.modalities['joints'].rejected == 1
    assert sync.stats.reasons['joints:StampOutlierError'] == 1


def test_a_jump_the_clock_does_not_confirm_is_never_believed():
    """
    Reject backwards stamps while the node clock runs on; believe them without a clock.

    A running clock that did not jump makes them outliers however many come (a fuzzer sent
    three in a row); before the first /clock (clock 0) a sustained run of three is a jump.
    """
    sync = make(required=(), clock=FakeClock(T0 + 100 * MS))
    feed_joints(sync, T0, T0 + 100 * MS)
    for k in range(5):
        with pytest.raises(StampOutlierError):
            sync.add_joints(T0 - 10 * S + k * MS, JOINTS, [0.0, 0.0, 0.0])
    assert sync.stats.clock_jumps == 0
    clock = FakeClock(0)
    unclocked = make(required=(), clock=clock)
    feed_joints(unclocked, T0, T0 + 100 * MS)
    for k in range(2):
        with pytest.raises(StampOutlierError):
            unclocked.add_joints(T0 - 10 * S + k * MS, JOINTS, [0.0, 0.0, 0.0])
    unclocked.add_joints(T0 - 10 * S + 2 * MS, JOINTS, [0.0, 0.0, 0.0])
    assert unclocked.stats.clock_jumps == 1


def test_silent_optional_camera_does_not_delay_frames():
    sync = make(required=())
    sync.add_image('front', T0, img())
    sync.add_image('wrist', T0 - 20 * S, img())  # long silent (older than its max age)
    assert sync.cameras_ready(T0)
    never = make(required=())
    never.add_image('front', T0, img())
    assert not never.cameras_ready(T0)  # just started: the wrist camera may still come
    never.add_image('front', T0 + 2 * S, img())
    assert never.cameras_ready(T0 + 2 * S)  # 2 s of front images and never a wrist one
    fresh = make(required=())
    fresh.add_image('wrist', T0 - 50 * MS, img())  # recent: its next image may still match
    assert not fresh.cameras_ready(T0)


def test_future_stamps_cannot_ratchet_a_stream_ahead_of_the_clock():
    """
    Reject stamps ahead of the clock even when each step from the stream is small.

    +0.3, +0.9, +1.1, +1.5 s used to be accepted one by one, and the next normal message
    then looked like a clock jump that cleared every buffer.
    """
    clock = FakeClock(T0)
    sync = make(required=(), clock=clock)
    jumps = []
    sync.on_clock_jump = lambda old, new: jumps.append(new)
    sync.add_joints(T0, JOINTS, [0.0, 0.0, 0.0])
    sync.add_joints(T0 + 300 * MS, JOINTS, [0.0, 0.0, 0.0])   # ahead, within clock_jump_s
    sync.add_joints(T0 + 900 * MS, JOINTS, [0.0, 0.0, 0.0])
    for ahead_ms in (1100, 1500):  # small steps from the stream, too far from the clock
        with pytest.raises(StampOutlierError, match='ahead'):
            sync.add_joints(T0 + ahead_ms * MS, JOINTS, [0.0, 0.0, 0.0])
    clock.t = T0 + 10 * MS
    sync.add_joints(T0 + 10 * MS, JOINTS, [0.0, 0.0, 0.0])
    assert not jumps and sync.stats.clock_jumps == 0
