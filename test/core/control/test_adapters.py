"""Controller adapters: mapping by name, command shapes per adapter, hold per adapter."""

from types import SimpleNamespace

import numpy as np
import pytest
from vla_ros.core.control.adapters import (ActionMapping, AdapterConfig, AdapterKind, make_command,
                                           positions_for, to_command_space)
from vla_ros.core.control.bundle_fit import check_bundle
from vla_ros.core.control.config import (classify_command, CommandAction, parse_joint_limits,
                                         PolicyConfig)
from vla_ros.core.control.safety import ControlMode, SafetyConfig, SafetyFilter
from vla_ros.errors import ConfigError

BUNDLE = ('elbow', 'shoulder', 'gripper_joint')


def test_joint_order_is_mapped_by_name():
    cfg = AdapterConfig(joints=('shoulder', 'elbow'), gripper_controller='gripper_controller')
    m = ActionMapping(BUNDLE, cfg)
    cmd = make_command(m, np.array([1.0, 2.0, 0.04]), period_s=0.02)
    assert cmd.names == ('shoulder', 'elbow')
    np.testing.assert_allclose(cmd.points, [[2.0, 1.0]])
    assert cmd.gripper == pytest.approx(0.04)
    assert cmd.times_s.tolist() == [0.02]
    # relative: resolved in the node's namespace (/robot1/arm_controller/... in /robot1)
    assert cfg.topic == 'arm_controller/joint_trajectory'
    assert cfg.gripper_topic == 'gripper_controller/commands'


def test_chunk_trajectory_has_increasing_times():
    cfg = AdapterConfig(joints=('shoulder', 'elbow'), trajectory_mode='chunk')
    m = ActionMapping(BUNDLE, cfg)
    fut = np.arange(9, dtype=float).reshape(3, 3)
    cmd = make_command(m, np.zeros(3), period_s=0.02, future=fut, dt_s=0.05)
    assert cmd.points.shape == (4, 2)
    np.testing.assert_allclose(cmd.times_s, [0.02, 0.07, 0.12, 0.17])
    np.testing.assert_allclose(cmd.points[1], [1.0, 0.0])
    hold = make_command(m, np.zeros(3), period_s=0.02, future=fut, dt_s=0.05, hold=True)
    assert hold.points.shape == (1, 2) and hold.hold


def test_forward_command_topic_and_twist_fields():
    fwd = AdapterConfig(kind='forward_command', joints=('elbow',))
    assert fwd.topic == 'arm_controller/commands'
    absolute = AdapterConfig(kind='forward_command', joints=('elbow',), controller='/arm/ctl')
    assert absolute.topic == '/arm/ctl/commands'  # an absolute name given by a user stays
    tw = AdapterConfig(kind='twist')
    m = ActionMapping(('linear.x', 'angular.z'), tw)
    cmd = make_command(m, np.array([0.3, -0.2]), period_s=0.02)
    assert cmd.twist() == ([0.3, 0.0, 0.0], [0.0, 0.0, -0.2])
    assert tw.topic == 'cmd_vel'


def test_missing_joints_are_named():
    with pytest.raises(ConfigError, match="'wrist'"):
        ActionMapping(BUNDLE, AdapterConfig(joints=('shoulder', 'wrist')))
    with pytest.raises(ConfigError, match='gripper'):
        ActionMapping(BUNDLE, AdapterConfig(joints=('elbow',), gripper_controller='g',
                                            gripper_action='claw'))
    with pytest.raises(ConfigError, match='bogus'):
        AdapterConfig(kind='bogus', joints=('a',))
    with pytest.raises(ConfigError, match='joint list'):
        AdapterConfig(kind='forward_command')


def test_control_mode_by_action_kind():
    jt = AdapterConfig(joints=('a',))
    assert jt.control_mode('absolute_joint_position') is ControlMode.POSITION
    with pytest.raises(ConfigError, match='position actions'):
        jt.control_mode('joint_velocity')
    assert AdapterConfig(kind='twist').control_mode('ee_twist') is ControlMode.VELOCITY
    with pytest.raises(ConfigError, match='velocity action'):
        AdapterConfig(kind='twist').control_mode('absolute_joint_position')


@pytest.mark.parametrize('kind,mode,expected', [
    ('joint_trajectory', 'position', [0.5, 0.7]),   # hold = measured position
    ('forward_command', 'position', [0.5, 0.7]),
    ('forward_command', 'velocity', [0.0, 0.0]),    # hold = zero velocity
    ('twist', 'velocity', [0.0, 0.0]),
])
def test_hold_per_adapter(kind, mode, expected):
    names = ('linear.x', 'angular.z') if kind == 'twist' else ('a', 'b')
    cfg = AdapterConfig(kind=kind, joints=() if kind == 'twist' else names)
    f = SafetyFilter(SafetyConfig(names=names, mode=mode))
    f.estop()
    d = f.step(np.ones(2), now_ns=1, current=np.array([0.5, 0.7]), frame_stamp_ns=1)
    cmd = make_command(ActionMapping(names, cfg), d.command, period_s=0.02, hold=d.hold)
    assert cmd.hold and cmd.kind is AdapterKind(kind)
    np.testing.assert_allclose(cmd.points[0], expected)


def test_delta_actions_become_absolute_by_name():
    out = to_command_space(np.ones((2, 2)), 'delta_joint_position', ('b', 'a'),
                           ('a', 'b'), np.array([10.0, 20.0]))
    np.testing.assert_allclose(out, [[21.0, 11.0], [21.0, 11.0]])
    same = to_command_space(np.ones((2, 2)), 'absolute_joint_position', ('a', 'b'), (), None)
    np.testing.assert_allclose(same, 1.0)
    with pytest.raises(ConfigError, match="'c'"):
        to_command_space(np.ones((1, 1)), 'delta_joint_position', ('c',), ('a',), np.zeros(1))
    assert positions_for(('b', 'g'), ('a', 'b', 'gj'), np.array([1.0, 2.0, 3.0]),
                         {'g': 'gj'}).tolist() == [2.0, 3.0]
    assert positions_for(('x',), ('a',), np.zeros(1)) is None


@pytest.mark.parametrize('text,action', [
    ('pick up the red cube', CommandAction.RUN), ('  pick   up ', CommandAction.RUN),
    ('', CommandAction.STOP), ('Stop', CommandAction.STOP), ('stop.', CommandAction.STOP),
    ('go\x07', CommandAction.REJECT), ('x' * 201, CommandAction.REJECT),
])
def test_classify_command(text, action):
    got, detail = classify_command(text, 200)
    assert got is action
    if action is CommandAction.REJECT:
        assert detail.startswith('command rejected')
    if text == '  pick   up ':
        assert detail == 'pick up'


def test_policy_config_validation_and_bundle_check():
    with pytest.raises(ConfigError, match='-5'):
        PolicyConfig(control_rate_hz=-5)
    with pytest.raises(ConfigError, match='max_command_chars'):
        PolicyConfig(max_command_chars=0)
    assert PolicyConfig(control_rate_hz=50).period_s(0.1) == pytest.approx(0.02)
    assert PolicyConfig().period_s(0.1) == pytest.approx(0.1)
    limits = parse_joint_limits(['a', 'b'], {'lower': [-1, -2], 'upper': [], })
    assert limits == {'a': {'lower': -1.0}, 'b': {'lower': -2.0}}
    with pytest.raises(ConfigError, match='2 values'):
        parse_joint_limits(['a', 'b'], {'lower': [1.0]})
    manifest = SimpleNamespace(action_kind='joint_velocity', action_names=('a', 'b'),
                               cameras=('front', 'top'), joint_names=('a', 'z'), horizon=4)
    cfg = PolicyConfig(adapter=AdapterConfig(joints=('a', 'c')))
    problems = check_bundle(manifest, cfg, cameras=('front',), joint_names=('a', 'b'))
    text = '\n'.join(problems)
    assert len(problems) == 4
    assert "'c'" in text and "'top'" in text and "'z'" in text and 'position' in text
