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
    from vla_ros.core.runtime import PolicyRuntime
    from vla_ros.sim.world import SimWorld, WorldConfig
    return (SimWorld(WorldConfig(image_width=96, image_height=96)),
            PolicyRuntime.from_bundle(DEFAULT_BUNDLE))


@pytest.mark.parametrize('kind', ['pick', 'touch'])
def test_default_bundle_solves_fresh_episodes_through_the_policy_loop(world_and_runtime,
                                                                      kind):
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task
    from vla_ros.tools.sim_rollout import rollout

    world, runtime = world_and_runtime
    seed = EVAL_SEED_BASE + 7100 + (kind == 'touch')
    mon = rollout(world, runtime, make_task(kind, seed), seed)
    assert mon.success, mon.reason


def test_masked_images_fail_the_task(world_and_runtime):
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task
    from vla_ros.tools.sim_rollout import rollout

    world, runtime = world_and_runtime
    seed = EVAL_SEED_BASE + 7100
    mon = rollout(world, runtime, make_task('pick', seed), seed, mask=('image',))
    assert not mon.success
