"""ament_python package vla_ros: console scripts go to lib/vla_ros so `ros2 run` finds them."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE_NAME = 'vla_ros'

# console script name -> module:function, all in vla_ros/cli (the node executables in
# vla_ros/cli/nodes/); tests check every entry resolves to a `main`.
CONSOLE_SCRIPTS = [
    'vla-ros = vla_ros.cli.main:main',
    'fake_sensors = vla_ros.cli.nodes.fake_sensors:main',
    'vla_policy = vla_ros.cli.nodes.vla_policy:main',
    'vla_inference = vla_ros.cli.nodes.vla_inference:main',
    'multimodal_sync = vla_ros.cli.nodes.multimodal_sync:main',
    'mujoco_sim = vla_ros.cli.nodes.mujoco_sim:main',
    'gz_tactile = vla_ros.cli.nodes.gz_tactile:main',
    'sim_microphone = vla_ros.cli.nodes.sim_microphone:main',
    'speech_command = vla_ros.cli.nodes.speech_command:main',
]

setup(
    name=PACKAGE_NAME,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*', 'bench', 'bench.*']),
    package_data={PACKAGE_NAME: ['py.typed']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE_NAME}']),
        (f'share/{PACKAGE_NAME}', ['package.xml']),
        (f'share/{PACKAGE_NAME}/launch', glob('launch/*.launch.py')),
        (f'share/{PACKAGE_NAME}/config', glob('config/*.yaml') + glob('config/*.sdf')
         + glob('config/*.urdf') + glob('config/*.xml') + glob('config/*.xml.in')),
        # the default policy bundle, found by vla_ros.harness.locate wherever a command runs
        (f'share/{PACKAGE_NAME}/models/default', glob('models/default/*')),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='vla_ros maintainers',
    maintainer_email='maintainers@vla-ros.dev',
    description='Multimodal VLA policies on ROS 2 with ONNX Runtime.',
    license='Apache-2.0',
    entry_points={'console_scripts': CONSOLE_SCRIPTS},
)
