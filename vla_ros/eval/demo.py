"""
``make demo`` / ``vla-ros demo``: the whole system, closed loop, in the headless MuJoCo world.

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

from dataclasses import dataclass, field
import pathlib
import tempfile
import time

from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.eval.episode import EpisodeRunner
from vla_ros.eval.video import write_gif
from vla_ros.harness.locate import find_default_bundle
from vla_ros.model.config import tiny_model_config
from vla_ros.sim.task_suite import make_task, TaskKind

MIN_CONTROL_RATE_FRACTION = 0.5
GIF_HEIGHT = 240  # [px]: the 96x96 camera images, upscaled so the arm is visible
DEFAULT_SEED = 100_007  # a held-out world seed
DEFAULT_GIF = pathlib.Path('out/demo.gif')


@dataclass(frozen=True)
class DemoOptions:
    """What ``vla-ros demo`` runs (its command-line options, see :mod:`vla_ros.cli.demo_cmd`)."""

    bundle: pathlib.Path | None = None  # None: the default bundle (vla_ros.harness.locate)
    random_weights: bool = False        # a random-weights bundle: the task will fail
    task: str = TaskKind.PICK.value     # a TaskKind value
    colour: str = 'red'                 # cube colour
    seed: int = DEFAULT_SEED            # world seed
    out: pathlib.Path = field(default=DEFAULT_GIF)  # GIF of the episode (front | wrist)
    allow_fail: bool = False            # exit 0 when the loop worked, even if the task failed
    namespace: str = ''                 # ROS namespace of both nodes; '' = the root namespace
    speak: bool = False                 # say the command into the sim microphone (speech_command)


def _bundle(opts: DemoOptions) -> tuple[pathlib.Path, str]:
    if opts.random_weights:
        # optional heavy dependency: torch (via vla_ros.model), for --random-weights only
        from vla_ros.model.export import export_random_bundle
        out = pathlib.Path(tempfile.mkdtemp(prefix='vla_demo_bundle_'))
        cfg = tiny_model_config(cameras=('front', 'wrist'))
        return export_random_bundle(out, cfg), 'RANDOM weights'
    path, origin = (opts.bundle, 'given') if opts.bundle else (find_default_bundle(),
                                                               'default trained')
    load_bundle(path)  # a wrong path fails here, before any node starts
    return path, origin


def run_demo(opts: DemoOptions) -> int:
    """
    Run the demo; returns the exit status (0 OK, 1 the task failed or the loop broke).

    Raises VlaRosError (one line in the CLI) when the loop cannot start.
    """
    t0 = time.monotonic()
    bundle, origin = _bundle(opts)
    task = make_task(opts.task, opts.seed, colour=opts.colour)
    expected_rate_hz = 1.0 / load_bundle(bundle).manifest.dt  # control runs at the bundle rate
    print(f'[demo] bundle {bundle} ({origin}); starting mujoco_sim + vla_policy'
          + (' + speech_command' if opts.speak else ''), flush=True)
    runner = EpisodeRunner(bundle, namespace=opts.namespace, speak=opts.speak)
    print(f'[demo] parameters: {runner.describe()}'.replace('\n', '\n[demo] parameters: '),
          flush=True)
    with runner:
        print(f'[demo] ready after {time.monotonic() - t0:.1f} s; seed {opts.seed}; '
              + (f'spoken into the microphone: "{task.command}"' if opts.speak else
                 f'command on {runner.namespace.rstrip("/")}/vla/command: "{task.command}"'),
              flush=True)
        result = runner.run(task, opts.seed, record_video=True)
    gif = write_gif(opts.out, result.frames, height=GIF_HEIGHT) if result.frames else None

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
    if opts.speak:  # what the policy got: the words speech_command heard
        rows.insert(1, ('heard (speech_command)', f'"{result.policy_command}"'))
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
    if not result.success and not (opts.allow_fail or opts.random_weights):
        problems.append(f'task failed: {result.reason} (--allow-fail to accept)')
    print(f'[demo] total {time.monotonic() - t0:.1f} s: '
          + ('OK' if not problems else 'FAILED: ' + '; '.join(problems)))
    return 1 if problems else 0
