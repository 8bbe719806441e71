"""
The same robot in Gazebo (gz sim Harmonic+): ``ros2 launch vla_ros gazebo.launch.py``.

Starts gz sim with config/tabletop_world.sdf, robot_state_publisher with the generated
config/vla_arm.urdf, spawns the robot (gz_ros2_control), loads joint_state_broadcaster,
arm_controller (joint_trajectory_controller) and gripper_controller (forward command), bridges
cameras, contacts and /clock (config/gz_bridge.yaml), and runs gz_tactile + sim_microphone.
Needs ros_gz, gz_ros2_control and ros2_controllers installed.

``namespace`` puts every ROS node here in a namespace, the controller manager included (a
``<ros><namespace>`` element in the gz_ros2_control plugin): the bridge's ROS topics are
relative (``/robot1/camera/front/image_raw``), the controllers listen on
``/robot1/arm_controller/...``, ``joint_states`` is ``/robot1/joint_states``; ``/clock`` stays
global. The gz-side topics are the world's own: one robot per Gazebo world.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

CONTROLLERS = ('joint_state_broadcaster', 'arm_controller', 'gripper_controller')
SIM_TIME = {'use_sim_time': True}


def _robot_state_publisher(context, config: str):
    """robot_state_publisher with the URDF, its controller manager in ``namespace``."""
    namespace = LaunchConfiguration('namespace').perform(context).strip().strip('/')
    with open(os.path.join(config, 'vla_arm.urdf')) as f:
        urdf = f.read()
    parameters = '<parameters>@CONTROLLERS_YAML@</parameters>'
    ros = f'<ros><namespace>/{namespace}</namespace></ros>' if namespace else ''
    urdf = urdf.replace(parameters, parameters.replace(
        '@CONTROLLERS_YAML@', os.path.join(config, 'gz_controllers.yaml')) + ros)
    return [Node(package='robot_state_publisher', executable='robot_state_publisher',
                 namespace=LaunchConfiguration('namespace'), output='screen',
                 parameters=[{'robot_description': urdf, **SIM_TIME}])]


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory('vla_ros')
    config = os.path.join(share, 'config')
    namespace = LaunchConfiguration('namespace')
    gz_sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare('ros_gz_sim'), 'launch', 'gz_sim.launch.py'])),
        launch_arguments={'gz_args': [LaunchConfiguration('gz_args'), ' ',
                                      LaunchConfiguration('world')]}.items())
    spawners = [Node(package='controller_manager', executable='spawner', output='screen',
                     namespace=namespace,
                     arguments=[name, '--controller-manager', 'controller_manager',
                                '--controller-manager-timeout', '60'])
                for name in CONTROLLERS]
    return LaunchDescription([
        DeclareLaunchArgument('world', default_value=os.path.join(config, 'tabletop_world.sdf'),
                              description='world SDF'),
        DeclareLaunchArgument('gz_args', default_value='-r -s',
                              description="gz sim flags: '-r -s' headless, '-r' with GUI"),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='namespace of every ROS node and topic of the robot (e.g. robot1); '
                        "'' = the root namespace"),
        gz_sim,
        OpaqueFunction(function=_robot_state_publisher, args=[config]),
        Node(package='ros_gz_sim', executable='create', output='screen', namespace=namespace,
             arguments=['-topic', 'robot_description', '-name', 'vla_arm']),
        Node(package='ros_gz_bridge', executable='parameter_bridge', output='screen',
             namespace=namespace,
             parameters=[{'config_file': os.path.join(config, 'gz_bridge.yaml'), **SIM_TIME}]),
        *spawners,
        Node(package='vla_ros', executable='gz_tactile', output='screen', namespace=namespace,
             parameters=[SIM_TIME]),
        Node(package='vla_ros', executable='sim_microphone', output='screen',
             namespace=namespace, parameters=[SIM_TIME]),
    ])
