"""
LeRobot SmolVLA -> bundle: built by LeRobot's classes, saved by LeRobot, exported, checked.

A reduced SmolVLA (every structural feature of the 450 M model -- SigLIP + pixel shuffle, GQA
text layers, the cross-attention action expert, flow matching -- at small widths; random
weights) is saved with LeRobot's ``save_pretrained`` and its processors, exported with
``export --from-lerobot``, and the bundle's chunk is compared with LeRobot's own pipeline on
the same observation, command and noise. The export is made with LeRobot's real-time chunking
in the graph (``--rtc``, one export for both: without a prefix the RTC graph is the plain
chunk, which the parity checks). With a prefix, the export's second parity sample is the
chunk for d = 3 committed actions plus a planned tail against LeRobot's
``predict_action_chunk(..., inference_delay=3, prev_chunk_left_over=..., execution_horizon=10)``
with RTC enabled. The full-size numbers: bench/bench_real_vla.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.lerobot_chain import smolvla_checkpoint
import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope='module')
def smolvla(tmp_path_factory):
    """Build a reduced SmolVLA checkpoint and its raw export (the LeRobot side, once)."""
    from vla_ros.lerobot_io.runner import run_worker

    root = tmp_path_factory.mktemp('smolvla')
    (root / 'ckpt').symlink_to(smolvla_checkpoint())
    run_worker(['export', str(root / 'ckpt'), str(root / 'export'), '--rtc'], quiet=True)
    return root


def _bundle(root: Path, name: str) -> Path:
    from vla_ros.lerobot_io.to_bundle import build_bundle, DEFAULT_JOINTS

    b = build_bundle(root / 'export', root / name, fps=10.0, joint_names=list(DEFAULT_JOINTS),
                     action_names=list(DEFAULT_JOINTS), model_id='lerobot-smolvla')
    assert b.parity_std <= 1e-3, b  # both samples: no prefix, and LeRobot's RTC
    return b.path


def test_smolvla_checkpoint_is_lerobots_own(smolvla):
    ckpt = smolvla / 'ckpt'
    cfg = json.loads((ckpt / 'config.json').read_text())
    assert cfg['type'] == 'smolvla' and cfg['load_vlm_weights'] is False
    assert Path(cfg['vlm_model_name']) == ckpt.resolve() / 'vlm'
    for f in ('model.safetensors', 'policy_preprocessor.json', 'policy_postprocessor.json',
              'vlm/config.json', 'vlm/tokenizer.json', 'vlm/preprocessor_config.json'):
        assert (ckpt / f).is_file(), f
    steps = [s['registry_name'] for s in
             json.loads((ckpt / 'policy_preprocessor.json').read_text())['steps']]
    assert 'smolvla_new_line_processor' in steps and 'tokenizer_processor' in steps
    vlm = json.loads((ckpt / 'vlm/config.json').read_text())
    assert vlm['text_config']['vocab_size'] == 49280 and vlm['scale_factor'] == 4


def test_smolvla_bundle_matches_lerobots_pipeline(smolvla, capsys):
    import yaml

    from vla_ros.cli.main import main

    bundle = _bundle(smolvla, 'lerobot-smolvla')
    raw = yaml.safe_load((bundle / 'bundle.yaml').read_text())
    assert raw['format_version'] == 2
    kinds = {i['name']: i['preprocessing']['kind'] for i in raw['inputs']}
    assert kinds == {'observation.state': 'joints', 'observation.images.front': 'image',
                     'observation.language.tokens': 'text_tokens',
                     'observation.language.attention_mask': 'token_mask', 'noise': 'noise',
                     'action_prefix': 'action_prefix', 'prefix_mask': 'prefix_mask'}
    pre = {i['name']: i['preprocessing'] for i in raw['inputs']}
    assert pre['observation.state']['pad_to'] == 32
    assert pre['observation.language.tokens']['prompt'] == '{command}\n'
    assert raw['action']['slice'] == [0, 7] and raw['action']['horizon'] == 10
    assert set(raw['required_modalities']) == {'joints', 'image/front', 'language'}
    assert {'policy.onnx', 'tokenizer.json'} <= set(raw['files'])
    capsys.readouterr()
    assert main(['bundle', 'check', str(bundle)]) == 0
    assert 'CHECK lerobot-smolvla' in capsys.readouterr().out


def test_smolvla_chunk_follows_the_command_and_the_noise(smolvla):
    from vla_ros.core.frame import Frame
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.errors import InputMismatchError
    from vla_ros.lerobot_io.to_bundle import DEFAULT_JOINTS

    rt = PolicyRuntime.from_bundle(_bundle(smolvla, 'b2'))
    img = np.random.default_rng(1).integers(0, 256, (96, 128, 3), np.uint8)

    def chunk(command: str, stamp_ns: int) -> np.ndarray:
        q = np.linspace(-0.3, 0.3, 7)
        f = Frame(stamp_ns=stamp_ns, images={'front': img}, joint_names=tuple(DEFAULT_JOINTS),
                  joint_positions=q, joint_velocities=np.zeros(7), command=command,
                  present={'image/front': True, 'joints': True, 'language': bool(command)})
        return rt.infer(f).actions

    a = chunk('pick up the red cube', 5)
    assert a.shape == (10, 7) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, chunk('pick up the red cube', 5))  # same frame, same noise
    assert np.abs(a - chunk('pick up the blue cube', 5)).max() > 1e-4
    assert np.abs(a - chunk('pick up the red cube', 6)).max() > 1e-4
    with pytest.raises(InputMismatchError, match='language'):
        chunk('', 5)  # no command: the VLA does not act


def test_smolvla_parity_error_names_the_gap(smolvla, tmp_path):
    import shutil

    from vla_ros.errors import ParityError
    from vla_ros.lerobot_io.policy_export import PARITY_NPZ
    from vla_ros.lerobot_io.to_bundle import build_bundle, DEFAULT_JOINTS

    export = tmp_path / 'export'
    shutil.copytree(smolvla / 'export', export)
    with np.load(export / PARITY_NPZ) as z:
        arrays = dict(z)
    std = np.asarray(json.loads((export / 'lerobot_export.json').read_text())['action_std'])
    arrays['expected'] = arrays['expected'] + 2e-3 * std  # LeRobot said something else
    np.savez(export / PARITY_NPZ, **arrays)
    with pytest.raises(ParityError, match='action std'):
        build_bundle(export, tmp_path / 'b', fps=10.0, joint_names=list(DEFAULT_JOINTS),
                     action_names=list(DEFAULT_JOINTS), model_id='x')


def _frame(stamp_ns: int = 5):
    from vla_ros.core.frame import Frame
    from vla_ros.lerobot_io.to_bundle import DEFAULT_JOINTS

    img = np.random.default_rng(1).integers(0, 256, (96, 128, 3), np.uint8)
    return Frame(stamp_ns=stamp_ns, images={'front': img}, joint_names=tuple(DEFAULT_JOINTS),
                 joint_positions=np.linspace(-0.3, 0.3, 7), joint_velocities=np.zeros(7),
                 command='pick up the red cube',
                 present={'image/front': True, 'joints': True, 'language': True})


def test_smolvla_rtc_inputs_and_settings(smolvla):
    import yaml

    raw = yaml.safe_load((_bundle(smolvla, 'rtc') / 'bundle.yaml').read_text())
    pre = {i['name']: i['preprocessing'] for i in raw['inputs']}
    assert pre['action_prefix'] == {'kind': 'action_prefix', 'max_delay': 9, 'tail': 'planned'}
    assert pre['prefix_mask'] == {'kind': 'prefix_mask', 'prefix': 'action_prefix'}
    assert raw['provenance']['rtc'] == {'execution_horizon': 10, 'max_guidance_weight': 10.0,
                                        'schedule': 'LINEAR'}


def test_smolvla_rtc_moves_the_first_d_actions_to_the_prefix(smolvla):
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.core.runtime.prefix import ActionPrefix

    rt = PolicyRuntime.from_bundle(_bundle(smolvla, 'rtc2'))
    frame, d = _frame(), 3
    plain = rt.infer(frame).actions
    std = np.asarray(rt.manifest.action_std)
    plan = plain + 0.5 * std                                # a plan half a std away
    guided = rt.infer(frame, ActionPrefix(plan[:d], d, plan[d:])).actions
    before = np.abs(plain[:d] - plan[:d]) / std
    after = np.abs(guided[:d] - plan[:d]) / std
    assert after.max() < 0.5 * before.min(), (before, after)
    # no prefix (d = 0: an all-zero mask) is the plain chunk, whatever the tail says
    np.testing.assert_array_equal(rt.infer(frame, ActionPrefix(plan[:0], 0, plan)).actions,
                                  plain)


def test_smolvla_rtc_parity_error_names_the_prefix(smolvla, tmp_path):
    import shutil

    from vla_ros.errors import ParityError
    from vla_ros.lerobot_io.policy_export import PARITY_NPZ
    from vla_ros.lerobot_io.to_bundle import build_bundle, DEFAULT_JOINTS

    export = tmp_path / 'export'
    shutil.copytree(smolvla / 'export', export)
    with np.load(export / PARITY_NPZ) as z:
        arrays = dict(z)
    arrays['prefix_tail'] = arrays['prefix_tail'] * 0.0     # not the leftover LeRobot was given
    np.savez(export / PARITY_NPZ, **arrays)
    with pytest.raises(ParityError, match=r'with an action prefix \(RTC\)'):
        build_bundle(export, tmp_path / 'b', fps=10.0, joint_names=list(DEFAULT_JOINTS),
                     action_names=list(DEFAULT_JOINTS), model_id='x')
