"""ROS-free core of vla_ros: importable without rclpy, *_msgs or torch."""
