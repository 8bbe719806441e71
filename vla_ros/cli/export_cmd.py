"""
``vla-ros export``: a reference VLA policy (checkpoint or fresh) -> verified policy bundle.

``--from-lerobot DIR`` takes a LeRobot ACT or SmolVLA checkpoint instead (its ``pretrained_model``
directory): LeRobot's own classes build and export it in the LeRobot venv, the normalisation
goes into bundle.yaml, and the bundle's chunk is checked against LeRobot's pipeline
(docs/lerobot.md).

``--checkpoint`` takes what ``vla-ros train`` writes (``out/train/<name>/checkpoint.pt``): the
architecture, text encoder kind and normalization come from the checkpoint, and the options
that describe a fresh model (``--fusion``, ``--text-encoder``, ``--cameras``, ...) are ignored.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import time

from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.errors import UsageError
from vla_ros.lerobot_io.runner import run_worker
from vla_ros.lerobot_io.to_bundle import from_lerobot
from vla_ros.model.config import FROZEN_TEXT_DIMS, ModelConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', required=True, type=Path, help='bundle directory to write')
    parser.add_argument('--checkpoint', type=Path,
                        help='checkpoint of `vla-ros train` (or train_utils.save_checkpoint); '
                             'default: a freshly initialised model')
    parser.add_argument('--from-lerobot', type=Path, default=None, metavar='CHECKPOINT_DIR',
                        help='a LeRobot ACT or SmolVLA checkpoint (config.json + '
                             'model.safetensors + processor files) -> bundle')
    parser.add_argument('--fps', type=float, default=None,
                        help='--from-lerobot: control rate [Hz] (default: the training '
                             "dataset's fps, read via train_config.json)")
    parser.add_argument('--joint-names', default='',
                        help='--from-lerobot: comma-separated state joint names (default: the '
                             "training dataset's feature names)")
    parser.add_argument('--rtc', action='store_true',
                        help="--from-lerobot SmolVLA: LeRobot's real-time chunking guidance in "
                             'the graph (action_prefix + prefix_mask inputs; also when the '
                             "checkpoint's rtc_config is enabled)")
    parser.add_argument('--fusion', default='cross_attention',
                        choices=['early', 'late', 'cross_attention', 'moe'],
                        help='fresh model: how modality tokens are fused (docs/models.md)')
    parser.add_argument('--text-encoder', default='bytes',
                        choices=['bytes', 'minilm', 'wordbag', 'grounded'],
                        help='fresh model: bytes (small, trainable), minilm (frozen '
                             'all-MiniLM-L6-v2), wordbag (MiniLM word pieces, PCA-64) or '
                             'grounded (frozen MiniLM + colour-name hue, the default policy)')
    parser.add_argument('--cameras', default='front',
                        help='fresh model: comma-separated camera names')
    parser.add_argument('--image-size', type=int, default=224,
                        help='fresh model: square image size [px]')
    parser.add_argument('--horizon', type=int, default=16,
                        help='fresh model: actions per chunk H')
    parser.add_argument('--dt', type=float, default=0.02,
                        help='fresh model: time between actions [s]')
    parser.add_argument('--train-steps', type=int, default=0,
                        help='smoke-train on synthetic data first (demo only)')
    parser.add_argument('--model-id', default=None,
                        help='model id in bundle.yaml (default: vla-<fusion>)')
    parser.add_argument('--action-kind', default='absolute_joint_position',
                        help='action kind in bundle.yaml (docs/bundle.md)')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset (>= 17)')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='onnxruntime vs torch parity tolerance')
    parser.add_argument('--int8', action='store_true',
                        help='int8 dynamic quantization (error is measured and printed)')


def run(args: argparse.Namespace) -> int:
    if args.from_lerobot is not None:
        return _run_lerobot(args)
    if args.checkpoint and not args.checkpoint.is_file():
        raise UsageError(f'--checkpoint: no such file {str(args.checkpoint)!r}')
    # optional heavy dependency: torch
    import torch

    from vla_ros.model.export import NormStats, export_bundle
    from vla_ros.model.policy import VlaPolicyNet
    from vla_ros.model.text_factory import make_text_encoder
    from vla_ros.model.train import competence_for
    from vla_ros.model.train_utils import checkpoint_commands, load_checkpoint, train_steps
    t0 = time.monotonic()
    if args.checkpoint:
        print(f'loading checkpoint {args.checkpoint}')
        policy, text_state, stats_d = load_checkpoint(args.checkpoint)
        stats = NormStats(**{k: tuple(v) for k, v in stats_d.items()})
        commands = checkpoint_commands(args.checkpoint)
    else:
        text_state, stats, commands = None, NormStats(), []
        cfg = ModelConfig(
            fusion=args.fusion, cameras=tuple(args.cameras.split(',')),
            image_size=(args.image_size, args.image_size), horizon=args.horizon,
            dt=args.dt, text_encoder=args.text_encoder,
            text_dim=FROZEN_TEXT_DIMS.get(args.text_encoder, 64))
        torch.manual_seed(0)
        policy = VlaPolicyNet(cfg)
        print('no --checkpoint: exporting a freshly initialised model '
              '(random weights; fine for plumbing, not for a robot)')
    cfg = policy.cfg
    text = make_text_encoder(cfg.text_encoder, cfg.text_dim, text_state)
    if args.train_steps:
        losses = train_steps(policy, steps=args.train_steps,
                             on_step=lambda i, loss: print(f'      train step {i + 1}: '
                                                           f'loss {loss:.4f}'))
        print(f'smoke training: loss {losses[0]:.4f} -> {losses[-1]:.4f}')
    model_id = args.model_id or f'vla-{cfg.fusion}'
    report = export_bundle(policy, text, args.out, model_id=model_id, stats=stats,
                           action_kind=args.action_kind, opset=args.opset,
                           atol=args.atol, int8=args.int8,
                           provenance={'checkpoint': str(args.checkpoint or ''),
                                       'text_encoder': cfg.text_encoder},
                           competence=competence_for(cfg.text_encoder, commands), log=print)
    bundle = load_bundle(args.out)  # what the robot will do: verify it end to end
    m = bundle.manifest
    rows = [('bundle', str(args.out)), ('model id', m.model_id), ('fusion', cfg.fusion),
            ('parameters', f'{report.params / 1e6:.2f} M'),
            ('policy.onnx', f'{report.policy_bytes / 1e6:.2f} MB'
                            + (' (int8)' if args.int8 else ' (fp32)')),
            ('opset', str(args.opset)),
            ('parity max |ort - torch|', f'{report.parity_max_abs:.2e} (atol {args.atol:g})'),
            ('inputs', ', '.join(s.name for s in m.inputs)),
            ('outputs', ', '.join(o.name for o in m.outputs)),
            ('actions', f'{m.horizon} x {len(m.action_names)} {m.action_kind}, '
                        f'dt {m.dt:g} s'),
            ('time', f'{time.monotonic() - t0:.1f} s')]
    if report.int8_max_abs is not None:
        rows.insert(6, ('int8 error', f'max {report.int8_max_abs:.3g}, '
                                      f'{100 * report.int8_rel_std:.2f} % of output std'))
    width = max(len(k) for k, _ in rows)
    print('\n' + '\n'.join(f'  {k:<{width}}  {v}' for k, v in rows))
    return 0


def _run_lerobot(args: argparse.Namespace) -> int:

    joints = [j for j in args.joint_names.split(',') if j] or None
    b = from_lerobot(args.from_lerobot, args.out, run_worker=run_worker, fps=args.fps,
                     joint_names=joints, model_id=args.model_id, rtc=args.rtc)
    print(f'wrote {b.path} ({b.policy_type}, chunk {b.chunk_size}, cameras '
          f'{list(b.cameras)}); parity with LeRobot: max |diff| {b.parity_std:.2e} action std')
    print(f'then: vla-ros bundle check {b.path}')
    return 0
