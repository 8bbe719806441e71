"""rclpy adapters shared by the nodes: messages, parameters, sensor inputs, spinning."""
