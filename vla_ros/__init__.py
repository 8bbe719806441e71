"""
vla_ros: multimodal Vision-Language-Action policies on ROS 2.

Layout: ``core`` is ROS-free (sync, preprocessing, ONNX runtime, chunking, safety);
``nodes`` are thin rclpy nodes; ``model`` holds torch code for training/export only.
"""

__version__ = '0.1.0'
