"""
Run a VLA policy on a real robot: ``ros2 launch vla_ros robot.launch.py bundle:=/path``.

Starts ``vla_policy`` (a lifecycle node) with a robot config. ``dry_run`` defaults to true:
only ``~/action_chunk`` previews are published until you pass ``dry_run:=false``. Without
``autostart:=true`` bring it up with ``ros2 lifecycle set /vla_policy configure`` then
``activate``. Without launch (this repo's dev setup) the same is
``vla_policy --ros-args --params-file config/robot_example.yaml -p bundle:=/path``.

Topics are relative, resolved in ``namespace`` (ROS 2 convention, as nav2): with
``namespace:=robot1`` the node is ``/robot1/vla_policy`` and uses ``/robot1/vla/command``,
``/robot1/vla/estop``, ``/robot1/camera/<name>/image_raw``, ``/robot1/audio/chunk``,
``/robot1/tactile/array``, ``/robot1/joint_states``,
``/robot1/arm_controller/joint_trajectory`` (or ``.../commands``),
``/robot1/gripper_controller/commands``, ``/robot1/cmd_vel``, ``/robot1/vla_policy/status``
and, with ``inference:=remote``, ``/robot1/vla/remote/{frame,chunk}``; only ``/diagnostics``
(and ``/clock`` with use_sim_time) stay global. Drivers or controllers elsewhere: remap, e.g.
``--ros-args -r camera/front/image_raw:=/front_cam/image`` or the ``*_topic`` parameters (an
absolute name stays absolute). docs/distributed.md runs several robots this way.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    default_config = PathJoinSubstitution(
        [FindPackageShare('vla_ros'), 'config', 'robot_example.yaml'])
    return LaunchDescription([
        DeclareLaunchArgument(
            'bundle', description='policy bundle directory (bundle.yaml + ONNX files)'),
        DeclareLaunchArgument(
            'robot_config', default_value=default_config,
            description='parameters file of the robot: controllers, joints, limits, sensors '
                        '(see config/robot_example.yaml, config/mobile_base_example.yaml)'),
        DeclareLaunchArgument(
            'dry_run', default_value='true',
            description='true: publish only ~/action_chunk previews, never command the '
                        'controllers; set false to move the robot'),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='namespace of vla_policy and of all its topics (e.g. robot1: '
                        "/robot1/vla/command); '' = the root namespace"),
        DeclareLaunchArgument(
            'inference', default_value='local',
            description='local: the bundle runs in vla_policy; remote: on vla_inference on '
                        'another host (inference_server.launch.py); safety stays here'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false',
            description='use /clock (simulation or bag replay) instead of the wall clock'),
        DeclareLaunchArgument(
            'autostart', default_value='false',
            description='configure and activate the lifecycle node on start; false leaves '
                        'it to ros2 lifecycle / a lifecycle manager'),
        DeclareLaunchArgument(
            'fastdds_profile', default_value=PathJoinSubstitution(
                [FindPackageShare('vla_ros'), 'config', 'fastdds_policy.xml']),
            description='FASTDDS_DEFAULT_PROFILES_FILE of vla_policy (a 4 MiB shared-memory '
                        'segment: the node writes no camera-sized samples; -28 MB RSS); '
                        'point it at your own profile to replace it'),
        Node(package='vla_ros', executable='vla_policy', name='vla_policy',
             namespace=LaunchConfiguration('namespace'), output='screen',
             additional_env={'FASTDDS_DEFAULT_PROFILES_FILE':
                             LaunchConfiguration('fastdds_profile')},
             parameters=[LaunchConfiguration('robot_config'), {
                 'bundle': LaunchConfiguration('bundle'),
                 'inference': LaunchConfiguration('inference'),
                 'dry_run': ParameterValue(LaunchConfiguration('dry_run'), value_type=bool),
                 'use_sim_time': ParameterValue(LaunchConfiguration('use_sim_time'),
                                                value_type=bool),
                 'autostart': ParameterValue(LaunchConfiguration('autostart'),
                                             value_type=bool)}]),
    ])
