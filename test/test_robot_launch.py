"""
robot.launch.py and the robot configs, checked statically and by running them.

Statically because launch is not installable here; and by starting the same executables with
the same params files.
"""

from __future__ import annotations

import ast
import pathlib
import time

from helpers.params import flatten
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAUNCH = ROOT / 'launch/robot.launch.py'
CONFIGS = ('robot_example.yaml', 'mobile_base_example.yaml')
REQUIRED_ARGS = {'bundle', 'robot_config', 'dry_run', 'namespace', 'use_sim_time'}


def _console_scripts() -> set[str]:
    tree = ast.parse((ROOT / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == \
                'CONSOLE_SCRIPTS':
            return {ast.literal_eval(e).split('=')[0].strip() for e in node.value.elts}
    raise AssertionError('no CONSOLE_SCRIPTS')


def _calls(tree, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and
            getattr(n.func, 'id', getattr(n.func, 'attr', None)) == name]


def _kw(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _declared_policy_parameters() -> set[str]:
    from vla_ros.params import POLICY_PARAMETERS, SYNC_PARAMETERS
    return set(POLICY_PARAMETERS) | set(SYNC_PARAMETERS) | {'use_sim_time'}


def test_launch_arguments_are_all_described():
    tree = ast.parse(LAUNCH.read_text())
    args = {}
    for call in _calls(tree, 'DeclareLaunchArgument'):
        desc = _kw(call, 'description')
        args[ast.literal_eval(call.args[0])] = desc
        assert desc is not None and len(ast.unparse(desc)) > 15, call.args[0].value
    assert REQUIRED_ARGS <= set(args)
    dry = next(c for c in _calls(tree, 'DeclareLaunchArgument')
               if ast.literal_eval(c.args[0]) == 'dry_run')
    assert ast.literal_eval(_kw(dry, 'default_value')) == 'true'


def test_launch_nodes_are_console_scripts_with_declared_parameters():
    tree = ast.parse(LAUNCH.read_text())
    nodes = _calls(tree, 'Node')
    assert nodes
    declared = _declared_policy_parameters()
    for node in nodes:
        assert ast.literal_eval(_kw(node, 'package')) == 'vla_ros'
        exe = ast.literal_eval(_kw(node, 'executable'))
        assert exe in _console_scripts(), exe
        for item in _kw(node, 'parameters').elts:
            if isinstance(item, ast.Dict):
                keys = {ast.literal_eval(k) for k in item.keys}
                assert keys <= declared, keys - declared


def test_launch_params_files_exist():
    tree = ast.parse(LAUNCH.read_text())
    paths = []
    for call in _calls(tree, 'PathJoinSubstitution'):
        parts = call.args[0].elts
        assert ast.unparse(parts[0]) == "FindPackageShare('vla_ros')"
        paths.append(ROOT.joinpath(*(ast.literal_eval(p) for p in parts[1:])))
    assert paths and all(p.exists() for p in paths), paths


@pytest.mark.parametrize('name', CONFIGS)
def test_robot_configs_set_only_declared_parameters(name):
    data = yaml.safe_load((ROOT / 'config' / name).read_text())
    assert set(data) == {'/**/vla_policy'}
    params = flatten(data['/**/vla_policy']['ros__parameters'])
    unknown = set(params) - _declared_policy_parameters()
    assert not unknown, unknown
    assert params['dry_run'] is True
    if 'limits.joints' in params:
        for key in ('lower', 'upper', 'max_velocity', 'max_acceleration'):
            if f'limits.{key}' in params:
                assert len(params[f'limits.{key}']) == len(params['limits.joints'])


def test_robot_example_matches_default_joint_names():
    from vla_ros import constants as C
    p = flatten(yaml.safe_load((ROOT / 'config/robot_example.yaml').read_text())[
        '/**/vla_policy']['ros__parameters'])
    assert tuple(p['controller.joints']) == C.DEFAULT_ARM_JOINTS
    assert p['gripper.action'] == C.DEFAULT_GRIPPER_JOINT
    assert p['controller.kind'] == 'joint_trajectory'


@pytest.fixture
def bundle(tmp_path):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path / 'bundle', cameras=('front',))


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(90)
def test_robot_example_graph_runs_dry(tmp_path, bundle, rclpy_init):
    """The launch graph as processes: robot_example.yaml, dry_run from the file (true)."""
    from helpers.policy_graph import Listener
    from vla_ros.harness.procs import NodeProcess, ros_args, wait_until

    lis = Listener(rclpy_init)
    sensors = NodeProcess('fake_sensors', ros_args(params={
        'image_width': 64, 'image_height': 64}), log_path=tmp_path / 'fs.log')
    policy = NodeProcess('vla_policy', ros_args(
        [ROOT / 'config/robot_example.yaml'], {'bundle': str(bundle), 'autostart': True}),
        log_path=tmp_path / 'vp.log')
    with sensors, policy:
        try:
            assert lis.wait_state('idle', 30.0), policy.log_tail()
            lis.command('pick up the red cube')
            assert wait_until(lambda: len(lis.chunks) >= 3, 10.0), policy.log_tail()
            time.sleep(0.3)
            assert not lis.traj and not lis.gripper
            assert lis.last_status().dry_run
        finally:
            lis.close()


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(90)
def test_mobile_base_config_refuses_an_arm_bundle(tmp_path, bundle):
    from vla_ros.harness.procs import NodeProcess, ros_args, wait_until

    policy = NodeProcess('vla_policy', ros_args(
        [ROOT / 'config/mobile_base_example.yaml'], {'bundle': str(bundle),
                                                     'autostart': True}),
        log_path=tmp_path / 'vp.log')
    with policy:
        assert wait_until(lambda: 'configure failed' in policy.log_tail(), 30.0), \
            policy.log_tail()
        log = policy.log_tail()
        assert 'twist adapter needs a velocity action kind' in log
        assert policy.alive()  # stays up, unconfigured, commanding nothing
