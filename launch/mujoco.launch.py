"""Launch the MuJoCo tabletop robot: ``ros2 launch vla_ros mujoco.launch.py [seed:=3]``.

Without launch (this repo's dev setup) the same is
``mujoco_sim --ros-args --params-file config/sim.yaml``.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    sim_params = PathJoinSubstitution([FindPackageShare('vla_ros'), 'config', 'sim.yaml'])
    return LaunchDescription([
        DeclareLaunchArgument('seed', default_value='0', description='world seed'),
        DeclareLaunchArgument('real_time_factor', default_value='1.0',
                              description='sim s per wall s; 0 = as fast as possible'),
        DeclareLaunchArgument('speak_commands', default_value='false',
                              description='speak /vla/command into the microphone'),
        Node(package='vla_ros', executable='mujoco_sim', name='mujoco_sim', output='screen',
             parameters=[sim_params, {
                 'seed': LaunchConfiguration('seed'),
                 'real_time_factor': LaunchConfiguration('real_time_factor'),
                 'speak_commands': LaunchConfiguration('speak_commands')}]),
    ])
