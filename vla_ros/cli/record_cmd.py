"""``vla-ros record``: topics -> MCAP bag, as a user records teleop on a real robot.

Modes:
  live (default)     record the demonstration topics from a running robot or sim until Ctrl-C
                     or --duration (what ``ros2 bag record`` does);
  --expert lockstep  fast path: the scripted expert drives SimWorld in lockstep and the same
                     topics/messages are written directly (one bag per episode);
  --expert ros       the expert as a teleoperator through the real graph: ``mujoco_sim`` as a
                     process, expert commands over DDS, recorded from the wire.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from vla_ros.errors import ProcessError, UsageError


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
    parser.add_argument('--kinds', default='all', help='expert: task kinds or all')
    parser.add_argument('--episodes', type=int, default=10, help='lockstep: per task kind')
    parser.add_argument('--seed', type=int, default=0, help='expert: first seed')
    parser.add_argument('--image-size', type=int, default=96, help='expert: camera size [px]')
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
    from vla_ros.cli.common import parse_choices
    from vla_ros.sim.task_suite import TaskKind
    return parse_choices(args.kinds, [k.value for k in TaskKind], 'task kind')


def _lockstep(args) -> int:
    from tqdm import tqdm

    from vla_ros.tools.datagen import generate
    kinds = _kinds(args)
    bar = tqdm(total=args.episodes * len(kinds), desc='episodes', unit='ep')
    failed = []

    def progress(rec) -> None:
        if rec.success:
            bar.update(1)
        else:
            failed.append(rec)
    recs = generate(args.out, kinds=kinds, episodes_per_kind=args.episodes,
                    seed_start=args.seed, image_size=args.image_size, noise_rad=args.noise,
                    progress=progress)
    bar.close()
    ok = [r for r in recs if r.success]
    print(f'{len(ok)} demonstrations in {args.out} ({len(failed)} expert failures dropped)')
    return 0


def _live(args) -> int:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from vla_ros.cli.common import nearest
    from vla_ros.tools import bagio
    from vla_ros.tools.recorder import TopicRecorder
    topics = dict(bagio.DEFAULT_TOPICS)
    if args.topics:
        wanted = args.topics.split(',')
        for t in wanted:
            if t not in topics:
                raise UsageError(f'--topics: unknown topic {t!r}{nearest(t, topics)}; known: '
                                 f'{", ".join(topics)}')
        topics = {t: topics[t] for t in wanted}
    rclpy.init()
    node = rclpy.create_node('vla_recorder', parameter_overrides=[
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
    """Print messages per topic; warn (stderr) for each topic that saw none. Returns 1 when
    nothing at all was recorded, else 0."""
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


def record_expert_ros(out: Path, kind: str, seed: int, *, image_size: int = 96,
                      settle_s: float = 1.0, log_dir: Path | None = None) -> dict:
    """One expert episode through the ROS graph into bag ``out``; returns a summary."""
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from std_msgs.msg import UInt32

    from vla_ros.sim.robot import ROBOT
    from vla_ros.sim.task_suite import make_task
    from vla_ros.sim.world import SimWorld, WorldConfig
    from vla_ros.tools import bagio
    from vla_ros.tools.episode import SIM_PARAMS
    from vla_ros.tools.procs import NodeProcess, ros_args, wait_until
    from vla_ros.tools.recorder import ExpertTeleop, TopicRecorder
    domain = random.randint(20, 200)
    os.environ['ROS_DOMAIN_ID'] = str(domain)
    task = make_task(kind, seed)
    model = SimWorld(WorldConfig(image_width=32, image_height=32)).model  # IK model only
    log = (log_dir or out.parent) / f'{out.name}.mujoco_sim.log'
    sim = NodeProcess('mujoco_sim', ros_args(params={
        **SIM_PARAMS, 'image_width': image_size, 'image_height': image_size, 'seed': seed}),
        env={'ROS_DOMAIN_ID': str(domain)}, log_path=log).start()
    ctx = rclpy.Context()
    rclpy.init(context=ctx, domain_id=domain)
    node = rclpy.create_node('vla_expert_recorder', context=ctx, parameter_overrides=[
        rclpy.parameter.Parameter('use_sim_time', value=True)])
    ex = MultiThreadedExecutor(num_threads=2, context=ctx)
    ex.add_node(node)
    try:
        teleop = ExpertTeleop(node, model, ROBOT.home_positions(), task, seed)
        reset = node.create_publisher(UInt32, '/sim/reset_seed', 10)
        spin = lambda: ex.spin_once(timeout_sec=0.05)  # noqa: E731
        if not wait_until(lambda: spin() or sim.check() or teleop.last_state is not None,
                          30.0):
            raise ProcessError(f'no /sim/task_state from mujoco_sim within 30 s (log: {log})')
        ep = teleop.last_state.episode
        reset.publish(UInt32(data=seed))
        wait_until(lambda: spin() or teleop.last_state.episode > ep, 10.0)
        with bagio.BagWriter(out) as writer:
            rec = TopicRecorder(node, writer)
            wait_until(lambda: spin() or False, 0.3)
            teleop.start()
            t_end = time.monotonic() + 3 * task.timeout_s + 10
            while time.monotonic() < t_end:
                spin()
                sim.check()
                st = teleop.last_state
                if teleop.done_at is not None and st.sim_time >= teleop.done_at + settle_s:
                    break
            rec.recording = False
    finally:
        ex.shutdown()
        node.destroy_node()
        ctx.try_shutdown()
        sim.stop()
    m = teleop.monitor
    return {'bag': str(out), 'task': task.name, 'command': task.command, 'seed': seed,
            'success': m.success, 'reason': m.reason, 'counts': rec.counts}


def _ros_expert(args) -> int:
    kinds = _kinds(args)
    if len(kinds) != 1:
        raise UsageError('--expert ros records one episode: give --kinds <kind>')
    res = record_expert_ros(args.out, kinds[0], args.seed, image_size=args.image_size)
    print(f"{res['task']} seed {res['seed']} {res['command']!r}: "
          f"{'success' if res['success'] else 'FAILED'} ({res['reason']})")
    print('\n'.join(f'  {t:36s} {n:6d}' for t, n in sorted(res['counts'].items())))
    return 0 if res['success'] else 1
