"""
``vla-ros command "pick up the red cube"`` (also --stop, --estop, --clear).

What ``ros2 topic pub --once`` would do on vla/command and vla/estop where ros2cli is
missing; ``--namespace robot1`` addresses the robot launched with ``namespace:=robot1``
(``/robot1/vla/command``), the default is the root namespace (``/vla/command``).

Both topics are latched (reliable, transient-local, depth 1): the node gets the last value even
if it starts later. The publisher waits for a subscriber (or --wait seconds) and stays up a
moment so the message is delivered.
"""

from __future__ import annotations

import argparse
import time

import rclpy
from std_msgs.msg import Bool, String
from vla_ros import constants as C
from vla_ros.cli.common import add_namespace_argument, ros_namespace
from vla_ros.errors import NoNodeError
from vla_ros.qos import LATCHED_QOS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('text', nargs='?', default=None, help='language command to run')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--stop', action='store_true', help='hold (publishes "stop")')
    group.add_argument('--estop', action='store_true',
                       help='latch the e-stop: no motion until --clear AND a new command')
    group.add_argument('--clear', action='store_true', help='clear the e-stop')
    parser.add_argument('--wait', type=float, default=5.0,
                        help='seconds to wait for a subscriber [s]')
    add_namespace_argument(parser)


def message_for(args: argparse.Namespace) -> tuple[str, object]:
    """(relative topic, value) for the parsed arguments; raises SystemExit on misuse."""
    if args.estop or args.clear:
        if args.text is not None:
            raise SystemExit('give either a command text or --estop/--clear, not both')
        return C.ESTOP_TOPIC, bool(args.estop)
    if args.stop:
        if args.text is not None:
            raise SystemExit('give either a command text or --stop, not both')
        return C.COMMAND_TOPIC, 'stop'
    if args.text is None:
        raise SystemExit('nothing to send: give a command text or --stop/--estop/--clear')
    return C.COMMAND_TOPIC, args.text


def run(args: argparse.Namespace) -> int:

    topic, value = message_for(args)
    rclpy.init()
    node = rclpy.create_node('vla_ros_command', namespace=ros_namespace(
        getattr(args, 'namespace', '')))
    try:
        msg_type = Bool if isinstance(value, bool) else String
        pub = node.create_publisher(msg_type, topic, LATCHED_QOS)
        topic = pub.topic_name  # resolved in the namespace, for the messages below
        pub.publish(msg_type(data=value))
        deadline = time.monotonic() + args.wait
        while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.05)
        matched = pub.get_subscription_count()
        # keep the latched publisher alive briefly so matched subscribers receive it
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        if not matched:
            raise NoNodeError(
                f'no vla_policy node on ROS_DOMAIN_ID={node.context.get_domain_id()}: nobody '
                f'subscribed to {topic} within {args.wait:g} s, nothing was delivered '
                '(start vla_policy first, or check ROS_DOMAIN_ID)')
        print(f'published {value!r} on {topic} ({matched} subscriber(s))')
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
