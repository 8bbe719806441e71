"""
``make demo``: the whole system, closed loop, in the headless MuJoCo world.

Starts ``mujoco_sim`` and ``vla_policy`` as processes (what ``ros2 launch vla_ros
mujoco.launch.py`` starts on a ROS install), waits until both are ready, resets the world with
a seed, sends a language command on ``/vla/command``, lets the policy act until the task's
success predicate holds or time runs out, prints success, latency and rates, writes a GIF of
the front and wrist cameras side by side, and shuts everything down.

The default bundle is ``models/default`` of this checkout or of the installed package (see
``vla_ros.harness.locate``); without one the demo stops with an error (``--random-weights``
runs the plumbing with an untrained policy).

Exit code: 0 when the task was solved and the loop worked (chunks computed, commands at rate,
frames flowing); 1 when the task failed (unless ``--allow-fail``) or anything in the loop
broke; 2 for bad usage; 128 + signal when interrupted (the nodes are stopped).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

MIN_CONTROL_RATE_FRACTION = 0.5
GIF_HEIGHT = 240  # [px]: the 96x96 camera images, upscaled so the arm is visible


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options (shared by ``vla-ros demo`` and ``python -m vla_ros.eval.demo``)."""
    from vla_ros.sim.task_suite import TaskKind
    parser.add_argument('--bundle', type=pathlib.Path, default=None,
                        help='policy bundle (default: models/default of this checkout or of '
                             'the installed package)')
    parser.add_argument('--random-weights', action='store_true',
                        help='use a random-weights bundle: the plumbing is real, the task '
                             'will fail (implies --allow-fail)')
    parser.add_argument('--task', default=TaskKind.PICK.value,
                        choices=[k.value for k in TaskKind], help='task kind')
    parser.add_argument('--colour', default='red', choices=('red', 'green', 'blue'),
                        help='cube colour')
    parser.add_argument('--seed', type=int, default=100_007, help='world seed (held-out)')
    parser.add_argument('--out', '--gif', dest='out', type=pathlib.Path,
                        default=pathlib.Path('out/demo.gif'),
                        help='GIF of the episode (front | wrist camera)')
    parser.add_argument('--allow-fail', action='store_true',
                        help='exit 0 when the loop worked even if the task failed')
    parser.add_argument('--namespace', '-n', default='',
                        help='ROS namespace of both nodes (as mujoco.launch.py '
                             "namespace:=robot1); '' = the root namespace")


def _bundle(args: argparse.Namespace) -> tuple[pathlib.Path, str]:
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.harness.locate import find_default_bundle
    if args.random_weights:
        from vla_ros.model.config import tiny_model_config  # torch: dev tools only
        from vla_ros.model.export import export_random_bundle
        out = pathlib.Path(tempfile.mkdtemp(prefix='vla_demo_bundle_'))
        cfg = tiny_model_config(cameras=('front', 'wrist'))
        return export_random_bundle(out, cfg), 'RANDOM weights'
    path, origin = (args.bundle, 'given') if args.bundle else (find_default_bundle(),
                                                               'default trained')
    load_bundle(path)  # a wrong path fails here, before any node starts
    return path, origin


def run(args: argparse.Namespace) -> int:
    """Run the demo; raises VlaRosError (one line in the CLI) when the loop cannot start."""
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.sim.task_suite import make_task
    from vla_ros.eval.episode import EpisodeRunner, write_gif

    t0 = time.monotonic()
    bundle, origin = _bundle(args)
    task = make_task(args.task, args.seed, colour=args.colour)
    expected_rate_hz = 1.0 / load_bundle(bundle).manifest.dt  # control runs at the bundle rate
    print(f'[demo] bundle {bundle} ({origin}); starting mujoco_sim + vla_policy', flush=True)
    runner = EpisodeRunner(bundle, namespace=getattr(args, 'namespace', ''))
    print(f'[demo] parameters: {runner.describe()}'.replace('\n', '\n[demo] parameters: '),
          flush=True)
    with runner:
        print(f'[demo] ready after {time.monotonic() - t0:.1f} s; seed {args.seed}; '
              f'command on {runner.namespace.rstrip("/")}/vla/command: "{task.command}"',
              flush=True)
        result = runner.run(task, args.seed, record_video=True)
    gif = write_gif(args.out, result.frames, height=GIF_HEIGHT) if result.frames else None

    rows = [('command', f'"{result.command}"'),
            ('task success', f'{"YES" if result.success else "no"} ({result.reason})'),
            ('episode (sim time / wall)', f'{result.duration_s:.1f} s / {result.wall_s:.1f} s'),
            ('policy inference (mean)', f'{result.latency_ms:.1f} ms'),
            ('frame stamp -> chunk (mean)', f'{result.e2e_ms:.1f} ms'),
            ('control rate',
             f'{result.control_rate_hz:.1f} Hz (bundle: {expected_rate_hz:.0f} Hz)'),
            ('frame rate', f'{result.frame_rate_hz:.1f} Hz'),
            ('chunks computed', str(result.chunks)),
            ('camera GIF', f'{gif} ({len(result.frames)} frames)' if gif else '(no frames)')]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f'  {key:<{width}}  {value}')

    problems = []
    if result.chunks == 0:
        problems.append('no action chunk was computed')
    if result.control_rate_hz < MIN_CONTROL_RATE_FRACTION * expected_rate_hz:
        problems.append(f'control rate {result.control_rate_hz:.1f} Hz is too low '
                        f'(bundle rate {expected_rate_hz:.1f} Hz)')
    if result.frame_rate_hz <= 0:
        problems.append('no synchronized frames')
    if not result.frames:
        problems.append('no camera images reached the demo')
    if not result.success and not (args.allow_fail or args.random_weights):
        problems.append(f'task failed: {result.reason} (--allow-fail to accept)')
    print(f'[demo] total {time.monotonic() - t0:.1f} s: '
          + ('OK' if not problems else 'FAILED: ' + '; '.join(problems)))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    from vla_ros.cli.common import ArgumentParser, run_command
    parser = ArgumentParser(prog='vla-ros demo', description=__doc__.strip().splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_command('vla-ros demo', lambda: run(args))


if __name__ == '__main__':
    sys.exit(main())
