"""
Launch the MuJoCo robot and the policy: ``ros2 launch vla_ros mujoco.launch.py [bundle:=/path]``.

Starts ``mujoco_sim`` and ``vla_policy``, both with ``config/sim.yaml`` (the file the demo,
eval and record tools read too). ``bundle`` defaults to the installed default bundle
(``share/vla_ros/models/default``); ``policy:=false`` starts the simulator alone. Like
``vla-ros demo`` and ``vla-ros eval``, the simulator's cameras and sensor rates are the ones
the bundle was trained on (``provenance.recorded_with`` of its bundle.yaml, e.g. 96x96 at
10 Hz for models/default), read when the launch runs; ``image_width``, ``image_height`` and
``camera_rate_hz`` override them. Without launch (this repo's dev setup) the same is
``vla-ros demo``, or ``mujoco_sim --ros-args --params-file config/sim.yaml`` plus the
overrides, and ``vla_policy --ros-args --params-file config/sim.yaml -p bundle:=/path``.

``namespace`` puts both nodes in a namespace: every topic but ``/clock`` and ``/diagnostics``
is relative (``/robot1/camera/front/image_raw``, ``/robot1/vla/command``, ...). ``/clock`` is
global: one simulator per ROS domain.

``speech:=true`` also starts ``speech_command``: what is spoken into the simulator's microphone
(``sim/sound`` ``say:<text>``, e.g. ``vla-ros demo --speak``) is recognized and published on
``vla/command``. Do not combine it with ``speak_commands:=true``: every recognized command would
be spoken again.

The seed / real_time_factor / speak_commands arguments are passed as wildcard (``/**``)
parameters, which a node-specific entry of a params file beats: none of them may be set in
the node sections of ``config/sim.yaml`` (test/sim/test_sim_launch_files.py checks this). The
sensor settings go in a second params file (``/**/mujoco_sim``), which beats the first.
"""

import tempfile

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def _sim_node(context, sim_params):
    """Start mujoco_sim with the bundle's recorded sensor settings (read at launch time)."""
    from vla_ros.harness.sim_config import launch_sim_params

    params_file = sim_params.perform(context)
    sensors = {}
    for name, arg, kind in (('image_width', LaunchConfiguration('image_width'), int),
                            ('image_height', LaunchConfiguration('image_height'), int),
                            ('camera_rate_hz', LaunchConfiguration('camera_rate_hz'), float)):
        text = arg.perform(context).strip()
        sensors[name] = kind(text) if text else ''
    params = launch_sim_params(LaunchConfiguration('bundle').perform(context),
                               params_file=params_file, sensors=sensors)
    files = [params_file]
    if params.overrides:
        files.append(str(params.write_overrides(tempfile.mkdtemp(prefix='vla_ros_launch_'))))
    sim = Node(package='vla_ros', executable='mujoco_sim', name='mujoco_sim', output='screen',
               namespace=LaunchConfiguration('namespace'),
               parameters=[*files, {
                   'seed': ParameterValue(LaunchConfiguration('seed'), value_type=int),
                   'real_time_factor': ParameterValue(
                       LaunchConfiguration('real_time_factor'), value_type=float),
                   'speak_commands': ParameterValue(LaunchConfiguration('speak_commands'),
                                                    value_type=bool)}])
    return [LogInfo(msg=f'mujoco.launch.py: {params.describe()}'), sim]


def generate_launch_description() -> LaunchDescription:
    """Return the sim + policy launch description."""
    share = FindPackageShare('vla_ros')
    sim_params = PathJoinSubstitution([share, 'config', 'sim.yaml'])
    return LaunchDescription([
        DeclareLaunchArgument(
            'bundle', default_value=PathJoinSubstitution([share, 'models', 'default']),
            description='policy bundle directory (bundle.yaml + ONNX files)'),
        DeclareLaunchArgument('policy', default_value='true',
                              description='start vla_policy; false = the simulator alone'),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description="namespace of both nodes (e.g. robot1); '' = the root namespace"),
        DeclareLaunchArgument('seed', default_value='0', description='world seed'),
        DeclareLaunchArgument('real_time_factor', default_value='1.0',
                              description='sim s per wall s; 0 = as fast as possible'),
        DeclareLaunchArgument('speak_commands', default_value='false',
                              description='speak vla/command into the microphone'),
        DeclareLaunchArgument('speech', default_value='false',
                              description='start speech_command: spoken commands from the '
                                          'microphone to vla/command'),
        DeclareLaunchArgument(
            'image_width', default_value='',
            description="camera image width [px]; '' = the bundle's recorded_with, else "
                        'config/sim.yaml'),
        DeclareLaunchArgument(
            'image_height', default_value='',
            description="camera image height [px]; '' = the bundle's recorded_with, else "
                        'config/sim.yaml'),
        DeclareLaunchArgument(
            'camera_rate_hz', default_value='',
            description="image rate per camera, sim time [Hz]; '' = the bundle's "
                        'recorded_with, else config/sim.yaml'),
        OpaqueFunction(function=_sim_node, args=[sim_params]),
        DeclareLaunchArgument(
            'fastdds_profile', default_value=PathJoinSubstitution(
                [FindPackageShare('vla_ros'), 'config', 'fastdds_policy.xml']),
            description='FASTDDS_DEFAULT_PROFILES_FILE of vla_policy (a 4 MiB shared-memory '
                        'segment: the node writes no camera-sized samples; -28 MB RSS); '
                        'point it at your own profile to replace it'),
        Node(package='vla_ros', executable='vla_policy', name='vla_policy', output='screen',
             namespace=LaunchConfiguration('namespace'),
             condition=IfCondition(LaunchConfiguration('policy')),
             additional_env={'FASTDDS_DEFAULT_PROFILES_FILE':
                             LaunchConfiguration('fastdds_profile')},
             parameters=[sim_params, {'bundle': LaunchConfiguration('bundle')}]),
        Node(package='vla_ros', executable='speech_command', name='speech_command',
             output='screen', namespace=LaunchConfiguration('namespace'),
             condition=IfCondition(LaunchConfiguration('speech')),
             parameters=[{'bundle': LaunchConfiguration('bundle')}]),
    ])
