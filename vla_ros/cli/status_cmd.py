"""
``vla-ros status``: print the policy node's PolicyStatus (what ``ros2 topic echo`` would).

Waits ``--timeout`` seconds for the first status (also with ``--follow``); without one it says
whether a vla_policy node is on the graph at all, with the ROS_DOMAIN_ID it looked in. The node
reports in every lifecycle state: ``unconfigured`` and ``inactive`` before it runs (with
use_sim_time and no /clock yet the reason says ``waiting for /clock (use_sim_time)``), then
``idle``, ``running``, ``holding``, ``estopped`` or ``fault`` (a configure that failed, NaN
actions, ...) with the reason. ``--namespace robot1`` reads ``/robot1/vla_policy/status`` (the
default: the root namespace).

Exit status: 0 a status arrived and the node is not in fault; 3 the node is in ``fault``;
1 nothing answered (no vla_policy node, or no status within ``--timeout``); 2 bad usage.
With ``--follow``, Ctrl-C ends it with 0.
"""

from __future__ import annotations

import argparse
import time

import rclpy
from vla_ros.cli.common import add_namespace_argument, ros_namespace
from vla_ros.errors import NoNodeError
from vla_ros.qos import LATCHED_QOS
from vla_ros_msgs.msg import PolicyStatus

POLICY_NODE = 'vla_policy'
EXIT_FAULT = 3  # the node reports state fault (1 = nothing answered, 2 = usage: vla_ros.cli)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--topic', default='vla_policy/status',
                        help='PolicyStatus topic (relative: in --namespace)')
    add_namespace_argument(parser)
    parser.add_argument('--follow', '-f', action='store_true',
                        help='keep printing every status until Ctrl-C')
    parser.add_argument('--timeout', type=float, default=5.0,
                        help='seconds to wait for the first status [s]')


def format_status(s) -> str:
    """One human-readable block of a vla_ros_msgs/PolicyStatus."""
    head = [f'state: {s.state_name}' + (f' ({s.reason})' if s.reason else ''),
            f'model: {s.model_id or "(none loaded)"}   dry_run: {s.dry_run}']
    if s.state in (s.STATE_UNCONFIGURED, s.STATE_INACTIVE):
        return '\n'.join(head)  # not running: no command, rates or latencies yet
    lines = [
        head[0],
        f'command: {s.command!r}',
        head[1],
        f'rates [Hz]: control {s.control_rate_hz:.1f}  frames {s.frame_rate_hz:.1f}  '
        f'chunks {s.inference_rate_hz:.1f}',
        f'latency [ms]: inference {s.inference_latency_ms:.1f} (p95 '
        f'{s.inference_latency_p95_ms:.1f})  frame->chunk {s.e2e_latency_ms:.1f}',
        f'chunks: {s.chunks}  hold ticks: {s.holds}',
    ]
    return '\n'.join(lines)


def exit_status(s) -> int:
    """Return the exit status for a PolicyStatus: :data:`EXIT_FAULT` in fault, else 0."""
    return EXIT_FAULT if s.state == s.STATE_FAULT else 0


def no_status_error(node, topic: str, timeout_s: float, domain: int) -> NoNodeError:
    """Why no status came: no vla_policy node at all, or one that publishes nothing."""
    names = {n for n, _ in node.get_node_names_and_namespaces()}
    publishers = node.count_publishers(topic)
    if POLICY_NODE not in names and not publishers:
        return NoNodeError(f'no {POLICY_NODE} node on ROS_DOMAIN_ID={domain} (nothing '
                           f'publishes {topic}; waited {timeout_s:g} s)')
    return NoNodeError(f'{POLICY_NODE} is on ROS_DOMAIN_ID={domain} but no status arrived on '
                       f'{topic} within {timeout_s:g} s ({publishers} publisher(s))')


def run(args: argparse.Namespace) -> int:

    got: list = []
    rclpy.init()
    node = rclpy.create_node('vla_ros_status', namespace=ros_namespace(
        getattr(args, 'namespace', '')))
    domain = node.context.get_domain_id()
    printed = 0
    try:
        sub = node.create_subscription(PolicyStatus, args.topic, got.append, LATCHED_QOS)
        args.topic = sub.topic_name  # resolved in the namespace, for the messages below
        deadline = time.monotonic() + args.timeout
        while rclpy.ok() and (printed or time.monotonic() < deadline):
            rclpy.spin_once(node, timeout_sec=0.1)
            if got:
                if printed:
                    print('---')
                status = got[-1]
                print(format_status(status), flush=True)
                got.clear()
                printed += 1
                if not args.follow:
                    return exit_status(status)
        if not printed:
            raise no_status_error(node, args.topic, args.timeout, domain)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
