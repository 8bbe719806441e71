"""
LeRobot Diffusion Policy -> bundle: built and saved by LeRobot, exported, checked against LeRobot.

A reduced Diffusion Policy (ResNet18 + GroupNorm + spatial softmax with a center crop, two
observations, a FiLM-conditioned 1-D UNet, 4 DDPM steps; random weights) is saved with LeRobot's
``save_pretrained`` and its processors, exported with the worker, and the bundle's chunk is
compared with LeRobot's own pipeline on the same two-frame history and the same noise (initial
sample + the noise each DDPM step draws). The full-size numbers: bench/bench_real_vla.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.lerobot_chain import diffusion_checkpoint
import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope='module')
def diffusion(tmp_path_factory):
    """Build a reduced Diffusion Policy checkpoint and its raw export (the LeRobot side, once)."""
    from vla_ros.lerobot_io.runner import run_worker

    root = tmp_path_factory.mktemp('diffusion')
    (root / 'ckpt').symlink_to(diffusion_checkpoint())
    run_worker(['export', str(root / 'ckpt'), str(root / 'export')], quiet=True)
    return root


def _bundle(root: Path, name: str) -> Path:
    from vla_ros.lerobot_io.to_bundle import build_bundle, DEFAULT_JOINTS

    b = build_bundle(root / 'export', root / name, fps=10.0, joint_names=list(DEFAULT_JOINTS),
                     action_names=list(DEFAULT_JOINTS), model_id='lerobot-diffusion')
    assert b.parity_std <= 1e-3, b
    return b.path


def test_diffusion_checkpoint_is_lerobots_own(diffusion):
    ckpt = diffusion / 'ckpt'
    cfg = json.loads((ckpt / 'config.json').read_text())
    assert cfg['type'] == 'diffusion' and cfg['vision_backbone'] == 'resnet18'
    assert (cfg['n_obs_steps'], cfg['horizon'], cfg['n_action_steps']) == (2, 16, 8)
    assert cfg['noise_scheduler_type'] == 'DDPM' and cfg['crop_shape'] == [40, 56]
    for f in ('model.safetensors', 'policy_preprocessor.json', 'policy_postprocessor.json'):
        assert (ckpt / f).is_file(), f
    steps = [s['registry_name'] for s in
             json.loads((ckpt / 'policy_preprocessor.json').read_text())['steps']]
    assert 'normalizer_processor' in steps


def test_diffusion_bundle_matches_lerobots_pipeline(diffusion, capsys):
    import onnx
    import yaml

    from vla_ros.cli.main import main

    bundle = _bundle(diffusion, 'lerobot-diffusion')
    raw = yaml.safe_load((bundle / 'bundle.yaml').read_text())
    assert raw['format_version'] == 2 and raw['history'] == {'frames': 2, 'spacing_s': 0.1}
    shapes = {i['name']: i['shape'] for i in raw['inputs']}
    # the initial sample + one noise per DDPM step with t > 0 (4 steps: 3)
    assert shapes == {'observation.state': [-1, 2, 7], 'noise': [-1, 4, 16, 7],
                      'observation.images.front': [-1, 2, 3, 48, 64]}
    pre = {i['name']: i['preprocessing'] for i in raw['inputs']}
    assert pre['observation.state']['history'] and pre['observation.images.front']['history']
    assert pre['noise']['kind'] == 'noise'
    # the n_action_steps LeRobot executes, not the whole horizon
    assert raw['action']['horizon'] == 8 and raw['provenance']['horizon'] == 16
    assert raw['provenance']['scheduler'] == 'DDPMScheduler'
    # the 4 unrolled steps share the UNet's weights: no Identity left between them and a MatMul
    g = onnx.load(str(bundle / 'policy.onnx')).graph
    inits = {i.name for i in g.initializer}
    assert not [n for n in g.node if n.op_type == 'Identity' and n.input[0] in inits]
    capsys.readouterr()
    assert main(['bundle', 'check', str(bundle)]) == 0
    assert 'CHECK lerobot-diffusion' in capsys.readouterr().out


def test_diffusion_chunk_follows_the_history_and_the_noise(diffusion):
    from vla_ros.core.frame import Frame
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.lerobot_io.to_bundle import DEFAULT_JOINTS

    rt = PolicyRuntime.from_bundle(_bundle(diffusion, 'b2'))
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (2, 96, 128, 3), np.uint8)
    q = np.linspace(-0.3, 0.3, 7)

    def frame(i: int, stamp_ns: int, history: tuple = ()) -> Frame:
        return Frame(stamp_ns=stamp_ns, images={'front': imgs[i]},
                     joint_names=tuple(DEFAULT_JOINTS), joint_positions=q + 0.1 * i,
                     joint_velocities=np.zeros(7), present={'image/front': True, 'joints': True},
                     history=history)

    def chunk(stamp_ns: int, past: bool = True) -> np.ndarray:
        return rt.infer(frame(1, stamp_ns, (frame(0, stamp_ns - 100_000_000),) if past
                              else ())).actions

    a = chunk(5)
    assert a.shape == (8, 7) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, chunk(5))  # same frame, same noise
    assert np.abs(a - chunk(6)).max() > 1e-4  # another stamp: other noise
    # no past frame yet: LeRobot repeats the current one (so does the runtime) -> another chunk
    assert np.abs(a - chunk(5, past=False)).max() > 1e-4


def test_diffusion_int8_quantizes_each_shared_weight_once(diffusion, tmp_path):
    import onnx
    import yaml

    from vla_ros.core.bundle.manifest import write_manifest
    from vla_ros.core.frame import Frame
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.lerobot_io.onnx_tidy import quantize_shared_matmuls
    from vla_ros.lerobot_io.to_bundle import DEFAULT_JOINTS

    fp32 = _bundle(diffusion, 'b3')
    int8 = tmp_path / 'int8'
    int8.mkdir()
    # 4 unrolled steps x 22 UNet convolutions (2 MatMuls each) + the encoder / FiLM Linears
    assert quantize_shared_matmuls(fp32 / 'policy.onnx', int8 / 'policy.onnx') > 4 * 22 * 2
    raw = yaml.safe_load((fp32 / 'bundle.yaml').read_text())
    raw.pop('files')
    write_manifest(int8, raw)
    g = onnx.load(str(int8 / 'policy.onnx')).graph
    assert 'MatMul' not in {n.op_type for n in g.node}
    assert len([i for i in g.initializer if i.name.endswith('_int8')]) < 40  # once per weight
    img = np.random.default_rng(0).integers(0, 256, (48, 64, 3), np.uint8)
    f = Frame(stamp_ns=7, images={'front': img}, joint_names=tuple(DEFAULT_JOINTS),
              joint_positions=np.linspace(-0.3, 0.3, 7), joint_velocities=np.zeros(7),
              present={'image/front': True, 'joints': True})
    a, b = (PolicyRuntime.from_bundle(p).infer(f).actions for p in (fp32, int8))
    err = np.max(np.abs(a - b) / np.asarray(raw['action']['normalization']['std']))
    assert 1e-6 < err < 0.1, err  # int8, not a copy; within the int8 budget of SmolVLA's


def test_diffusion_parity_error_names_the_gap(diffusion, tmp_path):
    import shutil

    from vla_ros.errors import ParityError
    from vla_ros.lerobot_io.policy_export import PARITY_NPZ
    from vla_ros.lerobot_io.to_bundle import build_bundle, DEFAULT_JOINTS

    export = tmp_path / 'export'
    shutil.copytree(diffusion / 'export', export)
    with np.load(export / PARITY_NPZ) as z:
        arrays = dict(z)
    noise = arrays['noise'].copy()
    arrays['noise'][:, -1] += 1.0  # LeRobot was given another last step noise
    np.savez(export / PARITY_NPZ, **arrays)
    with pytest.raises(ParityError, match='noise'):
        build_bundle(export, tmp_path / 'b', fps=10.0, joint_names=list(DEFAULT_JOINTS),
                     action_names=list(DEFAULT_JOINTS), model_id='x')
    arrays['noise'] = noise
    std = np.asarray(json.loads((export / 'lerobot_export.json').read_text())['action_std'])
    arrays['expected'] = arrays['expected'] + 2e-3 * std  # LeRobot said something else
    np.savez(export / PARITY_NPZ, **arrays)
    with pytest.raises(ParityError, match='action std'):
        build_bundle(export, tmp_path / 'b2', fps=10.0, joint_names=list(DEFAULT_JOINTS),
                     action_names=list(DEFAULT_JOINTS), model_id='x')
