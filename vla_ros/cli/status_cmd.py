"""``vla-ros status``: print the policy node's PolicyStatus (what ``ros2 topic echo`` would)."""

from __future__ import annotations

import argparse
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--topic', default='/vla_policy/status', help='PolicyStatus topic')
    parser.add_argument('--follow', '-f', action='store_true', help='keep printing')
    parser.add_argument('--timeout', type=float, default=5.0,
                        help='seconds to wait for a status [s]')


def format_status(s) -> str:
    """One human-readable block of a vla_ros_msgs/PolicyStatus."""
    lines = [
        f'state: {s.state_name}' + (f' ({s.reason})' if s.reason else ''),
        f'command: {s.command!r}',
        f'model: {s.model_id}   dry_run: {s.dry_run}',
        f'rates [Hz]: control {s.control_rate_hz:.1f}  frames {s.frame_rate_hz:.1f}  '
        f'chunks {s.inference_rate_hz:.1f}',
        f'latency [ms]: inference {s.inference_latency_ms:.1f} (p95 '
        f'{s.inference_latency_p95_ms:.1f})  frame->chunk {s.e2e_latency_ms:.1f}',
        f'chunks: {s.chunks}  hold ticks: {s.holds}',
    ]
    return '\n'.join(lines)


def run(args: argparse.Namespace) -> int:
    import rclpy
    from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
    from vla_ros_msgs.msg import PolicyStatus

    qos = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                     durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
    got: list = []
    rclpy.init()
    node = rclpy.create_node('vla_ros_status')
    try:
        node.create_subscription(PolicyStatus, args.topic, got.append, qos)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline or (args.follow and rclpy.ok()):
            rclpy.spin_once(node, timeout_sec=0.1)
            if got:
                print(format_status(got.pop()), flush=True)
                if not args.follow:
                    return 0
                print('---')
        print(f'no PolicyStatus on {args.topic} within {args.timeout:g} s')
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
