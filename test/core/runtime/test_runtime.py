"""PolicyRuntime on tiny random bundles (real onnxruntime, no mocks)."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import textwrap

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros.core.features.audio import log_mel, MelConfig
from vla_ros.core.runtime.policy_runtime import PolicyOutput, PolicyRuntime
from vla_ros.errors import InferenceError, InputMismatchError, UnsupportedProviderError

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope='module')
def bundles(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    root = tmp_path_factory.mktemp('bundles')
    return {'xattn': make_random_bundle(root / 'xattn'),
            'moe': make_random_bundle(root / 'moe', fusion='moe', horizon=8, dt=0.05),
            'nan': make_random_bundle(root / 'nan', nan_output=True)}


def test_infer_returns_physical_chunk(bundles):
    rt = PolicyRuntime.from_bundle(bundles['xattn'])
    out = rt.infer(full_frame())
    assert isinstance(out, PolicyOutput)
    assert out.actions.shape == (16, 7) and out.actions.dtype == np.float64
    assert out.action_names == rt.manifest.action_names and out.units[-1] == 'm'
    assert out.kind == 'absolute_joint_position' and out.dt == pytest.approx(0.02)
    assert out.frame_stamp_ns == full_frame().stamp_ns
    assert set(out.timings_ms) == {'preprocess', 'run', 'postprocess', 'total'}
    assert out.gate_weights is None
    # de-normalized: the gripper column is around mean 0.02 with std 0.005
    assert np.all(np.abs(out.actions[:, -1] - 0.02) < 0.1)


def test_moe_gate_weights_and_horizon(bundles):
    out = PolicyRuntime.from_bundle(bundles['moe']).infer(full_frame())
    assert out.actions.shape == (8, 7) and out.dt == pytest.approx(0.05)
    assert out.gate_weights.shape == (3,)
    assert out.gate_weights.sum() == pytest.approx(1.0, abs=1e-5)


def test_presence_changes_output_and_proprio_only_is_finite(bundles):
    rt = PolicyRuntime.from_bundle(bundles['xattn'])
    full = rt.infer(full_frame()).actions
    no_img = rt.infer(full_frame(image_front=False)).actions
    assert not np.allclose(full, no_img)
    only = full_frame(image_front=False, audio=False, tactile=False, command='')
    feeds = rt.build_inputs(only)
    assert feeds['presence'].tolist() == [[0, 0, 0, 0, 1]]
    assert np.all(np.isfinite(rt.infer(only).actions))


def test_text_embedding_cached_per_command(bundles):
    rt = PolicyRuntime.from_bundle(bundles['xattn'])
    rt.set_command('open the gripper')
    e1 = rt.embed_text('open the gripper')
    assert rt.embed_text('open the gripper') is e1  # cached, not recomputed
    a = rt.infer(full_frame(command='open the gripper')).actions
    b = rt.infer(full_frame(command='stack the blue block')).actions
    assert not np.allclose(a, b)
    # an empty frame command falls back to the last set_command
    c = rt.infer(full_frame(command='')).actions
    assert np.allclose(a, c)


def test_nan_output_raises_inference_error(bundles):
    rt = PolicyRuntime.from_bundle(bundles['nan'])
    with pytest.raises(InferenceError, match='non-finite'):
        rt.infer(full_frame())


def test_inputs_checked_before_run(bundles):
    rt = PolicyRuntime.from_bundle(bundles['xattn'])
    bad = full_frame()
    with pytest.raises(InputMismatchError, match='tactile'):
        rt.infer(dataclasses.replace(bad, tactile=np.zeros(30, np.float32)))
    with pytest.raises(InputMismatchError, match='gripper_joint'):
        rt.infer(dataclasses.replace(bad, joint_names=bad.joint_names[:-1],
                                     joint_positions=bad.joint_positions[:-1]))
    with pytest.raises(InputMismatchError, match='required'):
        rt.infer(full_frame(joints=False))
    with pytest.raises(InputMismatchError, match='NaN'):
        rt.infer(dataclasses.replace(bad, joint_positions=np.full(7, np.nan)))


def test_audio_front_end_matches_manifest(bundles):
    rt = PolicyRuntime.from_bundle(bundles['xattn'])
    spec = next(s for s in rt.manifest.inputs if s.kind == 'log_mel')
    mel = log_mel(np.zeros(100, np.float32), MelConfig(**spec.preprocessing['mel']))
    assert mel.shape == tuple(spec.shape[1:])
    # audio at another rate is resampled to the model rate
    f = full_frame()
    f8k = dataclasses.replace(f, audio=f.audio[::2].copy(), audio_rate=8000)
    assert rt.build_inputs(f8k)['audio_mel'].shape == (1, *spec.shape[1:])


def test_providers_fallback_and_unknown(bundles, caplog):
    with caplog.at_level(logging.INFO, logger='vla_ros.runtime'):
        rt = PolicyRuntime.from_bundle(bundles['xattn'], providers=('cuda', 'cpu'),
                                       intra_op_threads=2, graph_optimization='basic')
    assert rt.active_providers[-1] == 'CPUExecutionProvider'
    assert 'using' in caplog.text
    with pytest.raises(UnsupportedProviderError, match='NoSuch'):
        PolicyRuntime.from_bundle(bundles['xattn'], providers=('NoSuchExecutionProvider',))


def test_runtime_does_not_import_torch(bundles):
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parents[2])!r})
        from helpers.runtime_fixtures import full_frame
        from vla_ros.core.runtime.policy_runtime import PolicyRuntime
        out = PolicyRuntime.from_bundle({str(bundles['moe'])!r}).infer(full_frame())
        assert out.actions.shape == (8, 7)
        bad = [m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'rclpy'))]
        assert not bad, bad
        print('OK')
    """)
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert 'OK' in res.stdout
