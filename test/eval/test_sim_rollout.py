"""
The offline rollout drives the same PolicyLoop as the node.

Same config/sim.yaml limits, scheduler and safety: the committed default bundle solves fresh
pick and touch episodes, and a policy that sees no images does not.
"""

from __future__ import annotations

import os
import pathlib

import pytest

pytestmark = pytest.mark.timeout(120)
DEFAULT_BUNDLE = pathlib.Path(__file__).resolve().parents[2] / 'models' / 'default'


@pytest.fixture(scope='module')
def world_and_runtime():
    os.environ.setdefault('MUJOCO_GL', 'egl')
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.sim.world import SimWorld, WorldConfig
    return (SimWorld(WorldConfig(image_width=96, image_height=96)),
            PolicyRuntime.from_bundle(DEFAULT_BUNDLE))


@pytest.mark.parametrize('kind', ['pick', 'touch'])
def test_default_bundle_solves_fresh_episodes_through_the_policy_loop(world_and_runtime,
                                                                      kind):
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task
    from vla_ros.eval.sim_rollout import rollout

    world, runtime = world_and_runtime
    seed = EVAL_SEED_BASE + 7100 + (kind == 'touch')
    loops = []
    mon = rollout(world, runtime, make_task(kind, seed), seed, on_done=loops.append)
    assert mon.success, mon.reason
    steps = loops[0].boundary_steps  # measured where chunks hand over, as the node reports it
    assert steps.commanded.boundaries >= 3 and steps.planned.boundaries >= 3
    assert 0.0 < steps.commanded.max_step < 100.0 and 0.0 < steps.planned.max_step < 100.0


def test_masked_images_fail_the_task(world_and_runtime):
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task
    from vla_ros.eval.sim_rollout import rollout

    world, runtime = world_and_runtime
    seed = EVAL_SEED_BASE + 7100
    mon = rollout(world, runtime, make_task('pick', seed), seed, mask=('image',))
    assert not mon.success


def test_a_stalled_stream_reaches_the_policy_as_absent(world_and_runtime):
    """stall_audio at 0.5 s: the sync core's max-age expiry marks audio absent after it."""
    from vla_ros.sim.corruption import Corruption
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task
    from vla_ros.eval.sim_rollout import rollout

    world, runtime = world_and_runtime
    seed = EVAL_SEED_BASE + 7102
    seen: list[tuple[float, bool, bool]] = []
    rollout(world, runtime, make_task('beep', seed), seed,
            corrupt=Corruption('stall_audio', params={'at_s': 0.5}),
            on_chunk=lambda t, r: seen.append((t, r.frame.present.get('audio', False),
                                               r.frame.present.get('tactile', False))))
    before = [a for t, a, _ in seen if t < 0.45]
    after = [a for t, a, _ in seen if t > 1.0]
    assert before and all(before) and after and not any(after), seen
    assert all(tac for t, _, tac in seen if t > 0.2)   # the other streams are untouched


def test_corruptions_change_what_is_received():
    import numpy as np
    from vla_ros.errors import ConfigError
    from vla_ros.sim.corruption import Corruption

    img = np.full((8, 8, 3), 128, np.uint8)
    c = Corruption('drop_frames', seed=1)
    lost = sum(c.image(img, 0.0) is None for _ in range(1000))
    assert 400 < lost < 600
    noisy = Corruption('image_noise', seed=2).image(img, 0.0)
    assert noisy.dtype == np.uint8 and 15 < np.std(noisy.astype(float)) < 35
    wave = np.array([0.01, -0.4, 0.4], np.float32)
    assert list(Corruption('audio_clip').audio(wave, 0.0)) == pytest.approx([0.01, -0.1, 0.1])
    assert not Corruption('taxels_zero').tactile(np.ones(32, np.float32), 0.0).any()
    stall = Corruption('stall_tactile', params={'at_s': 1.0})
    assert stall.tactile(np.ones(4), 0.9) is not None and stall.tactile(np.ones(4), 1.0) is None
    with pytest.raises(ConfigError, match='unknown parameters'):
        Corruption('audio_clip', params={'sigma': 1.0})
    with pytest.raises(ConfigError, match='corruption must be one of'):
        Corruption('fog')


def test_a_bundle_with_the_effort_action_sets_the_grippers_max_effort(tmp_path):
    """config/sim.yaml sends gripper_max_effort to gripper_effort_controller; '' = not sent."""
    import dataclasses
    from helpers.bundles import make_random_bundle
    from vla_ros import constants as C
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.eval.sim_rollout import rollout
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task
    from vla_ros.sim.world import SimWorld, WorldConfig

    runtime = PolicyRuntime.from_bundle(make_random_bundle(
        tmp_path / 'b', extra_actions=(C.GRIPPER_EFFORT_ACTION,)))
    world = SimWorld(WorldConfig(image_width=64, image_height=64))
    seed = EVAL_SEED_BASE + 7100
    task = dataclasses.replace(make_task('pick', seed), timeout_s=1.0)
    try:
        rollout(world, runtime, task, seed)
        sent = world.gripper_effort   # random weights: around 10 N, clipped to [0, 20]
        assert 0.0 <= sent < C.DEFAULT_GRIPPER_MAX_EFFORT
        rollout(world, runtime, task, seed, policy_overrides={'gripper.effort_controller': ''})
        assert world.gripper_effort == C.DEFAULT_GRIPPER_MAX_EFFORT   # reset's, untouched
    finally:
        world.close()
