"""
LeRobot bridge: recordings out as LeRobotDatasets, LeRobot policies in as bundles.

Two Python environments meet here. The robot side (this package's main venv: numpy, rclpy,
onnxruntime; no torch needed) reads and writes bags through the sync core and writes bundles.
The LeRobot side runs in ``.venv-lerobot`` (``make lerobot-env``: lerobot 0.4.4 with torch
2.13 CPU) and uses LeRobot's own ``LeRobotDataset`` and policy classes. They exchange a staging
directory (:mod:`~vla_ros.lerobot_io.staging`) and files; :mod:`~vla_ros.lerobot_io.runner`
starts the LeRobot side.
"""
