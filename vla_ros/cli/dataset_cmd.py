"""
``vla-ros dataset``: recordings to LeRobotDatasets and back (the LeRobot bridge).

  export BAGS... --format lerobot --out DIR   MCAP bags (one episode each; a directory of bags
                                              is searched one level deep) -> a LeRobotDataset
                                              (v3.0), written by LeRobot's own library
  import DIR --out BAGS                       a LeRobotDataset (read by LeRobot's class) ->
                                              one MCAP bag per episode
  train DIR --out RUN [--steps N]             LeRobot's trainer (ACT by default) on CPU;
                                              (``--lerobot-args`` go to lerobot-train)

Frames come from the same sync core as ``vla-ros train``. LeRobot runs in its own venv
(``make lerobot-env``); the staged arrays go through a temporary directory. See docs/lerobot.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import shlex
import shutil
import tempfile

from tqdm import tqdm
from vla_ros.errors import UsageError
from vla_ros.lerobot_io.from_bags import stage_bags
from vla_ros.lerobot_io.runner import lerobot_python, run_worker
from vla_ros.lerobot_io.to_bags import staging_to_bags
from vla_ros.lerobot_io.train import checkpoint_dir, SMALL_ACT, train_lerobot
from vla_ros.model.dataset import find_bags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest='action', required=True, metavar='ACTION',
                                help='export, import or train')
    ex = sub.add_parser('export', help='bags -> LeRobotDataset')
    ex.add_argument('bags', nargs='+', type=Path, help='bag directories (or their parents)')
    ex.add_argument('--format', choices=['lerobot'], default='lerobot')
    ex.add_argument('--out', required=True, type=Path, help='dataset root (must not exist)')
    ex.add_argument('--repo-id', default='local/vla_ros', help='the dataset repo_id')
    ex.add_argument('--fps', type=int, default=0,
                    help='frame rate [Hz] (default: the primary camera rate of the first bag)')
    im = sub.add_parser('import', help='LeRobotDataset -> bags')
    im.add_argument('dataset', type=Path, help='dataset root (with meta/info.json)')
    im.add_argument('--out', required=True, type=Path, help='directory for the bags')
    im.add_argument('--repo-id', default='local/vla_ros')
    tr = sub.add_parser('train', help="LeRobot's trainer on a LeRobotDataset (CPU)")
    tr.add_argument('dataset', type=Path)
    tr.add_argument('--out', required=True, type=Path, help='lerobot-train output_dir')
    tr.add_argument('--policy', default='act', help='LeRobot policy type')
    tr.add_argument('--steps', type=int, default=2000)
    tr.add_argument('--batch-size', type=int, default=8)
    tr.add_argument('--log-freq', type=int, default=50, help='loss log period [steps]')
    tr.add_argument('--save-freq', type=int, default=0,
                    help='checkpoint period [steps] (0: at the end)')
    tr.add_argument('--chunk-size', type=int, default=20, help='ACT chunk size')
    tr.add_argument('--small', action='store_true', help='a tiny ACT (quick round trip)')
    tr.add_argument('--repo-id', default='local/vla_ros')
    tr.add_argument('--lerobot-args', default='',
                    help="more lerobot-train arguments, one string (e.g. '--log_freq=10')")


def _bar(total: int, desc: str):

    return tqdm(total=total, desc=desc, unit='ep', leave=False)


def run(args: argparse.Namespace) -> int:

    lerobot_python()  # fail before any work when the LeRobot venv is missing
    tmp = Path(tempfile.mkdtemp(prefix='vla_ros_lerobot_'))
    try:
        if args.action == 'export':
            return _export(args, tmp, run_worker)
        if args.action == 'train':
            return _train(args, run_worker)
        return _import(args, tmp, run_worker)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _export(args, tmp: Path, run_worker) -> int:

    if args.out.exists():
        raise UsageError(f'--out {args.out} exists; choose a new dataset directory')
    bags = find_bags(args.bags)
    if not bags:
        raise UsageError(f'no bags (directories with metadata.yaml) in {args.bags}')
    bar = _bar(len(bags), 'sync')
    meta = stage_bags(bags, tmp, fps=args.fps or None,
                      progress=lambda i, bag, n: (bar.update(1), bar.set_postfix_str(
                          f'{bag.name}: {n} frames')))
    bar.close()
    print(f'staged {meta.episodes} episodes at {meta.fps} Hz (cameras {meta.cameras}); '
          'writing the LeRobotDataset')
    run_worker(['write', str(tmp), str(args.out), '--repo-id', args.repo_id])
    print(f'wrote {args.out} (LeRobotDataset v3.0, repo_id {args.repo_id})')
    return 0


def _import(args, tmp: Path, run_worker) -> int:

    if not (args.dataset / 'meta' / 'info.json').exists():
        raise UsageError(f'{args.dataset} is not a LeRobotDataset (no meta/info.json)')
    staging = tmp / 'staging'
    run_worker(['read', str(args.dataset), str(staging), '--repo-id', args.repo_id])
    bags = staging_to_bags(staging, args.out)
    print(f'wrote {len(bags)} bags to {args.out}')
    return 0


def _train(args, run_worker) -> int:

    extra = [*(SMALL_ACT if args.small else ()), *shlex.split(args.lerobot_args)]
    losses = train_lerobot(args.dataset, args.out, run_worker=run_worker, policy=args.policy,
                           steps=args.steps, batch_size=args.batch_size,
                           chunk_size=args.chunk_size, log_freq=args.log_freq,
                           save_freq=args.save_freq, extra=extra, repo_id=args.repo_id)
    if losses:
        print(f'loss {losses[0][1]:.3f} (step {losses[0][0]}) -> {losses[-1][1]:.3f} '
              f'(step {losses[-1][0]})')
    print(f'checkpoint: {checkpoint_dir(args.out)}')
    print(f'then: vla-ros export --from-lerobot {checkpoint_dir(args.out)} --out BUNDLE')
    return 0
