"""
Launch the MuJoCo robot and the policy: ``ros2 launch vla_ros mujoco.launch.py [bundle:=/path]``.

Starts ``mujoco_sim`` and ``vla_policy``, both with ``config/sim.yaml`` (the file the demo,
eval and record tools read too). ``bundle`` defaults to the installed default bundle
(``share/vla_ros/models/default``); ``policy:=false`` starts the simulator alone. Without
launch (this repo's dev setup) the same is
``mujoco_sim --ros-args --params-file config/sim.yaml`` and
``vla_policy --ros-args --params-file config/sim.yaml -p bundle:=/path``.

The launch arguments are passed as wildcard (``/**``) parameters, which a node-specific entry
of a params file beats: none of them may be set in the node sections of ``config/sim.yaml``
(test/sim/test_sim_launch_files.py checks this).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


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
        DeclareLaunchArgument('seed', default_value='0', description='world seed'),
        DeclareLaunchArgument('real_time_factor', default_value='1.0',
                              description='sim s per wall s; 0 = as fast as possible'),
        DeclareLaunchArgument('speak_commands', default_value='false',
                              description='speak /vla/command into the microphone'),
        Node(package='vla_ros', executable='mujoco_sim', name='mujoco_sim', output='screen',
             parameters=[sim_params, {
                 'seed': ParameterValue(LaunchConfiguration('seed'), value_type=int),
                 'real_time_factor': ParameterValue(LaunchConfiguration('real_time_factor'),
                                                    value_type=float),
                 'speak_commands': ParameterValue(LaunchConfiguration('speak_commands'),
                                                  value_type=bool)}]),
        DeclareLaunchArgument(
            'fastdds_profile', default_value=PathJoinSubstitution(
                [FindPackageShare('vla_ros'), 'config', 'fastdds_policy.xml']),
            description='FASTDDS_DEFAULT_PROFILES_FILE of vla_policy (a 4 MiB shared-memory '
                        'segment: the node writes no camera-sized samples; -28 MB RSS); '
                        'point it at your own profile to replace it'),
        Node(package='vla_ros', executable='vla_policy', name='vla_policy', output='screen',
             condition=IfCondition(LaunchConfiguration('policy')),
             additional_env={'FASTDDS_DEFAULT_PROFILES_FILE':
                             LaunchConfiguration('fastdds_profile')},
             parameters=[sim_params, {'bundle': LaunchConfiguration('bundle')}]),
    ])
