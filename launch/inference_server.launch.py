"""
Serve a policy bundle to robots elsewhere: ``ros2 launch vla_ros inference_server.launch.py``.

Starts ``vla_inference`` (docs/distributed.md) for the robots named in ``robots`` (their
namespaces; each runs ``vla_policy`` with ``inference: remote``, e.g. ``ros2 launch vla_ros
robot.launch.py inference:=remote namespace:=robot1``). Both sides need the same bundle.
Across hosts plain Fast DDS discovers by multicast; without multicast (Wi-Fi, VPN) give every
process a peers profile (config/fastdds_udp_peers.xml.in, FASTDDS_DEFAULT_PROFILES_FILE) or
use a discovery server (ROS_DISCOVERY_SERVER). Without launch (this repo's dev setup):
``vla_inference --ros-args -p bundle:=/path -p "robots:=['/robot1', '/robot2']"``.

``robots`` entries are namespaces; a relative entry (``robot1``) and ``''`` resolve in the
server's own ``namespace``: ``namespace:=robot1`` with the default ``robots`` serves the robot
of that namespace (``/robot1/vla/remote/frame`` -> ``/robot1/vla/remote/chunk``).

``backend:=ray ray_address:=HEAD:6379`` makes it the gateway to a Ray Serve deployment of the
bundle (``vla-ros serve head`` on the head host, ``vla-ros serve worker`` on the others; run
this launch on a host of that cluster, e.g. the head). docs/distributed.md, "Ray Serve".
"""

from typing import List

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument(
            'bundle', default_value='',
            description="policy bundle directory ('' = the package's default bundle); the "
                        'robots run the same bundle'),
        DeclareLaunchArgument(
            'robots', default_value="['']",
            description="namespaces of the robots served, e.g. \"['/robot1', '/robot2']\" "
                        "(default: this server's namespace)"),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description="namespace of vla_inference; relative robots entries and '' resolve "
                        "in it ('' = the root namespace)"),
        DeclareLaunchArgument(
            'max_batch', default_value='8',
            description='most frames in one policy run (1 = one frame at a time)'),
        DeclareLaunchArgument(
            'batch_window_ms', default_value='5.0',
            description='after a first request, wait at most this long for the other robots '
                        '[ms]'),
        DeclareLaunchArgument(
            'providers', default_value="['CPUExecutionProvider']",
            description="onnxruntime execution providers, e.g. \"['CUDAExecutionProvider']\""),
        DeclareLaunchArgument(
            'backend', default_value='local',
            description="'local': run the bundle here; 'ray': gateway to the Ray Serve "
                        'deployment at ray_address (vla-ros serve head)'),
        DeclareLaunchArgument(
            'ray_address', default_value='',
            description="the Ray head, HOST:PORT ('' = the cluster this host belongs to); "
                        'backend ray only'),
        Node(package='vla_ros', executable='vla_inference', name='vla_inference',
             namespace=LaunchConfiguration('namespace'), output='screen',
             parameters=[{
                 'bundle': LaunchConfiguration('bundle'),
                 'robots': ParameterValue(LaunchConfiguration('robots'),
                                          value_type=List[str]),
                 'max_batch': ParameterValue(LaunchConfiguration('max_batch'), value_type=int),
                 'batch_window_ms': ParameterValue(LaunchConfiguration('batch_window_ms'),
                                                   value_type=float),
                 'providers': ParameterValue(LaunchConfiguration('providers'),
                                             value_type=List[str]),
                 'backend': LaunchConfiguration('backend'),
                 'ray.address': LaunchConfiguration('ray_address')}]),
    ])
