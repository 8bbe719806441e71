"""
What the v2 input kinds feed the graph, and the chunk they make (no ONNX, no ROS).

Values of image ranges / uint8 HWC / pad resize / stacks with masks, state padding, prompt
tokens, seeded noise, the history window (from the sync core's buffers), and the action slice
with delta_from_state.
"""

from __future__ import annotations

import dataclasses

from helpers.contract_v2 import dp_raw, J, pi0_raw
import numpy as np
import pytest
from vla_ros.core.bundle.manifest import parse_manifest
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.postprocess import to_chunk
from vla_ros.core.runtime.preprocess import draw_noise, InputBuilder, letterbox
from vla_ros.core.runtime.prompt_tokens import discretize_state
from vla_ros.errors import InputMismatchError

STATE = np.array([0.1, 0.3, 1.3, 1.5, 0.0, -0.2, 0.02])


def frame(stamp_ns: int = 10**9, *, wrist: bool = True, value: int | None = None,
          command: str = 'pick up the cube', shape=(48, 64, 3)) -> Frame:
    rng = np.random.default_rng(stamp_ns)
    img = rng.integers(0, 256, shape, np.uint8) if value is None \
        else np.full(shape, value, np.uint8)
    return Frame(stamp_ns=stamp_ns, images={'front': img, 'wrist': img},
                 joint_names=tuple(J), joint_positions=STATE + stamp_ns * 1e-10,
                 joint_velocities=np.zeros(7), command=command,
                 present={'image/front': True, 'image/wrist': wrist, 'joints': True,
                          'language': True})


@pytest.fixture
def pi0(tmp_path):
    return InputBuilder(parse_manifest(pi0_raw()), tmp_path)


def test_stack_in_minus_one_one_with_pad_resize_and_mask(pi0):
    feeds = pi0.build(frame(value=255))
    img = feeds['observation.images']
    assert img.shape == (1, 2, 3, 64, 64) and img.dtype == np.float32
    # 48x64 letterboxed into 64x64: 8 black rows top and bottom (-1), white inside (+1)
    assert np.allclose(img[0, 0, :, :8], -1) and np.allclose(img[0, 0, :, -8:], -1)
    assert np.allclose(img[0, 0, :, 8:56], 1)
    assert feeds['image_mask'].dtype == np.bool_ and feeds['image_mask'].tolist() == [[1, 1]]
    absent = pi0.build(frame(wrist=False))
    assert absent['image_mask'].tolist() == [[True, False]]
    assert not absent['observation.images'][0, 1].any()


def test_letterbox_keeps_the_aspect_ratio():
    out = letterbox(np.full((100, 200, 3), 7, np.uint8), (50, 50))
    assert out.shape == (50, 50, 3)
    assert (out[:12] == 0).all() and (out[13:37] == 7).all() and (out[38:] == 0).all()


def test_uint8_hwc_history_and_mask(tmp_path):
    b = InputBuilder(parse_manifest(dp_raw()), tmp_path)
    f = frame(shape=(64, 64, 3))
    feeds = b.build(f)
    img = feeds['observation.images.front']
    assert img.shape == (1, 2, 64, 64, 3) and img.dtype == np.uint8
    assert np.array_equal(img[0, 1], f.images['front'])  # raw pixels, HWC
    # no history in the frame yet: the current frame repeated, marked as padding
    assert feeds['pad_mask'].tolist() == [[0.0, 1.0]]
    assert np.array_equal(img[0, 0], img[0, 1])
    past = frame(9 * 10**8, shape=(64, 64, 3))
    feeds = b.build(dataclasses.replace(f, history=(past,)))
    assert feeds['pad_mask'].tolist() == [[1.0, 1.0]]
    assert np.array_equal(feeds['observation.images.front'][0, 0], past.images['front'])
    st = feeds['observation.state'][0]
    assert st.shape == (2, 7) and np.allclose(st[0], past.joint_positions)
    # a past frame without joints is not observed: padded with the newer one
    gap = dataclasses.replace(past, present={**past.present, 'joints': False})
    feeds = b.build(dataclasses.replace(f, history=(gap,)))
    assert feeds['pad_mask'].tolist() == [[0.0, 1.0]]
    assert np.allclose(feeds['observation.state'][0, 0], f.joint_positions)


def test_state_is_normalized_then_padded(pi0):
    st = pi0.build(frame())['observation.state'][0]
    assert st.shape == (32,) and np.allclose(st[:7], STATE + 1e-1) and not st[7:].any()


def test_prompt_tokens_padding_sides_and_discretized_state(pi0, tmp_path):
    feeds = pi0.build(frame(command='go'))
    ids, mask = feeds['input_ids'][0], feeds['attention_mask'][0]
    text = pi0._tokens['input_ids'].prompt('go', np.clip(STATE + 0.1, -1, 1))
    assert text.startswith('Task: go, State: ') and text.endswith(';\nAction: ')
    assert ids.dtype == np.int64 and ids[0] == 1  # bytes tokenizer: begin token
    assert mask.tolist() == [1] * 24  # the prompt is longer than 24 tokens: truncated
    raw = pi0_raw()
    raw['inputs'][2]['preprocessing'].update(prompt='{command}', padding_side='left')
    left = InputBuilder(parse_manifest(raw), tmp_path).build(frame(command='go'))
    assert left['input_ids'][0].tolist() == [0] * 20 + [1, ord('g') + 3, ord('o') + 3, 2]
    assert left['attention_mask'][0].tolist() == [0] * 20 + [1] * 4
    assert discretize_state(np.array([-1.0, 0.0, 1.0, 3.0]), 256) == '0 128 255 255'


def test_noise_is_a_function_of_seed_and_stamp(pi0):
    spec = pi0.specs['noise']
    a, b = draw_noise(spec, 10**9), draw_noise(spec, 10**9)
    assert a.shape == (50, 32) and a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, draw_noise(spec, 10**9 + 1))
    assert not np.array_equal(a, draw_noise(dataclasses.replace(spec, seed=4), 10**9))
    assert 0.9 < a.std() < 1.1
    u = draw_noise(dataclasses.replace(spec, distribution='uniform', scale=0.5), 5)
    assert u.min() >= -0.5 and u.max() <= 0.5


def test_slice_and_delta_from_state_make_absolute_targets():
    raw = pi0_raw()
    raw['action']['normalization'] = {'mean': [0.0] * 7, 'std': [0.1] * 7}
    m = parse_manifest(raw)
    out = np.zeros((50, 32), np.float32)
    out[:, :7] = 1.0
    out[:, 7:] = np.nan  # padding beyond the slice is never read
    f = frame()
    chunk = to_chunk(out, m, f)
    assert chunk.shape == (50, 7)
    assert np.allclose(chunk[:, :6], f.joint_positions[:6] + 0.1)  # delta + state at stamp
    assert np.allclose(chunk[:, 6], 0.1)  # the gripper is absolute
    with pytest.raises(InputMismatchError, match='joint state'):
        to_chunk(out, m, dataclasses.replace(f, present={'joints': False}))


def test_sync_core_serves_the_history_from_its_buffers():
    from vla_ros.core.control.bundle_fit import fit_history
    from vla_ros.core.sync import CameraConfig, MultimodalSynchronizer, SyncConfig

    cfg = fit_history(SyncConfig(cameras=(CameraConfig('front'),), joint_names=tuple(J),
                                 modalities=('image', 'joints')), parse_manifest(dp_raw()))
    assert (cfg.history_frames, cfg.history_spacing_s) == (2, 0.1)
    t0 = 100 * 10**9
    sync = MultimodalSynchronizer(cfg, clock=lambda: t0 + 10**9)
    for i in range(31):  # 1 s of 30 Hz images, 100 Hz joints (position = time [s])
        t = t0 + i * 33_333_333
        sync.add_image('front', t, np.full((4, 4, 3), i, np.uint8))
    for i in range(101):
        t = t0 + i * 10_000_000
        sync.add_joints(t, J, [i / 100] * 7, [0.0] * 7)
    f = sync.assemble(t0 + 10**9)
    (past,) = f.history
    assert past.stamp_ns == t0 + 9 * 10**8 and past.present['image/front']
    assert np.allclose(past.joint_positions, 0.9) and past.images['front'][0, 0, 0] == 27
    assert sync.stats.frames == 1  # the past frame is not counted
    # images are kept for the history span + slop (image_buffer_s at least), not buffer_s
    assert len(sync._images['front']) == 8 and cfg.image_horizon_s == cfg.image_buffer_s
    fresh = MultimodalSynchronizer(cfg, clock=lambda: t0 + 10**8)
    for i in range(3):
        fresh.add_image('front', t0 + i * 33_333_333, np.full((4, 4, 3), i, np.uint8))
    fresh.add_joints(t0, J, [0.0] * 7, [0.0] * 7)
    fresh.add_joints(t0 + 10**8, J, [0.1] * 7, [0.0] * 7)
    early = fresh.assemble(t0 + 5 * 10**7)  # 0.05 s after the first sample: no past yet
    assert early.present['image/front'] and not early.history[0].present.get('image/front')
