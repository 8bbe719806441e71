"""
Launch files and Gazebo config, checked statically.

Launch and Gazebo are not installable here. Checked: executables exist, referenced files exist,
bridge topics equal the node defaults, generated files are up to date and well-formed, controllers
match the description.
"""

from __future__ import annotations

import ast
import pathlib
import xml.etree.ElementTree as ET

from helpers.params import flatten
import pytest
from vla_ros import constants as C
from vla_ros.cli import gazebo_files
from vla_ros.sim import gazebo
from vla_ros.sim.robot import ROBOT
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))
SIM_LAUNCH = [ROOT / 'launch' / n for n in ('mujoco.launch.py', 'gazebo.launch.py')]


def _console_scripts() -> set[str]:
    tree = ast.parse((ROOT / 'setup.py').read_text())
    for node in ast.walk(tree):
        target = getattr(node, 'targets', [None])[0]
        if isinstance(node, ast.Assign) and getattr(target, 'id', '') == 'CONSOLE_SCRIPTS':
            return {ast.literal_eval(e).split('=')[0].strip() for e in node.value.elts}
    raise AssertionError('no CONSOLE_SCRIPTS in setup.py')


def _node_calls(path: pathlib.Path) -> list[dict]:
    """Keyword literals of every ``Node(...)`` call in a launch file."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'Node':
            kw = {}
            for k in node.keywords:
                try:
                    kw[k.arg] = ast.literal_eval(k.value)
                except ValueError:
                    kw[k.arg] = None
            calls.append(kw)
    return calls


def _string_constants(path: pathlib.Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


@pytest.mark.parametrize('path', SIM_LAUNCH, ids=lambda p: p.name)
def test_launch_file_defines_generate_launch_description(path):
    tree = ast.parse(path.read_text())
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert 'generate_launch_description' in names
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {'launch', 'launch_ros.actions'} <= imports


@pytest.mark.parametrize('path', SIM_LAUNCH, ids=lambda p: p.name)
def test_every_vla_ros_executable_is_a_console_script(path):
    scripts = _console_scripts()
    ours = [c for c in _node_calls(path) if c.get('package') == 'vla_ros']
    assert ours, f'{path.name} starts no vla_ros node'
    for call in ours:
        assert call['executable'] in scripts, call


@pytest.mark.parametrize('path', SIM_LAUNCH, ids=lambda p: p.name)
def test_every_referenced_config_file_exists(path):
    refs = {s for s in _string_constants(path)
            if s.endswith(('.yaml', '.sdf', '.urdf')) and '/' not in s}
    assert refs, f'{path.name} references no config file'
    for name in refs:
        assert (ROOT / 'config' / name).is_file(), f'{path.name}: config/{name} missing'


def test_bridge_topics_equal_the_node_defaults():
    entries = yaml.safe_load((ROOT / 'config' / 'gz_bridge.yaml').read_text())
    by_topic = {e['ros_topic_name']: e for e in entries}
    for cam in C.DEFAULT_CAMERAS:
        e = by_topic[C.camera_topic(cam)]  # relative: in the bridge's namespace
        assert (e['ros_type_name'], e['gz_type_name']) == ('sensor_msgs/msg/Image',
                                                           'gz.msgs.Image')
        assert e['gz_topic_name'] == C.namespaced(C.camera_topic(cam))
    assert by_topic[C.CLOCK_TOPIC]['ros_type_name'] == 'rosgraph_msgs/msg/Clock'
    for pad in ROBOT.pads:
        e = by_topic[gazebo.ROS_TACTILE_TOPIC_FMT.format(pad=pad.name)]
        assert e['gz_topic_name'] == gazebo.GZ_TACTILE_TOPIC_FMT.format(pad=pad.name)
        assert e['ros_type_name'] == 'ros_gz_interfaces/msg/Contacts'
    for e in entries:
        # only the clock is global; everything else follows gazebo.launch.py's namespace
        assert e['ros_topic_name'].startswith('/') == (e['ros_topic_name'] == C.CLOCK_TOPIC)
        assert e['direction'] == 'GZ_TO_ROS'
        assert set(e) == {'ros_topic_name', 'gz_topic_name', 'ros_type_name', 'gz_type_name',
                          'direction'}
    # the gz sensors publish on the topics the bridge reads
    urdf = ET.parse(gazebo.URDF_PATH).getroot()
    world = ET.parse(gazebo.WORLD_PATH).getroot()
    sensor_topics = {s.findtext('topic') for r in (urdf, world) for s in r.iter('sensor')}
    assert {e['gz_topic_name'] for e in entries} - {'/clock'} == sensor_topics


def test_generated_gazebo_files_are_up_to_date_and_well_formed():
    for path, text in gazebo.generated_files().items():
        stale = f'{path.name} is stale: python -m vla_ros.cli.gazebo_files'
        assert path.read_text() == text, stale
        ET.fromstring(text.split('\n', 2)[2] if text.startswith('<?xml') else text)
    assert gazebo.stale_files() == []
    assert gazebo_files.main(['--check']) == 0
    world = ET.parse(gazebo.WORLD_PATH).getroot()
    models = {m.get('name') for m in world.iter('model')}
    assert {'table', 'red_cube', 'green_cube', 'blue_cube', 'front_camera'} <= models


def test_controllers_match_the_description():
    cfg = yaml.safe_load((ROOT / 'config' / 'gz_controllers.yaml').read_text())
    # /**/ sections: they match in any namespace (gazebo.launch.py namespace:=robot1)
    cm = cfg['/**/controller_manager']['ros__parameters']
    assert cm['arm_controller']['type'] == 'joint_trajectory_controller/JointTrajectoryController'
    assert tuple(cfg['/**/arm_controller']['ros__parameters']['joints']) == C.DEFAULT_ARM_JOINTS
    assert cfg['/**/gripper_controller']['ros__parameters']['joints'] == [
        C.DEFAULT_GRIPPER_JOINT]
    urdf = ET.parse(gazebo.URDF_PATH).getroot()
    commanded = [j.get('name') for j in urdf.find('ros2_control').findall('joint')
                 if j.find('command_interface') is not None]
    assert commanded == [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]
    plugin = urdf.find("gazebo/plugin[@filename='gz_ros2_control-system']")
    assert plugin.findtext('parameters') == gazebo.CONTROLLERS_PLACEHOLDER
    launch = (ROOT / 'launch' / 'gazebo.launch.py').read_text()
    assert gazebo.CONTROLLERS_PLACEHOLDER in launch and 'gz_controllers.yaml' in launch
    for name in ('joint_state_broadcaster', 'arm_controller', 'gripper_controller'):
        assert f"'{name}'" in launch


def test_sim_yaml_overrides_declared_parameters():
    cfg = yaml.safe_load((ROOT / 'config' / 'sim.yaml').read_text())
    assert cfg['/**']['ros__parameters']['use_sim_time'] is True
    from vla_ros.params import SIM_PARAMETERS
    declared = set(SIM_PARAMETERS)
    assert set(cfg) == {'/**', '/**/mujoco_sim', '/**/vla_policy'}  # any namespace
    for key in cfg['/**/mujoco_sim']['ros__parameters']:
        assert key in declared, f'sim.yaml sets undeclared parameter {key}'


def test_sim_yaml_policy_section_matches_the_robot():
    from vla_ros.params import POLICY_PARAMETERS, SYNC_PARAMETERS

    cfg = flatten(yaml.safe_load((ROOT / 'config' / 'sim.yaml').read_text())
                  ['/**/vla_policy']['ros__parameters'])
    sync_names = set(SYNC_PARAMETERS)
    for key in cfg:
        assert key in POLICY_PARAMETERS or key in sync_names, f'undeclared parameter {key}'
    names = cfg['limits.joints']
    assert names == [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]
    for i, name in enumerate(names):
        j = ROBOT.joint(name)
        assert cfg['limits.lower'][i] == pytest.approx(j.lower, abs=1e-5)
        assert cfg['limits.upper'][i] == pytest.approx(j.upper, abs=1e-5)
        assert cfg['limits.max_velocity'][i] <= j.velocity
    assert tuple(cfg['controller.joints']) == C.DEFAULT_ARM_JOINTS
    assert cfg['gripper.controller'] == 'gripper_controller'


def test_launch_arguments_are_not_shadowed_by_sim_yaml():
    """
    Check that no node section of config/sim.yaml sets a launch argument of mujoco.launch.py.

    The launch file passes its arguments as ``/**`` parameters after config/sim.yaml; a node
    section would beat them (ROS precedence).
    """
    cfg = yaml.safe_load((ROOT / 'config' / 'sim.yaml').read_text())
    tree = ast.parse((ROOT / 'launch' / 'mujoco.launch.py').read_text())
    checked = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'Node':
            kw = {k.arg: k.value for k in node.keywords}
            name = ast.literal_eval(kw['name'])
            section = flatten(cfg.get(f'/**/{name}', {}).get('ros__parameters') or {})
            for item in kw['parameters'].elts:
                if isinstance(item, ast.Dict):
                    for key in item.keys:
                        checked += 1
                        assert key.value not in section, (name, key.value)
    assert checked == 5  # seed, real_time_factor, speak_commands; bundle (policy, speech)


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_every_node_of_a_launch_file_gets_the_namespace_argument(path):
    """All topics are relative: a launch file's ``namespace`` must reach every node it starts."""
    tree = ast.parse(path.read_text())
    args = [ast.literal_eval(c.args[0]) for c in ast.walk(tree) if isinstance(c, ast.Call)
            and getattr(c.func, 'id', '') == 'DeclareLaunchArgument']
    assert 'namespace' in args, f'{path.name} declares no namespace argument'
    nodes = [c for c in ast.walk(tree) if isinstance(c, ast.Call)
             and getattr(c.func, 'id', '') == 'Node']
    assert nodes
    for call in nodes:
        ns = next((k.value for k in call.keywords if k.arg == 'namespace'), None)
        assert ns is not None and ast.unparse(ns) in (
            "LaunchConfiguration('namespace')", 'namespace'), \
            f'{path.name}:{call.lineno}: Node without namespace=LaunchConfiguration(...)'


def test_mujoco_launch_takes_the_bundles_recorded_sensors(tmp_path):
    """mujoco.launch.py = demo/eval: provenance.recorded_with over sim.yaml, then arguments."""
    from vla_ros.harness.sim_config import bundle_provenance, bundle_sim_params, launch_sim_params
    text = (ROOT / 'launch' / 'mujoco.launch.py').read_text()
    assert "launch_sim_params(LaunchConfiguration('bundle').perform(context)" in text
    bundle = ROOT / 'models' / 'default'
    recorded = bundle_provenance(bundle)['recorded_with']
    params = launch_sim_params(bundle)
    assert params.overrides == bundle_sim_params(bundle_provenance(bundle)).overrides  # = eval
    assert (params.values()['image_width'], params.values()['camera_rate_hz']) == (
        recorded['image_width'], recorded['camera_rate_hz']) == (96, 10.0)
    given = launch_sim_params(bundle, sensors={'image_width': 160, 'image_height': '',
                                               'camera_rate_hz': 15.0}).values()
    assert (given['image_width'], given['image_height'], given['camera_rate_hz']) == \
        (160, 96, 15.0)
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'bundle.yaml').write_text('format_version: 1\nprovenance: {}\n')
    assert launch_sim_params(foreign).overrides == {}  # no recorded_with: config/sim.yaml


@pytest.mark.ros
def test_recorded_sensor_file_beats_sim_yaml_in_a_namespace(tmp_path):
    """The second params file mujoco.launch.py writes wins in any namespace (real rclpy)."""
    import rclpy
    from vla_ros.harness.sim_config import launch_sim_params

    params = launch_sim_params(ROOT / 'models' / 'default')
    extra = params.write_overrides(tmp_path)
    for ns in ('/', '/robot1'):
        ctx = rclpy.Context()
        rclpy.init(context=ctx, args=['--ros-args', '--params-file', str(ROOT / 'config/sim.yaml'),
                                      '--params-file', str(extra), '-r', f'__ns:={ns}'])
        try:
            node = rclpy.create_node('mujoco_sim', context=ctx,
                                     automatically_declare_parameters_from_overrides=True)
            got = {k: node.get_parameter(k).value
                   for k in ('image_width', 'image_height', 'camera_rate_hz', 'use_sim_time')}
            node.destroy_node()
        finally:
            rclpy.try_shutdown(context=ctx)
        assert got == {'image_width': 96, 'image_height': 96, 'camera_rate_hz': 10.0,
                       'use_sim_time': True}, ns
