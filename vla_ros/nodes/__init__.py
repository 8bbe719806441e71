"""Thin rclpy nodes: message conversion, topics, parameters, lifecycle."""
