"""
``vla-ros train``: demonstration bags -> trained policy -> verified bundle.

Bags are read through the same sync core the policy node runs, samples cached as .npz. Every
file goes under the directories given (nothing relative to the current directory): the bundle
in ``--out``, the checkpoint in ``--work-dir`` (default ``<out>/../train/<out name>``, e.g.
``out/train/<name>/checkpoint.pt`` for ``--out out/<name>``, which ``vla-ros export
--checkpoint`` reads), the sample cache in ``--cache`` (default ``<out>/../cache``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vla_ros.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('data', nargs='+', type=Path,
                        help='bag directories, or directories holding bags (MCAP/sqlite3)')
    parser.add_argument('--out', required=True, type=Path, help='bundle directory to write')
    parser.add_argument('--work-dir', type=Path, default=None,
                        help='checkpoint directory (default: <out>/../train/<out name>)')
    parser.add_argument('--cache', type=Path, default=None,
                        help='sample cache directory (default: <out>/../cache)')
    parser.add_argument('--fusion', default='cross_attention',
                        choices=['early', 'late', 'cross_attention', 'moe'],
                        help='how modality tokens are fused (docs/models.md)')
    parser.add_argument('--steps', type=int, default=8000, help='optimizer steps (max)')
    parser.add_argument('--minutes', type=float, default=0.0,
                        help='wall-time budget, 0 = none; the schedule ends at whichever of '
                             'steps and time comes first')
    parser.add_argument('--batch', type=int, default=64, help='samples per optimizer step')
    parser.add_argument('--lr', type=float, default=1e-3,
                        help='peak learning rate (200-step warm-up, cosine decay)')
    parser.add_argument('--modality-dropout', type=float, default=0.15,
                        help='probability of marking each non-proprio modality absent')
    parser.add_argument('--image-size', type=int, default=64, help='model image size [px]')
    parser.add_argument('--image-stem', default='keypoints', choices=['keypoints', 'vit', 'conv'],
                        help='image encoder: FiLM + spatial-softmax keypoints, ViT patches, or '
                             'a CoordConv stem under ViT blocks')
    parser.add_argument('--text-encoder', default='grounded',
                        choices=['grounded', 'wordbag', 'minilm'],
                        help='grounded: frozen MiniLM + colour-name hue (default); wordbag: '
                             'frozen word vectors + trained pooling; minilm: frozen MiniLM')
    parser.add_argument('--word-dropout', type=float, default=0.0,
                        help='probability of dropping each word-piece of the command')
    parser.add_argument('--shift-px', type=int, default=1,
                        help='random image shift augmentation [px]')
    parser.add_argument('--d-model', type=int, default=96,
                        help='width of the fusion transformer (token size)')
    parser.add_argument('--horizon', type=int, default=10, help='actions per chunk H')
    parser.add_argument('--dt', type=float, default=0.1, help='time between actions [s]')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (1: two threads on a shared 2-core CPU thrashed, '
                             '10x slower)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of initialisation, batches and augmentation')
    parser.add_argument('--model-id', default='',
                        help='model id in bundle.yaml (default: vla-sim-<fusion>)')
    parser.add_argument('--int8', action='store_true', help='int8 dynamic quantization')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    parser.add_argument('--delay-aware', action='store_true',
                        help='train with an action prefix (real-time chunking, docs/bundle.md '
                             '"Action prefix"): d steps of the demo\'s own actions, d per '
                             'example 0 (25 %%) or uniform in 1..--max-delay; loss on the steps '
                             'after the prefix')
    parser.add_argument('--max-delay', type=int, default=0,
                        help='delay-aware: the longest prefix [steps] (default: horizon - 2)')
    parser.add_argument('--prefix-noise', type=float, default=0.0,
                        help='delay-aware: Gaussian noise on the prefix [normalized units]')
    parser.add_argument('--resume', action='store_true',
                        help='continue an interrupted run from <work-dir>/train_state.pt '
                             '(saved every 1000 steps) when its settings match')


def run(args: argparse.Namespace) -> int:
    for p in args.data:
        if not p.is_dir():
            raise UsageError(f'no such bag or directory of bags: {str(p)!r}')
    max_delay = (args.max_delay or args.horizon - 2) if args.delay_aware else 0
    if args.delay_aware and not 0 < max_delay < args.horizon:
        raise UsageError(f'--max-delay must be in 1..{args.horizon - 1} (horizon - 1), got '
                         f'{max_delay}')
    # optional heavy dependency: torch (via vla_ros.model.train)
    from vla_ros.model.train import (LOSS_WINDOW, TrainConfig, default_policy_config,
                                     default_work_dir, train)
    policy = default_policy_config(args.fusion, image_size=args.image_size,
                                   d_model=args.d_model, horizon=args.horizon, dt=args.dt,
                                   modality_dropout=args.modality_dropout,
                                   image_stem=args.image_stem,
                                   text_encoder=args.text_encoder, max_delay=max_delay)
    tc = TrainConfig(data=tuple(str(p) for p in args.data), out=str(args.out),
                     fusion=args.fusion, steps=args.steps, minutes=args.minutes,
                     batch=args.batch, lr=args.lr, modality_dropout=args.modality_dropout,
                     seed=args.seed, threads=args.threads, shift_px=args.shift_px,
                     word_dropout=args.word_dropout,
                     cache_dir=str(args.cache or args.out.parent / 'cache'),
                     work_dir=str(args.work_dir or default_work_dir(args.out)),
                     model_id=args.model_id, int8=args.int8, policy=policy,
                     resume=args.resume, prefix_noise=args.prefix_noise)
    res = train(tc, progress=not args.no_progress)
    size = sum(f.stat().st_size for f in res.bundle.iterdir()) / 1e6
    print(f'\n  bundle      {res.bundle} ({size:.1f} MB)\n  checkpoint  {res.checkpoint}\n'
          f'  data        {res.episodes} episodes, {res.samples} samples\n'
          f'  model       {args.fusion}, {res.params / 1e6:.2f} M params\n'
          f'  training    {res.steps} steps, loss (mean of {LOSS_WINDOW} steps) '
          f'{res.loss_start:.4f} -> {res.loss_end:.4f}, {res.seconds / 60:.1f} min')
    return 0
