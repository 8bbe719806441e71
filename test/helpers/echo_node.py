"""
Republish every message of TYPE from /rt/in to /rt/out: the far side of round-trip tests.

Usage: python echo_node.py PKG/msg/Type
"""

import importlib
import sys

import rclpy
from rclpy.qos import QoSDurabilityPolicy, QoSProfile


def main() -> None:
    pkg, _, name = sys.argv[1].split('/')
    msg_type = getattr(importlib.import_module(f'{pkg}.msg'), name)
    rclpy.init()
    node = rclpy.create_node('rt_echo')
    qos = QoSProfile(depth=10, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
    pub = node.create_publisher(msg_type, '/rt/out', qos)
    node.create_subscription(msg_type, '/rt/in', pub.publish, qos)
    print('ready', flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
