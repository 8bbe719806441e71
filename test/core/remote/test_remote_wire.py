"""
What crosses the network in the split: shrink, JPEG, audio, batching of many robots' frames.

The message round trip uses real rclpy serialization (no DDS needed); batched inference is
checked against one-at-a-time on a real bundle.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.bundle.specs import ImageResize
from vla_ros.core.remote.batching import BatchQueue
from vla_ros.core.remote.wire import (camera_wires, CameraWire, chunk_age_limit, RemoteConfig,
                                      shrink_image)
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.errors import ConfigError

pytestmark = pytest.mark.ros  # rclpy serialization


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('wire') / 'b')


def _roundtrip(frame, bundle, **cfg):
    from rclpy.serialization import deserialize_message, serialize_message
    from vla_ros.ros.frame_msgs import frame_from_remote, remote_frame_msg
    from vla_ros_msgs.msg import RemoteFrame

    m = load_bundle(bundle).manifest
    msg = remote_frame_msg(frame, model_id=m.model_id, wires=camera_wires(m),
                           config=RemoteConfig(**cfg))
    data = serialize_message(msg)
    return frame_from_remote(deserialize_message(data, RemoteFrame)), len(data)


def test_raw_wire_frames_give_the_local_chunk_bit_for_bit(bundle):
    rt = PolicyRuntime.from_bundle(bundle)
    frame = full_frame(3)
    back, n = _roundtrip(frame, bundle, audio='F32LE')
    size = rt.manifest.inputs[0].shape[-2:]
    assert back.images['front'].shape[:2] == tuple(size)  # resized at the robot
    assert n < frame.images['front'].nbytes + frame.audio.nbytes + 4096
    np.testing.assert_array_equal(rt.infer(back).actions, rt.infer(frame).actions)
    assert back.present == frame.present and back.command == frame.command
    np.testing.assert_array_equal(back.tactile, frame.tactile)
    assert back.tactile_layout == frame.tactile_layout
    np.testing.assert_array_equal(back.joint_positions, frame.joint_positions)


@pytest.mark.parametrize('jpeg_quality', [0, 90])
def test_a_camera_the_bundle_does_not_read_stays_on_the_robot(bundle, jpeg_quality):
    """A robot with more cameras than the bundle reads: only the bundle's travel, and decode."""
    rt = PolicyRuntime.from_bundle(bundle)
    frame = full_frame(5, image_wrist=True)
    frame.images['wrist'] = np.full((120, 160, 3), 7, np.uint8)
    m = rt.manifest
    from vla_ros.ros.frame_msgs import remote_frame_msg
    msg = remote_frame_msg(frame, model_id=m.model_id, wires=camera_wires(m),
                           config=RemoteConfig(jpeg_quality=jpeg_quality),
                           modalities=m.modalities)
    assert 'wrist' not in m.cameras
    back, _ = _roundtrip(frame, bundle, jpeg_quality=jpeg_quality)  # no modalities: all travel
    assert set(back.images) == {'front', 'wrist'}
    from rclpy.serialization import deserialize_message, serialize_message
    from vla_ros.ros.frame_msgs import frame_from_remote
    from vla_ros_msgs.msg import RemoteFrame
    small = frame_from_remote(deserialize_message(serialize_message(msg), RemoteFrame))
    assert set(small.images) == {'front'} and small.present['image/wrist']
    np.testing.assert_allclose(rt.infer(small).actions, rt.infer(back).actions, atol=1e-6)


def test_jpeg_and_s16_shrink_the_frame_and_stay_close(bundle):
    rt = PolicyRuntime.from_bundle(bundle)
    yy, xx = np.mgrid[0:120, 0:160]
    smooth = np.stack([xx * 1.5, yy * 2.0, (xx + yy) * 0.9], axis=2).astype(np.uint8)
    frame = dataclasses.replace(full_frame(4), images={'front': smooth})  # a camera-like image
    raw, n_raw = _roundtrip(frame, bundle, audio='F32LE')
    small, n_small = _roundtrip(frame, bundle, audio='S16LE', jpeg_quality=90)
    assert n_small < 0.7 * n_raw
    assert np.abs(small.audio - frame.audio).max() <= 1 / 32768 + 1e-7
    err = np.abs(small.images['front'].astype(int) - raw.images['front'].astype(int))
    assert err.mean() < 3  # JPEG q90: lossy but near
    diff = np.abs(rt.infer(small).actions - rt.infer(frame).actions).max()
    assert np.isfinite(diff)


def test_letterbox_and_two_sizes_of_one_camera():
    img = np.full((100, 200, 3), 255, np.uint8)
    out = shrink_image(img, CameraWire((64, 64), ImageResize.PAD))
    assert out.shape == (64, 64, 3) and out[0, 32].max() == 0 and out[32, 32].min() == 255
    assert shrink_image(img, CameraWire((100, 200), ImageResize.STRETCH)) is img


def test_remote_config_is_validated():
    with pytest.raises(ConfigError, match='jpeg_quality'):
        RemoteConfig(jpeg_quality=101)
    with pytest.raises(ConfigError, match='audio'):
        RemoteConfig(audio='MP3')
    with pytest.raises(ConfigError, match='max_chunk_age_s'):
        RemoteConfig(max_chunk_age_s=-1)
    assert chunk_age_limit(0.0, 10, 0.1, 8) == 0.5  # models/default
    assert chunk_age_limit(0.0, 100, 0.02, 8) == pytest.approx(2.76)  # ACT, 100 at 50 Hz
    assert chunk_age_limit(0.2, 100, 0.02, 8) == 0.2  # configured wins


def test_batched_inference_equals_one_at_a_time(bundle):
    rt = PolicyRuntime.from_bundle(bundle)
    frames = [dataclasses.replace(full_frame(s), stamp_ns=10 ** 9 + s) for s in range(5)]
    frames[2] = dataclasses.replace(frames[2], command='push the blue cube')
    outs = rt.infer_batch(frames)
    for f, out in zip(frames, outs):
        assert out.frame_stamp_ns == f.stamp_ns
        np.testing.assert_allclose(out.actions, rt.infer(f).actions, atol=1e-5)


def test_batch_queue_closes_when_every_robot_waits_or_the_window_ends():
    q: BatchQueue[int] = BatchQueue(['a', 'b', 'c'], window_s=0.5, max_batch=8)
    assert q.put('a', 1) == [] and q.put('b', 2) == []
    assert q.put('c', 3) == [('a', 1), ('b', 2), ('c', 3)]  # complete: the caller runs it
    q.put('a', 1)
    q.put('a', 2)  # the newer frame replaces the waiting one
    t0 = time.monotonic()
    assert q.take() == [('a', 2)]
    assert time.monotonic() - t0 >= 0.45  # waited the window for b and c
    assert q.stats.superseded == 1 and q.stats.batches == 2 and q.stats.mean_batch == 2.0
    # a waiting take() whose batch is completed (and taken) by put waits for the next one
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(q.take(timeout_s=2.0)))
    waiter.start()
    time.sleep(0.05)
    q.put('a', 5)
    q.put('b', 6)
    assert q.put('c', 7) == [('a', 5), ('b', 6), ('c', 7)]
    q.put('b', 8)
    waiter.join()
    assert got == [[('b', 8)]]
    one: BatchQueue[int] = BatchQueue(['a', 'b'], window_s=1.0, max_batch=1)
    assert one.put('a', 1) == [('a', 1)]  # max_batch 1: every request runs alone, at once
    threading.Timer(0.05, q.close).start()
    assert q.take() == []
    with pytest.raises(ConfigError):
        BatchQueue(['a'], window_s=0.0, max_batch=0)


def _prefix_roundtrip(prefix, n_actions: int = 7):
    from rclpy.serialization import deserialize_message, serialize_message
    from vla_ros.ros.frame_msgs import prefix_from_remote, remote_frame_msg
    from vla_ros_msgs.msg import RemoteFrame

    msg = remote_frame_msg(full_frame(0), model_id='m', wires={}, config=RemoteConfig(),
                           prefix=prefix)
    back = deserialize_message(serialize_message(msg), RemoteFrame)
    return prefix_from_remote(back, n_actions), back


def test_the_action_prefix_crosses_the_wire_unchanged():
    from vla_ros.core.runtime.prefix import ActionPrefix

    rng = np.random.default_rng(0)
    sent = ActionPrefix(rng.normal(size=(3, 7)), 5, rng.normal(size=(4, 7)))
    got, msg = _prefix_roundtrip(sent)
    assert (msg.prefix_steps, msg.prefix_delay_steps) == (3, 5) and got.delay_steps == 5
    np.testing.assert_array_equal(got.actions, sent.actions)
    np.testing.assert_array_equal(got.tail, sent.tail)
    plain, _ = _prefix_roundtrip(ActionPrefix(sent.actions[:2], 2))
    assert plain.steps == 2 and plain.tail is None


def test_no_prefix_or_nothing_committed_is_d_zero_and_bad_counts_are_refused():
    from vla_ros.core.remote.wire import prefix_from_wire, PrefixWire
    from vla_ros.core.runtime.prefix import ActionPrefix
    from vla_ros.errors import ConversionError

    assert _prefix_roundtrip(None)[0] is None  # an older robot sends none: d = 0
    assert _prefix_roundtrip(ActionPrefix(np.zeros((0, 7)), 3))[0] is None  # none committed
    with pytest.raises(ConversionError, match='6 values for 1 steps x 7 actions'):
        prefix_from_wire(PrefixWire(1, 1, (0.0,) * 6), 7)
    with pytest.raises(ConversionError, match='tail'):
        prefix_from_wire(PrefixWire(1, 1, (0.0,) * 7, (0.0,) * 3), 7)
