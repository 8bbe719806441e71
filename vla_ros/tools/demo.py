"""``make demo``: the whole system, closed loop, in the headless MuJoCo world.

Starts ``mujoco_sim`` and ``vla_policy`` as processes (what ``ros2 launch vla_ros
mujoco.launch.py`` starts on a ROS install), waits until both are ready, resets the world with
a seed, sends a language command on ``/vla/command``, lets the policy act until the task's
success predicate holds or time runs out, prints success, latency and rates, writes a GIF of
the front camera, and shuts everything down.

Exit code: 0 when the loop worked (chunks computed, commands at rate, frames flowing), 1 when
anything in the loop broke, and also when ``--require-success`` is given and the task failed.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

from vla_ros.errors import VlaRosError

DEFAULT_BUNDLE = pathlib.Path('models/default')
MIN_CONTROL_RATE_FRACTION = 0.5


def _bundle(path: pathlib.Path | None) -> tuple[pathlib.Path, str]:
    if path is not None:
        return path, 'given'
    if (DEFAULT_BUNDLE / 'bundle.yaml').exists():
        return DEFAULT_BUNDLE, 'default trained'
    from vla_ros.tools.test_bundles import make_random_bundle  # torch: dev tools only

    out = pathlib.Path(tempfile.mkdtemp(prefix='vla_demo_bundle_'))
    print(f'[demo] {DEFAULT_BUNDLE} not found: using a RANDOM-weights bundle ({out}); '
          'the plumbing is real, the arm will not solve the task (run `make train`)')
    return make_random_bundle(out, cameras=('front', 'wrist')), 'random weights'


def main(argv: list[str] | None = None) -> int:
    from vla_ros.core.bundle import load_bundle
    from vla_ros.sim.task_suite import TaskKind, make_task
    from vla_ros.tools.episode import EpisodeRunner, write_gif

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bundle', type=pathlib.Path, default=None,
                        help=f'policy bundle (default: {DEFAULT_BUNDLE}, else random weights)')
    parser.add_argument('--task', default=TaskKind.PICK.value,
                        choices=[k.value for k in TaskKind], help='task kind')
    parser.add_argument('--colour', default='red', choices=('red', 'green', 'blue'))
    parser.add_argument('--seed', type=int, default=100_007, help='world seed (held-out)')
    parser.add_argument('--gif', type=pathlib.Path, default=pathlib.Path('out/demo.gif'))
    parser.add_argument('--require-success', action='store_true',
                        help='exit 1 when the task is not solved')
    args = parser.parse_args(argv)

    t0 = time.monotonic()
    bundle, origin = _bundle(args.bundle)
    task = make_task(args.task, args.seed, colour=args.colour)
    expected_rate_hz = 1.0 / load_bundle(bundle).manifest.dt  # control runs at the bundle rate
    print(f'[demo] bundle {bundle} ({origin}); starting mujoco_sim + vla_policy')
    try:
        with EpisodeRunner(bundle) as runner:
            print(f'[demo] ready after {time.monotonic() - t0:.1f} s; seed {args.seed}; '
                  f'command on /vla/command: "{task.command}"')
            result = runner.run(task, args.seed, record_video=True)
    except VlaRosError as e:
        print(f'[demo] FAILED: the loop broke: {e}', file=sys.stderr)
        return 1
    gif = write_gif(args.gif, result.frames) if result.frames else None

    rows = [('command', f'"{result.command}"'),
            ('task success', f'{"YES" if result.success else "no"} ({result.reason})'),
            ('episode (sim time / wall)', f'{result.duration_s:.1f} s / {result.wall_s:.1f} s'),
            ('policy inference (mean)', f'{result.latency_ms:.1f} ms'),
            ('frame stamp -> chunk (mean)', f'{result.e2e_ms:.1f} ms'),
            ('control rate',
             f'{result.control_rate_hz:.1f} Hz (bundle: {expected_rate_hz:.0f} Hz)'),
            ('frame rate', f'{result.frame_rate_hz:.1f} Hz'),
            ('chunks computed', str(result.chunks)),
            ('camera GIF', str(gif) if gif else '(no frames)')]
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
    if args.require_success and not result.success:
        problems.append(f'task failed: {result.reason}')
    print(f'[demo] total {time.monotonic() - t0:.1f} s: '
          + ('OK' if not problems else 'FAILED: ' + '; '.join(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
