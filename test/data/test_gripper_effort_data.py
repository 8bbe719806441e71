"""
Gripper max-effort commands: lockstep expert -> world + MCAP bag -> replay -> 8-dim actions.

Recordings with effort commands train an extra ``gripper_max_effort`` [N] action; recordings
without them keep today's 7-dim actions.
"""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.data import bagio
from vla_ros.data.bag_replay import replay
from vla_ros.data.datagen import BagSink
from vla_ros.harness.sim_config import lockstep_setup, sim_node_params
from vla_ros.model.dataset import bag_samples, has_effort, sync_config_for
from vla_ros.model.train import default_policy_config
from vla_ros.sim.ik import IkSolver
from vla_ros.sim.lockstep import run_expert_episode
from vla_ros.sim.task_suite import make_task
from vla_ros.sim.world import SimWorld

SIM_OVERRIDES = {'image_width': 64, 'image_height': 64, 'camera_rate_hz': 10.0,
                 'tactile_rate_hz': 50.0, 'joint_rate_hz': 50.0}
SQUEEZE_N = 6.0   # the effort the expert closes with [N]
SEED = 11


class _SqueezingExpert:
    """
    The scripted expert, commanding SQUEEZE_N once it closes the fingers (once only).

    The expert's own effort commands (5 N on every tick outside the gentle task) are dropped,
    so the bag holds exactly one.
    """

    def __init__(self, inner) -> None:
        self.inner, self.sent = inner, False

    def act(self, state):
        cmd = self.inner.act(state)
        cmd.gripper_effort = None
        if not self.sent and cmd.gripper < 0.03:
            cmd.gripper_effort, self.sent = SQUEEZE_N, True
        return cmd

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _OldBagSink(BagSink):
    """What the recorder wrote before effort commands existed."""

    def gripper_effort(self, t: float, newtons: float) -> None:
        pass


@pytest.fixture(scope='module')
def bags(tmp_path_factory):
    from vla_ros.sim.expert import ScriptedExpert

    out = tmp_path_factory.mktemp('effort_bags')
    world_config, rates = lockstep_setup(sim_node_params(SIM_OVERRIDES))
    world = SimWorld(world_config)
    ik = IkSolver(world.model)
    task = make_task('pick', SEED)
    made, efforts = {}, {}
    try:
        for name, sink_cls in (('effort', BagSink), ('old', _OldBagSink)):
            expert = _SqueezingExpert(ScriptedExpert(task, ik, world.home,
                                                     1 / rates.control_rate_hz))
            with bagio.BagWriter(out / name) as w:
                run_expert_episode(world, task, SEED, sink=sink_cls(w), rates=rates, ik=ik,
                                   expert=expert, settle_s=0.5)
            assert expert.sent
            made[name], efforts[name] = out / name, world.gripper_effort
    finally:
        world.close()
    return made, efforts


def test_expert_effort_reaches_the_world_and_the_bag(bags):
    made, efforts = bags
    assert efforts['effort'] == SQUEEZE_N       # applied in lockstep (held to the end)
    msgs = [(t, m.data.tolist()) for topic, _, t, m in bagio.read_messages(made['effort'])
            if topic == bagio.GRIPPER_EFFORT_COMMANDS_TOPIC]
    assert [v for _, v in msgs] == [[SQUEEZE_N]]  # sent once: the sink only gets commands
    assert has_effort([made['effort']]) and not has_effort([made['old']])
    cfg = default_policy_config()
    r = replay(made['effort'], sync_config_for(cfg), 'front')
    assert r.effort.t == [msgs[0][0]]
    np.testing.assert_allclose(r.effort.at(np.array([msgs[0][0] - 1, msgs[0][0] + 10**9]),
                                           np.array([20.0])), [[20.0], [SQUEEZE_N]])


def test_effort_recordings_give_8_dim_actions_old_ones_7(bags):
    import dataclasses
    made, _ = bags
    cfg = default_policy_config()
    old = bag_samples(made['old'], cfg)
    assert old.actions.shape[-1] == 7            # today's actions, unchanged
    cfg8 = dataclasses.replace(cfg, extra_actions=(C.GRIPPER_EFFORT_ACTION,))
    assert cfg8.action_names[-2:] == (C.DEFAULT_GRIPPER_JOINT, C.GRIPPER_EFFORT_ACTION)
    s = bag_samples(made['effort'], cfg8)
    assert s.actions.shape[-1] == 8
    np.testing.assert_array_equal(s.actions[..., :7], bag_samples(made['effort'], cfg).actions)
    effort = s.actions[..., 7]
    # the joint's full effort until the command, the commanded squeeze after it
    assert set(np.unique(effort).tolist()) == {C.DEFAULT_GRIPPER_MAX_EFFORT, SQUEEZE_N}
    assert effort[0, 0] == C.DEFAULT_GRIPPER_MAX_EFFORT and effort[-1, -1] == SQUEEZE_N
    # the chunk sees the squeeze coming: some chunk starts at full effort and ends squeezing
    assert np.any((effort[:, 0] == C.DEFAULT_GRIPPER_MAX_EFFORT) & (effort[:, -1] == SQUEEZE_N))
    # a recording without effort commands under an effort model: the full effort throughout
    assert bag_samples(made['old'], cfg8).actions[..., 7].tolist() == \
        np.full_like(old.actions[..., 0], C.DEFAULT_GRIPPER_MAX_EFFORT).tolist()


@pytest.mark.timeout(300)
def test_training_adds_the_effort_action_only_for_effort_recordings(bags, tmp_path):
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.model.train import train, TrainConfig
    made, _ = bags
    names = {}
    for kind in ('effort', 'old'):
        res = train(TrainConfig(data=(str(made[kind]),), out=str(tmp_path / kind), steps=2,
                                batch=4, work_dir=str(tmp_path / f'work_{kind}'),
                                checkpoint_every=0, policy=default_policy_config(d_model=32)),
                    log=lambda s: None, progress=False)
        m = load_bundle(res.bundle).manifest
        names[kind] = m
    m8, m7 = names['effort'], names['old']
    assert m8.action_names == (*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT,
                               C.GRIPPER_EFFORT_ACTION)
    assert m8.action_units == ('rad',) * 6 + ('m', C.GRIPPER_EFFORT_UNIT)
    assert len(m8.action_mean) == len(m8.action_std) == 8
    assert SQUEEZE_N < m8.action_mean[7] < C.DEFAULT_GRIPPER_MAX_EFFORT  # both in the data
    assert m7.action_names == (*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT)
    assert m7.action_units == ('rad',) * 6 + ('m',)


def test_lerobot_staging_carries_the_effort_both_ways(bags, tmp_path):
    """Bags -> staged LeRobot episodes (8 action columns) -> bags with effort commands again."""
    from vla_ros.lerobot_io.from_bags import stage_bags
    from vla_ros.lerobot_io.staging import read_episode
    from vla_ros.lerobot_io.to_bags import staging_to_bags
    made, _ = bags
    meta = stage_bags([made['effort'], made['old']], tmp_path / 'staged')
    assert meta.action_names[-1] == C.GRIPPER_EFFORT_ACTION and len(meta.action_names) == 8
    eff, old = (read_episode(tmp_path / 'staged', i)['action'] for i in (0, 1))
    assert eff.shape[1] == old.shape[1] == 8
    assert set(np.unique(eff[:, 7]).tolist()) == {C.DEFAULT_GRIPPER_MAX_EFFORT, SQUEEZE_N}
    assert np.all(old[:, 7] == C.DEFAULT_GRIPPER_MAX_EFFORT)   # a bag without commands
    assert len(stage_bags([made['old']], tmp_path / 'old').action_names) == 7   # as before
    back = staging_to_bags(tmp_path / 'staged', tmp_path / 'bags')
    assert has_effort([back[0]])
    stage_bags([back[0]], tmp_path / 'again')
    np.testing.assert_allclose(read_episode(tmp_path / 'again', 0)['action'], eff, atol=1e-6)
