"""
Publish or receive test traffic for test_netns.py: one end of a two-namespace DDS link.

Usage: python netns_ping.py pub|sub [--str-hz HZ] [--img-hz HZ] [--img-bytes N]

``pub`` sends std_msgs/String on /netns/str (reliable, depth 10) and a sensor_msgs/Image of
about --img-bytes bytes on /netns/img (best effort, sensor-data QoS); both carry a sequence
number and the wall-clock send time (the namespaces share the host's clock). ``sub`` prints
one line per message received, flushed::

    str SEQ SENT_NS RECV_NS NBYTES
    img SEQ SENT_NS RECV_NS NBYTES

Both print ``ready`` once their endpoints exist.
"""

import argparse
import time

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import String

STR_TOPIC = '/netns/str'
IMG_TOPIC = '/netns/img'


def _publisher(node: Node, args: argparse.Namespace) -> None:
    """Create the publishers and the timers that feed them."""
    str_pub = node.create_publisher(String, STR_TOPIC, 10)
    img_pub = node.create_publisher(Image, IMG_TOPIC, qos_profile_sensor_data)
    width = 256
    height = max(1, args.img_bytes // (width * 3))
    payload = bytes(range(256)) * (width * 3 * height // 256 + 1)
    img = Image(height=height, width=width, encoding='rgb8', step=width * 3)
    img.data = payload[:width * 3 * height]
    seq = {'str': 0, 'img': 0}

    def send_str() -> None:
        seq['str'] += 1
        str_pub.publish(String(data=f'{seq["str"]} {time.time_ns()}'))

    def send_img() -> None:
        seq['img'] += 1
        now = time.time_ns()
        img.header.frame_id = str(seq['img'])
        img.header.stamp.sec, img.header.stamp.nanosec = divmod(now, 10**9)
        img_pub.publish(img)

    node.create_timer(1.0 / args.str_hz, send_str)
    node.create_timer(1.0 / args.img_hz, send_img)


def _subscriber(node: Node) -> None:
    """Create the subscriptions that print one line per message."""
    def on_str(msg: String) -> None:
        recv = time.time_ns()
        seq, sent = msg.data.split()
        print(f'str {seq} {sent} {recv} {len(msg.data)}', flush=True)

    def on_img(msg: Image) -> None:
        recv = time.time_ns()
        sent = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        print(f'img {msg.header.frame_id} {sent} {recv} {len(msg.data)}', flush=True)

    node.create_subscription(String, STR_TOPIC, on_str, 10)
    node.create_subscription(Image, IMG_TOPIC, on_img, qos_profile_sensor_data)


def main() -> None:
    """Parse the arguments, run one end until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('role', choices=('pub', 'sub'))
    parser.add_argument('--str-hz', type=float, default=50.0)
    parser.add_argument('--img-hz', type=float, default=20.0)
    parser.add_argument('--img-bytes', type=int, default=100_000)
    args = parser.parse_args()
    rclpy.init()
    node = rclpy.create_node(f'netns_{args.role}')
    if args.role == 'pub':
        _publisher(node, args)
    else:
        _subscriber(node)
    print('ready', flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
