"""
Every topic and service a vla_ros node creates is relative: in a namespace it lands there.

Each node is built in-process in namespace ``/ns_check`` and every publisher, subscription,
service and client it made is listed (their resolved names). Only the documented global
names may be outside it: ``/clock``, ``/diagnostics`` (vla_ros/constants.py) and ROS's own
``/rosout`` and ``/parameter_events``. A source scan covers what cannot be built here
(gz_tactile needs ros_gz_interfaces).
"""

from __future__ import annotations

import ast
import pathlib

import pytest
from vla_ros import constants as C

pytestmark = [pytest.mark.ros]
ROOT = pathlib.Path(__file__).resolve().parents[2]
NS = '/ns_check'
GLOBAL = {*C.GLOBAL_TOPICS, '/rosout', '/parameter_events'}
CREATE = {'create_publisher': 1, 'create_subscription': 1, 'create_service': 1,
          'create_client': 1}


def _names(node) -> list[tuple[str, str]]:
    """(kind, resolved name) of everything ``node`` created."""
    return ([('publisher', p.topic_name) for p in node.publishers]
            + [('subscription', s.topic_name) for s in node.subscriptions]
            + [('service', s.service_name) for s in node.services]
            + [('client', c.service_name) for c in node.clients])


def _outside(node) -> list[tuple[str, str]]:
    names = _names(node)
    assert names, f'{node.get_name()} created nothing'
    return [(k, n) for k, n in names if not n.startswith(NS + '/') and n not in GLOBAL]


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('bundle'), cameras=('front',))


def _params(values: dict):
    from rclpy.parameter import Parameter
    return [Parameter(k, value=v) for k, v in values.items()]


def test_sensor_sim_and_sync_nodes_use_relative_names(rclpy_init):
    from vla_ros.nodes.fake_sensors import FakeSensors
    from vla_ros.nodes.mujoco_sim import MujocoSim
    from vla_ros.nodes.multimodal_sync import MultimodalSync
    from vla_ros.nodes.sim_microphone import SimMicrophone
    from vla_ros.nodes.speech_command import SpeechCommand

    makers = [
        lambda: FakeSensors(namespace=NS, parameter_overrides=_params(
            {'image_width': 16, 'image_height': 16})),
        lambda: MultimodalSync(namespace=NS),
        lambda: SimMicrophone(namespace=NS),
        lambda: SpeechCommand(namespace=NS, parameter_overrides=_params(
            {'phrases': ['pick up the red cube']})),
        lambda: MujocoSim(namespace=NS, parameter_overrides=_params(
            {'image_width': 32, 'image_height': 32, 'speak_commands': True,
             'use_sim_time': True})),
    ]
    seen = set()
    for make in makers:
        node = make()
        try:
            assert not _outside(node), (node.get_name(), _outside(node))
            seen |= {n for _, n in _names(node)}
        finally:
            node.destroy_node()
    for topic in ('camera/front/image_raw', 'audio/chunk', 'tactile/array', 'joint_states',
                  'vla/command', 'arm_controller/joint_trajectory', 'arm_controller/commands',
                  'gripper_controller/commands', 'sim/task_state', 'sim/reset_seed',
                  'sim/sound', 'sim/reset'):
        assert f'{NS}/{topic}' in seen, topic
    assert '/clock' in seen  # the simulator's clock stays global


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_policy_and_inference_nodes_use_relative_names(rclpy_init, bundle):
    from rclpy.lifecycle import TransitionCallbackReturn
    from vla_ros.nodes.vla_inference import VlaInference
    from vla_ros.nodes.vla_policy import VlaPolicy

    policy = {'bundle': str(bundle), 'dry_run': False, 'cameras': ['front'],
              'required_cameras': ['front'], 'gripper.controller': 'gripper_controller',
              'debug_image': True}
    node = VlaPolicy(namespace=NS, parameter_overrides=_params(policy))
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        names = {n for _, n in _names(node)}
        assert not _outside(node), _outside(node)
        for topic in ('vla/command', 'vla/estop', 'camera/front/image_raw', 'joint_states',
                      'arm_controller/joint_trajectory', 'gripper_controller/commands',
                      'vla_policy/status', 'vla_policy/action_chunk'):
            assert f'{NS}/{topic}' in names, topic
    finally:
        node.destroy_node()
    server = VlaInference(namespace=NS, parameter_overrides=_params(
        {'bundle': str(bundle), 'robots': ['', 'arm2']}))
    try:
        assert not _outside(server), _outside(server)
        names = {n for _, n in _names(server)}
        assert {f'{NS}/vla/remote/frame', f'{NS}/arm2/vla/remote/chunk'} <= names
    finally:
        server.destroy_node()


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_remote_client_has_its_own_name_under_a_launch_name_remap(bundle):
    """With inference remote, launch's process-wide ``__node:=`` names the two nodes apart."""
    import rclpy
    from rclpy.lifecycle import TransitionCallbackReturn
    from vla_ros.nodes.vla_policy import VlaPolicy

    ctx = rclpy.Context()
    rclpy.init(context=ctx, args=['--ros-args', '-r', '__node:=vla_policy', '-r',
                                  f'__ns:={NS}'])
    node = VlaPolicy(context=ctx, parameter_overrides=_params(
        {'bundle': str(bundle), 'inference': 'remote', 'cameras': ['front'],
         'required_cameras': ['front']}))
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        client = node.remote._node
        assert (node.get_fully_qualified_name(), client.get_fully_qualified_name()) == \
            (f'{NS}/vla_policy', f'{NS}/vla_policy_remote_client')
        assert not _outside(node) and not _outside(client), (_outside(node), _outside(client))
        assert {n for _, n in _names(client)} >= {f'{NS}/vla/remote/chunk'}
        assert f'{NS}/vla/remote/frame' in {n for _, n in _names(node)}
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)


def _topic_argument(call: ast.Call) -> ast.expr | None:
    name = getattr(call.func, 'attr', '')
    if name not in CREATE:
        return None
    i = CREATE[name]
    return call.args[i] if len(call.args) > i else next(
        (k.value for k in call.keywords if k.arg in ('topic', 'srv_name')), None)


def test_no_absolute_topic_literal_in_the_package():
    """A literal '/camera/...' passed to create_* fails here (in every module of the package)."""
    wrong, checked = [], 0
    for path in sorted((ROOT / 'vla_ros').rglob('*.py')):
        for call in ast.walk(ast.parse(path.read_text())):
            if not isinstance(call, ast.Call):
                continue
            arg = _topic_argument(call)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                checked += 1
                if arg.value.startswith('/') and arg.value not in GLOBAL:
                    wrong.append(f'{path.relative_to(ROOT)}:{call.lineno}: {arg.value}')
    assert checked >= 5, 'no literal topic found: is the scan blind?'
    assert not wrong, '\n'.join(wrong)


def test_constant_names_are_relative_but_the_global_ones():
    from vla_ros.sim import gazebo
    names = {k: v for k, v in vars(C).items()
             if k.endswith(('_TOPIC', '_SERVICE', '_TOPIC_FMT')) and isinstance(v, str)}
    assert len(names) >= 14
    for key, value in names.items():
        assert value.startswith('/') == (value in C.GLOBAL_TOPICS), key
    assert not gazebo.ROS_TACTILE_TOPIC_FMT.startswith('/')  # gz_tactile's subscriptions
    assert C.namespaced(C.COMMAND_TOPIC, 'robot1') == '/robot1/vla/command'
    assert C.namespaced(C.COMMAND_TOPIC) == C.bag_topic(C.COMMAND_TOPIC) == '/vla/command'
    assert C.namespaced('/diagnostics', '/robot1') == '/diagnostics'
