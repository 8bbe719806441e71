"""The touch task: hidden cube physics, the effort-limited grip, slip feeling, the judge."""

import dataclasses

import numpy as np
import pytest
from vla_ros.errors import ConfigError
from vla_ros.sim import gentle_grip as G
from vla_ros.sim.cube_physics import (CRUSH_MARGIN, cube_props, FIXED_CRUSH_N, FRICTION,
                                      MASS_KG, SIZE_M, VARIED_MAX_YAW)
from vla_ros.sim.expert import ScriptedExpert
from vla_ros.sim.ik import IkSolver
from vla_ros.sim.lockstep import run_expert_episode
from vla_ros.sim.task_suite import block_seed, make_task, SuccessMonitor
from vla_ros.sim.tasks import TaskState
from vla_ros.sim.world import SimWorld, WorldConfig


@pytest.fixture(scope='module')
def varied():
    w = SimWorld(WorldConfig(image_width=32, image_height=32, cube_physics='varied'), seed=0)
    yield w
    w.close()


def test_cube_props_fixed_and_varied():
    fixed = cube_props('fixed', 5, 'red_cube')
    assert (fixed.mass_kg, fixed.size_m, fixed.crush_n) == (0.05, 0.04, FIXED_CRUSH_N)
    draws = [cube_props('varied', s, 'red_cube') for s in range(200)]
    assert draws[3] == cube_props('varied', 3, 'red_cube')          # seeded
    assert draws[3] != cube_props('varied', 3, 'blue_cube')         # per cube
    for p in draws:
        assert MASS_KG[0] <= p.mass_kg <= MASS_KG[1] and FRICTION[0] <= p.friction <= FRICTION[1]
        assert SIZE_M[0] <= p.size_m <= SIZE_M[1]
        assert p.crush_n == pytest.approx(CRUSH_MARGIN * p.mass_kg * 9.81 / p.friction)
    needs = [p.grip_needed_n for p in draws]
    assert max(needs) / min(needs) > 6      # no single squeeze fits them all
    with pytest.raises(ConfigError, match='cube_physics'):
        cube_props('heavy', 0, 'red_cube')
    with pytest.raises(ConfigError):
        WorldConfig(cube_physics='heavy')


def test_varied_reset_applies_props_and_keeps_the_home_state(varied):
    varied.reset(7)
    st = varied.task_state()
    assert st.predicates['arm_at_home'] and st.predicates['gripper_open']
    for obj in varied.objects:
        p = varied.cube_props[obj]
        g = varied.obj_geom[obj]
        assert varied.model.geom_size[g][0] == pytest.approx(p.size_m / 2)
        assert varied.model.body_mass[varied.obj_body[obj]] == pytest.approx(p.mass_kg)
        assert st.objects[obj]['position'][2] == pytest.approx(0.4 + p.size_m / 2, abs=1e-3)
        assert abs(varied.object_yaw(obj)) <= VARIED_MAX_YAW + 1e-6
        assert st.objects[obj]['crush_n'] == pytest.approx(p.crush_n, abs=1e-3)
    assert st.pad_force_peak == 0.0
    assert TaskState.from_json(st.to_json()).pad_force_peak == 0.0


def test_effort_limits_both_fingers_and_reset_restores_it(varied):
    varied.set_gripper_effort(1.5)
    assert np.allclose(varied.model.actuator_forcerange[varied.gripper_actuators], [-1.5, 1.5])
    varied.set_gripper_effort(99.0)
    assert varied.gripper_effort == varied.gripper_max_effort
    varied.set_gripper_effort(1.0)
    varied.reset(8)
    assert varied.gripper_effort == varied.gripper_max_effort
    with pytest.raises(ConfigError):
        varied.set_gripper_effort(float('nan'))


def _taxels(left_rows, right_rows) -> np.ndarray:
    return np.repeat(np.array([left_rows, right_rows], float)[:, :, None] / 4, 4, axis=2).ravel()


def test_slip_sense_tells_a_slide_from_a_turn():
    s = G.SlipSense()
    s.reference(_taxels([1, 1, 1, 1], [1, 1, 1, 1]))
    assert not s.slipped(_taxels([1, 1, 1, 1], [1.1, 1, 1, 0.9]))       # holding
    assert s.slipped(_taxels([1, 1, 1, 0], [1.2, 1, 1, 0]))             # both slid up
    assert not s.slipped(_taxels([0, 0.4, 0.8, 1.2], [1.2, 0.8, 0.4, 0]))  # the cube turned
    assert s.slipped(_taxels([0, 0, 0, 0], [0, 0, 0, 0]))               # it fell out
    assert G.both_pads_touch(_taxels([0.1] * 4, [0.1] * 4), 0.4)
    assert not G.both_pads_touch(_taxels([0.1] * 4, [0, 0, 0, 0]), 0.4)
    assert G.tighter(1.0) == pytest.approx(G.EFFORT_GAIN) and G.tighter(100) == G.EFFORT_MAX_N


class _Blind(ScriptedExpert):
    """The expert with a fixed max effort that never feels a slip."""

    effort_n = 1.0

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.slip.slipped = lambda taxels: False
        self.effort = self.effort_n


def _play(world, seed, cls=ScriptedExpert, effort=None):
    ik = IkSolver(world.model)
    task = make_task('gentle', seed)
    ex = cls(task, ik, world.home, 0.1)
    if effort is not None:
        ex.effort = effort
    out = run_expert_episode(world, task, seed, ik=ik, settle_s=0.0, expert=ex)
    return out, world.cube_props[task.obj]


def test_the_expert_feels_the_weight_and_a_fixed_squeeze_fails(varied):
    seeds = [block_seed('dev', 17_000 + i) for i in range(4)]
    for s in seeds:
        out, props = _play(varied, s)
        assert out.success, (s, out.reason, props)
        assert out.monitor.peak_force < props.crush_n
    # a squeeze just under the heaviest of those cubes' need drops it; twice the lightest's
    # crush limit breaks that one
    heavy = max(seeds, key=lambda s: _play(varied, s)[1].grip_needed_n)
    need = _play(varied, heavy)[1].grip_needed_n
    out, _ = _play(varied, heavy, _Blind, effort=0.4 * need)
    assert not out.success and 'crush' not in out.reason
    light = min(seeds, key=lambda s: _play(varied, s)[1].grip_needed_n)
    crush = _play(varied, light)[1].crush_n
    out, _ = _play(varied, light, _Blind, effort=crush)
    assert not out.success and 'squeezed too hard' in out.reason


def test_the_judge_uses_the_cubes_own_limit():
    task = make_task('gentle', 1)
    obj = task.obj
    base = {'seed': 1, 'episode': 1, 'predicates': {f'{obj}_lifted': True},
            'tcp_position': [0, 0, 0], 'gripper_opening': 0.02,
            'pad_force': {'left_finger': 0.5, 'right_finger': 0.5}}
    objects = {obj: {'position': [0.4, 0, 0.5], 'initial_position': [0.4, 0, 0.42],
                     'yaw': 0.0, 'crush_n': 2.0}}
    ok = SuccessMonitor(task, 1)
    assert ok.update(TaskState(sim_time=1.0, objects=objects, pad_force_peak=1.9, **base))
    assert ok.success
    bad = SuccessMonitor(task, 1)
    assert bad.update(TaskState(sim_time=1.0, objects=objects, pad_force_peak=2.1, **base))
    assert not bad.success and '2.1 N > 2.0 N' in bad.reason
    fixed = SuccessMonitor(task, 1)   # no peak in the state (fixed cubes): the pads' sum
    objects[obj].pop('crush_n')
    assert fixed.update(TaskState(sim_time=1.0, objects=objects, **base)) and fixed.success
    assert dataclasses.fields(TaskState)[-1].name == 'pad_force_peak'
