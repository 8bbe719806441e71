"""
``vla-ros record``: topics -> MCAP bag, as a user records teleop on a real robot.

Modes:
  live (default)     record the demonstration topics from a running robot or sim until Ctrl-C
                     or --duration (what ``ros2 bag record`` does);
  --expert lockstep  fast path: the scripted expert drives SimWorld in lockstep and the same
                     topics/messages are written directly (one bag per episode);
  --expert ros       the expert as a teleoperator through the real graph: ``mujoco_sim`` as a
                     process, expert commands over DDS, recorded from the wire.

The expert modes use the ``mujoco_sim`` section of ``config/sim.yaml`` plus the overrides
given (``--image-size``, ``--param``), printed at the start; lockstep writes them to
``<out>/recorded_with.yaml`` (training copies them into the bundle).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import sys
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from tqdm import tqdm
from vla_ros.cli.common import add_namespace_argument, nearest, parse_choices, ros_namespace
from vla_ros.data import bagio
from vla_ros.data.expert_ros import record_expert_ros
from vla_ros.errors import ConfigError, UsageError
from vla_ros.harness.sim_config import sim_node_params
from vla_ros.sim.task_suite import TaskKind
import yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', required=True, type=Path,
                        help='bag directory (live, --expert ros) or dataset directory '
                             '(--expert lockstep)')
    parser.add_argument('--expert', choices=['lockstep', 'ros'], default=None,
                        help='record scripted expert demonstrations instead of live topics')
    parser.add_argument('--duration', type=float, default=0.0,
                        help='live: stop after [s] (0: until Ctrl-C)')
    parser.add_argument('--topics', default='',
                        help='live: comma-separated topics (default: the demonstration set)')
    parser.add_argument('--use-sim-time', action='store_true', help='live: stamp with /clock')
    add_namespace_argument(parser)  # live: the bag keeps root names (/vla/command)
    parser.add_argument('--kinds', default='all', help='expert: task kinds or all')
    parser.add_argument('--episodes', type=int, default=10, help='lockstep: per task kind')
    parser.add_argument('--seed', type=int, default=0, help='expert: first seed')
    parser.add_argument('--image-size', type=int, default=None,
                        help='expert: camera size [px] (override of image_width/height; '
                             'default: config/sim.yaml)')
    parser.add_argument('--param', action='append', default=[], metavar='NAME=VALUE',
                        help='expert: a mujoco_sim parameter overriding config/sim.yaml '
                             '(e.g. camera_rate_hz=10); repeatable')
    parser.add_argument('--noise', type=float, default=0.0,
                        help='lockstep: DART noise on the executed arm targets [rad std]; the '
                             "bag keeps the expert's clean targets")


def run(args: argparse.Namespace) -> int:
    if args.expert == 'lockstep':
        return _lockstep(args)
    if args.expert == 'ros':
        return _ros_expert(args)
    return _live(args)


def _kinds(args) -> list[str]:
    return parse_choices(args.kinds, [k.value for k in TaskKind], 'task kind')


def _sim_params(args):
    """config/sim.yaml + the --image-size / --param overrides, validated and printed."""
    overrides: dict[str, object] = {}
    for item in args.param:
        name, sep, value = item.partition('=')
        if not sep or not name:
            raise UsageError(f'--param: expected NAME=VALUE, got {item!r}')
        overrides[name.strip()] = yaml.safe_load(value)
    if args.image_size is not None:
        overrides.update(image_width=args.image_size, image_height=args.image_size)
    try:
        sim = sim_node_params(overrides)
    except ConfigError as e:
        raise UsageError(f'--param: {e}') from e
    print(f'parameters: {sim.describe()}', flush=True)
    return sim


def _lockstep(args) -> int:

    # optional heavy dependency: mujoco (via vla_ros.data.datagen)
    from vla_ros.data.datagen import generate
    sim = _sim_params(args)
    kinds = _kinds(args)
    bar = tqdm(total=args.episodes * len(kinds), desc='episodes', unit='ep')
    failed = []

    def progress(rec) -> None:
        if rec.success:
            bar.update(1)
        else:
            failed.append(rec)
    recs = generate(args.out, kinds=kinds, episodes_per_kind=args.episodes,
                    seed_start=args.seed, sim=sim, noise_rad=args.noise, progress=progress)
    bar.close()
    ok = [r for r in recs if r.success]
    print(f'{len(ok)} demonstrations in {args.out} ({len(failed)} expert failures dropped)')
    return 0


def _live(args) -> int:

    # optional heavy dependency: mujoco (via vla_ros.data.recorder)
    from vla_ros.data.recorder import TopicRecorder
    topics = dict(bagio.DEFAULT_TOPICS)
    if args.topics:
        wanted = [bagio.bag_topic(t.strip()) for t in args.topics.split(',')]
        for t in wanted:
            if t not in topics:
                raise UsageError(f'--topics: unknown topic {t!r}{nearest(t, topics)}; known: '
                                 f'{", ".join(topics)}')
        topics = {t: topics[t] for t in wanted}
    rclpy.init()
    node = rclpy.create_node('vla_recorder', namespace=ros_namespace(args.namespace),
                             parameter_overrides=[
        rclpy.parameter.Parameter('use_sim_time', value=args.use_sim_time)])
    with bagio.BagWriter(args.out, topics) as writer:
        rec = TopicRecorder(node, writer, topics)
        ex = SingleThreadedExecutor()
        ex.add_node(node)
        print(f'recording {len(topics)} topics to {args.out} (Ctrl-C to stop)', flush=True)
        end = time.monotonic() + args.duration if args.duration > 0 else float('inf')
        try:
            while time.monotonic() < end and rclpy.ok():
                ex.spin_once(timeout_sec=0.1)
        except KeyboardInterrupt:
            pass
        finally:
            rec.recording = False
            node.destroy_node()
            rclpy.try_shutdown()
    return report_counts(rec.counts, topics, args.out)


def report_counts(counts: dict[str, int], topics, out: Path) -> int:
    """
    Print messages per topic; warn (stderr) for each topic that saw none.

    Returns 1 when nothing at all was recorded, else 0.
    """
    for t in sorted(topics):
        print(f'  {t:36s} {counts.get(t, 0):6d}')
    silent = [t for t in sorted(topics) if not counts.get(t)]
    if len(silent) < len(topics):
        for t in silent:
            print(f'vla-ros record: warning: no message on {t}', file=sys.stderr)
    else:
        domain = os.environ.get('ROS_DOMAIN_ID', '0')
        print(f'vla-ros record: error: nothing was recorded in {out}: no message on any of '
              f'{len(topics)} topics (is the robot or sim running on ROS_DOMAIN_ID={domain}?)',
              file=sys.stderr)
        return 1
    return 0


def _ros_expert(args) -> int:
    kinds = _kinds(args)
    if len(kinds) != 1:
        raise UsageError('--expert ros records one episode: give --kinds <kind>')
    res = record_expert_ros(args.out, kinds[0], args.seed, sim=_sim_params(args))
    print(f"{res['task']} seed {res['seed']} {res['command']!r}: "
          f"{'success' if res['success'] else 'FAILED'} ({res['reason']})")
    print('\n'.join(f'  {t:36s} {n:6d}' for t, n in sorted(res['counts'].items())))
    return 0 if res['success'] else 1
