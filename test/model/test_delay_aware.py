"""
Delay-aware training (``vla-ros train --delay-aware``).

Prefixes from the demo's own actions, the loss on the steps after them, and a bundle whose ONNX
output depends on the prefix.
"""

from __future__ import annotations

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
import torch
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.model.prefix import make_prefix, postfix_loss, sample_delays, ZERO_DELAY_SHARE


def test_delays_are_zero_a_quarter_of_the_time_else_uniform():
    d = sample_delays(np.random.default_rng(0), 20000, 8)
    assert d.min() == 0 and d.max() == 8
    assert abs((d == 0).mean() - ZERO_DELAY_SHARE) < 0.02
    counts = np.bincount(d[d > 0], minlength=9)[1:]
    assert counts.min() > 0.8 * counts.max()    # uniform over 1..8


def test_the_prefix_is_the_demos_own_first_actions():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(3, 10, 7)).astype(np.float32)
    prefix, mask = make_prefix(target, np.array([0, 2, 5]), rng)
    np.testing.assert_array_equal(mask.sum(1), [0, 2, 5])
    np.testing.assert_array_equal(prefix[1, :2], target[1, :2])
    assert not prefix[1, 2:].any() and not prefix[0].any()
    noisy, _ = make_prefix(target, np.array([0, 2, 5]), rng, noise_std=0.1)
    assert 0 < np.abs(noisy[2, :5] - target[2, :5]).max() < 1 and not noisy[2, 5:].any()


def test_the_loss_ignores_the_prefix_steps():
    target = torch.zeros(2, 10, 7)
    pred = target.clone()
    pred[:, :3] = 5.0                                  # wrong only where the prefix is
    mask = (torch.arange(10)[None, :] < 3).float().expand(2, -1)
    assert postfix_loss(pred, target, mask) == 0
    assert postfix_loss(pred, target, None) > 0        # without a prefix every step counts
    assert torch.isclose(postfix_loss(pred, target, None),
                         torch.nn.functional.smooth_l1_loss(pred, target, beta=0.05))


@pytest.fixture(scope='module')
def demos(tmp_path_factory):
    from vla_ros.data.datagen import generate
    from vla_ros.harness.sim_config import sim_node_params
    out = tmp_path_factory.mktemp('demos')
    sim = sim_node_params({'image_width': 64, 'image_height': 64, 'camera_rate_hz': 10.0,
                           'tactile_rate_hz': 50.0, 'joint_rate_hz': 50.0})
    recs = generate(out, kinds=['pick'], episodes_per_kind=1, sim=sim)
    assert all(r.success for r in recs)
    return out


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_cli_delay_aware_training_exports_a_prefix_conditioned_bundle(demos, tmp_path):
    from vla_ros.cli.main import main
    out = tmp_path / 'out' / 'aware'
    assert main(['train', str(demos), '--out', str(out), '--steps', '4', '--batch', '8',
                 '--d-model', '32', '--text-encoder', 'wordbag', '--delay-aware',
                 '--max-delay', '6', '--no-progress']) == 0
    m = load_bundle(out).manifest
    assert m.input('action_prefix').preprocessing['max_delay'] == 6
    assert m.input('prefix_mask').preprocessing['prefix'] == 'action_prefix'
    assert m.provenance['delay_aware'] == {'max_delay': 6, 'prefix_noise': 0.0}
    rt = PolicyRuntime.from_bundle(out)
    frame = full_frame(0)
    frame.images['wrist'] = frame.images['front']
    frame.present['image/wrist'] = True
    rng = np.random.default_rng(0)
    base = np.asarray(m.action_mean)
    width = len(base)   # arm, gripper opening and the gripper's max effort (the demos)
    assert width == 8
    p1 = ActionPrefix(base + rng.normal(0, 0.05, (4, width)), 4)
    p2 = ActionPrefix(base + rng.normal(0, 0.05, (4, width)), 4)
    a1, a2 = rt.infer(frame, p1).actions, rt.infer(frame, p2).actions
    np.testing.assert_allclose(a1[:4], p1.actions, atol=1e-5)   # the chunk starts with them
    assert np.abs(a1[4:] - a2[4:]).max() > 1e-6                 # and depends on them after
    np.testing.assert_allclose(rt.infer(frame).actions, rt.infer(frame, ActionPrefix(
        np.zeros((0, width)), 0)).actions)                          # no prefix = d 0


def test_max_delay_must_leave_a_step_after_the_prefix(tmp_path, capsys):
    from vla_ros.cli.main import main
    assert main(['train', str(tmp_path), '--out', str(tmp_path / 'x'), '--delay-aware',
                 '--max-delay', '10', '--horizon', '10', '--no-progress']) != 0
    assert '--max-delay must be in 1..9' in capsys.readouterr().err
