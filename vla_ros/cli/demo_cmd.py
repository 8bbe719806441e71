"""
``vla-ros demo``: the end-to-end demo (same as ``make demo``).

Starts ``mujoco_sim`` and ``vla_policy``, sends a language command, runs one episode, prints
success, latencies and rates, and writes a GIF (front | wrist camera). Exits 1 when the task
fails (``--allow-fail`` accepts that) or the loop breaks.
"""

from __future__ import annotations

import argparse
import pathlib

from vla_ros.eval.demo import DEFAULT_GIF, DEFAULT_SEED, DemoOptions, run_demo
from vla_ros.sim.task_suite import TaskKind


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED, help='world seed (held-out)')
    parser.add_argument('--out', '--gif', dest='out', type=pathlib.Path, default=DEFAULT_GIF,
                        help='GIF of the episode (front | wrist camera)')
    parser.add_argument('--allow-fail', action='store_true',
                        help='exit 0 when the loop worked even if the task failed')
    parser.add_argument('--namespace', '-n', default='',
                        help='ROS namespace of both nodes (as mujoco.launch.py '
                             "namespace:=robot1); '' = the root namespace")
    parser.add_argument('--speak', action='store_true',
                        help='say the command into the sim microphone (espeak-ng) instead of '
                             'typing it: speech_command recognizes it and commands the policy')


def run(args: argparse.Namespace) -> int:
    return run_demo(DemoOptions(bundle=args.bundle, random_weights=args.random_weights,
                                task=args.task, colour=args.colour, seed=args.seed,
                                out=args.out, allow_fail=args.allow_fail,
                                namespace=args.namespace, speak=args.speak))
