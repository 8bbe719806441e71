"""The ROS-free world: seeded resets, control, tactile pads, predicates, IK, audio."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from vla_ros.errors import ConfigError
from vla_ros.sim.audio import MicrophoneSynth
from vla_ros.sim.gz_contacts import contacts_to_taxels
from vla_ros.sim.ik import grasp_yaw, IkSolver, joint_path, top_down_rotation
from vla_ros.sim.tasks import TaskState
from vla_ros.sim.trajectory import TrajectoryFollower
from vla_ros.sim.world import SimWorld, WorldConfig

DT = 0.02


@pytest.fixture(scope='module')
def world():
    w = SimWorld(WorldConfig(image_width=48, image_height=48), seed=0)
    yield w
    w.close()


def _move(w: SimWorld, q1: np.ndarray, duration: float) -> None:
    for q in joint_path(w.arm_command, q1, duration, DT):
        w.set_arm_command(q)
        w.step(int(round(DT / w.model.opt.timestep)))


def test_reset_with_seed_is_reproducible(world):
    world.reset(5)
    world.step(50)
    a = world.object_positions()
    img_a = world.render('front')
    world.reset(6)
    b = world.object_positions()
    world.reset(5)
    world.step(50)
    c = world.object_positions()
    for k in a:
        np.testing.assert_array_equal(a[k], c[k])
    assert any(np.linalg.norm(a[k] - b[k]) > 0.01 for k in a)
    np.testing.assert_array_equal(img_a, world.render('front'))
    assert world.time == pytest.approx(50 * world.model.opt.timestep)
    positions = list(world.sample_object_positions(5).values())
    for i in range(len(positions)):
        for j in range(i + 1, len(positions)):
            assert math.dist(positions[i][:2], positions[j][:2]) >= world.config.min_separation


def test_forward_position_command_moves_the_joints(world):
    world.reset(0)
    target = world.home + np.array([0.4, -0.2, 0.2, 0.1, 0.3, -0.5])
    world.set_arm_command(target)
    world.set_gripper_command(0.01)
    world.step(750)
    _, q, v = world.joint_state()
    np.testing.assert_allclose(q[:6], target, atol=0.02)
    assert q[6] == pytest.approx(0.01, abs=0.002)
    assert np.all(np.abs(v) < 0.05)
    with pytest.raises(ConfigError, match='6 finite'):
        world.set_arm_command(np.full(6, np.nan))


def test_gripper_effort_limits_both_finger_servos_until_a_reset(world):
    from vla_ros import constants as C
    from vla_ros.sim.robot import ROBOT

    full = ROBOT.joint(C.DEFAULT_GRIPPER_JOINT).effort
    assert full == C.DEFAULT_GRIPPER_MAX_EFFORT   # what datasets assume before a command
    world.reset(0)
    acts = world.gripper_actuators
    assert len(acts) == 2 and min(acts) >= 0      # both fingers' position servos
    world.set_gripper_effort(2.5)
    np.testing.assert_allclose(world.model.actuator_forcerange[acts], [[-2.5, 2.5]] * 2)
    world.set_gripper_effort(99.0)                # clipped to the joint's effort
    assert world.gripper_effort == full
    world.set_gripper_effort(1.0)
    world.reset(0)
    np.testing.assert_allclose(world.model.actuator_forcerange[acts], [[-full, full]] * 2)
    with pytest.raises(ConfigError, match='finite'):
        world.set_gripper_effort(float('nan'))


def test_cameras_render_rgb_images(world):
    for cam in ('front', 'wrist'):
        img = world.render(cam)
        assert img.shape == (48, 48, 3) and img.dtype == np.uint8
        assert img.std() > 5, f'{cam} image is flat'


@pytest.mark.parametrize('colour', ['red', 'blue'])
def test_ik_grasp_presses_pads_and_lifts_the_cube(world, colour):
    world.reset(3)
    obj = f'{colour}_cube'
    ik = IkSolver(world.model)
    p = world.object_positions()[obj]
    rot = top_down_rotation(grasp_yaw(world.object_yaw(obj), math.atan2(p[1], p[0])))
    above = ik.solve(p + [0, 0, 0.1], rot, world.arm_command)
    at = ik.solve(p, rot, above.q)
    assert above.converged and at.converged, (above, at)
    _move(world, above.q, 1.2)
    tcp, _ = world.tcp_pose()
    assert np.linalg.norm(tcp - (p + [0, 0, 0.1])) < 0.01   # the arm reaches above the cube
    assert world.tactile().sum() == 0.0
    _move(world, at.q, 0.8)
    world.set_gripper_command(0.0)
    world.step(300)
    pads = world.tactile().reshape(2, 16)
    assert np.all(pads.sum(axis=1) > 1.0), pads   # both pads pressed
    assert (pads > 0).sum() >= 8                   # spread over many taxels
    state = world.task_state()
    assert state.predicates[f'{obj}_touched'] and state.predicates[f'{obj}_grasped']
    assert not state.predicates[f'{obj}_lifted']
    _move(world, above.q, 0.8)
    world.step(100)
    state = TaskState.from_json(world.task_state().to_json())
    assert state.predicates[f'{obj}_lifted'] and state.predicates['any_cube_lifted']
    others = [o for o in world.objects if o != obj]
    assert not any(state.predicates[f'{o}_lifted'] for o in others)


def test_push_predicate_and_home(world):
    world.reset(1)
    st = world.task_state()
    assert st.predicates['arm_at_home'] and st.predicates['gripper_open']
    obj = 'green_cube'
    a = world.obj_qadr[obj]
    world.data.qpos[a + 1] += 0.08   # move it left (+y) by hand
    world.step(5)
    p = world.task_state().predicates
    assert p[f'{obj}_pushed_left'] and not p[f'{obj}_pushed_right']


def test_trajectory_follower_interpolates_like_jtc():
    f = TrajectoryFollower(np.zeros(2))
    f.set_trajectory(start=1.0, now=1.0, times=np.array([1.0, 2.0]),
                     positions=np.array([[1.0, 2.0], [3.0, 2.0]]),
                     mask=np.array([True, False]))
    np.testing.assert_allclose(f.sample(1.0), [0, 0])
    np.testing.assert_allclose(f.sample(1.5), [0.5, 0])   # joint 1 not commanded: holds
    np.testing.assert_allclose(f.sample(2.5), [2.0, 0])
    np.testing.assert_allclose(f.sample(9.0), [3.0, 0])
    assert f.done(3.0) and not f.done(2.9)
    with pytest.raises(ConfigError, match='increasing'):
        f.set_trajectory(0.0, 0.0, np.array([1.0, 0.5]), np.zeros((2, 2)))


def test_microphone_hum_click_and_beep():
    mic = MicrophoneSynth(seed=0)
    quiet = mic.synthesize(320, 0.0, 0.0)
    hum = mic.synthesize(320, 2.0, 0.0)
    assert np.sqrt(np.mean(hum**2)) > 5 * np.sqrt(np.mean(quiet**2))
    click = mic.synthesize(320, 0.0, 5.0)        # contact onset
    assert np.abs(click[:100]).max() > 0.1
    assert np.abs(mic.synthesize(320, 0.0, 5.0)).max() < 0.05   # held contact: no new click
    mic.beep()
    beep = np.concatenate([mic.synthesize(320, 0.0, 0.0) for _ in range(20)])
    spec = np.abs(np.fft.rfft(beep[:4000]))
    assert np.argmax(spec) * 16000 / 4000 == pytest.approx(1000, abs=8)


def test_gz_contacts_map_to_taxels():
    vec = types.SimpleNamespace
    wrench = vec(body_1_wrench=vec(force=vec(x=0.0, y=3.0, z=4.0)),
                 body_2_wrench=vec(force=vec(x=0.0, y=0.0, z=0.0)))
    contact = vec(collision1=vec(name='vla_arm::left_finger_link::left_finger_taxel_1_2'),
                  collision2=vec(name='red_cube::link::collision'), wrenches=[wrench, wrench])
    values = contacts_to_taxels(vec(contacts=[contact]), 'left_finger')
    assert values[1 * 4 + 2] == pytest.approx(10.0) and values.sum() == pytest.approx(10.0)
    assert contacts_to_taxels(vec(contacts=[contact]), 'right_finger').sum() == 0
