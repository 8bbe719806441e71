"""
The same robot in Gazebo (gz sim Harmonic+): ``ros2 launch vla_ros gazebo.launch.py``.

Starts gz sim with config/tabletop_world.sdf, robot_state_publisher with the generated
config/vla_arm.urdf, spawns the robot (gz_ros2_control), loads joint_state_broadcaster,
arm_controller (joint_trajectory_controller) and gripper_controller (forward command), bridges
cameras, contacts and /clock (config/gz_bridge.yaml), and runs gz_tactile + sim_microphone.
Needs ros_gz, gz_ros2_control and ros2_controllers installed.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

CONTROLLERS = ('joint_state_broadcaster', 'arm_controller', 'gripper_controller')


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory('vla_ros')
    config = os.path.join(share, 'config')
    with open(os.path.join(config, 'vla_arm.urdf')) as f:
        urdf = f.read().replace('@CONTROLLERS_YAML@', os.path.join(config, 'gz_controllers.yaml'))
    sim_time = {'use_sim_time': True}
    gz_sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare('ros_gz_sim'), 'launch', 'gz_sim.launch.py'])),
        launch_arguments={'gz_args': [LaunchConfiguration('gz_args'), ' ',
                                      LaunchConfiguration('world')]}.items())
    spawners = [Node(package='controller_manager', executable='spawner', output='screen',
                     arguments=[name, '--controller-manager', '/controller_manager',
                                '--controller-manager-timeout', '60'])
                for name in CONTROLLERS]
    return LaunchDescription([
        DeclareLaunchArgument('world', default_value=os.path.join(config, 'tabletop_world.sdf'),
                              description='world SDF'),
        DeclareLaunchArgument('gz_args', default_value='-r -s',
                              description="gz sim flags: '-r -s' headless, '-r' with GUI"),
        gz_sim,
        Node(package='robot_state_publisher', executable='robot_state_publisher',
             output='screen', parameters=[{'robot_description': urdf, **sim_time}]),
        Node(package='ros_gz_sim', executable='create', output='screen',
             arguments=['-topic', 'robot_description', '-name', 'vla_arm']),
        Node(package='ros_gz_bridge', executable='parameter_bridge', output='screen',
             parameters=[{'config_file': os.path.join(config, 'gz_bridge.yaml'), **sim_time}]),
        *spawners,
        Node(package='vla_ros', executable='gz_tactile', output='screen', parameters=[sim_time]),
        Node(package='vla_ros', executable='sim_microphone', output='screen',
             parameters=[sim_time]),
    ])
