"""
The LeRobot side of the bridge: ``python -m vla_ros.lerobot_io.worker CMD ...``.

It runs in ``.venv-lerobot`` (lerobot 0.4.4, torch CPU) and imports only numpy, torch,
lerobot and the numpy-only :mod:`~vla_ros.lerobot_io.staging` (never rclpy or onnxruntime).

Commands: ``write STAGING DATASET`` (LeRobotDataset.create / add_frame / save_episode /
finalize), ``read DATASET STAGING`` (LeRobotDataset -> staging), ``export CHECKPOINT OUT``
(:mod:`~vla_ros.lerobot_io.policy_export`), ``train ARGS...`` (LeRobot's ``lerobot-train``),
``smolvla-checkpoint OUT [--reduced]`` (a random SmolVLA saved as LeRobot saves it;
:mod:`~vla_ros.lerobot_io.smolvla_export`), ``diffusion-checkpoint OUT [--reduced]`` (the same
for Diffusion Policy; :mod:`~vla_ros.lerobot_io.diffusion_export`), ``time CHECKPOINT``
(LeRobot's own chunk latency: preprocessor -> ``predict_action_chunk`` -> postprocessor; one
JSON line).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

import numpy as np
from vla_ros.lerobot_io import compat  # isort: skip  (before lerobot)
from vla_ros.lerobot_io import diffusion_export
from vla_ros.lerobot_io.policy_export import export_checkpoint, time_chunks
from vla_ros.lerobot_io.smolvla_export import make_checkpoint
from vla_ros.lerobot_io.staging import (CAMERA_FEATURE, FEATURE, IMAGE_PREFIX, pads_from_names,
                                        read_episode, SIDECAR, StagingMeta, taxel_names,
                                        write_episode)


def _features(meta: StagingMeta) -> dict:
    f: dict = {CAMERA_FEATURE + c: {'dtype': 'video', 'shape': tuple(meta.image_shape[c]),
                                    'names': ['height', 'width', 'channels']}
               for c in meta.cameras}
    vec = {'state': meta.joint_names, 'velocity': meta.joint_names,
           'action': meta.action_names, 'presence': meta.modality_keys}
    if meta.audio_samples:
        vec['audio'] = [f'sample_{i}' for i in range(meta.audio_samples)]
    if meta.tactile_size:
        vec['tactile'] = taxel_names(meta.tactile_pads)
    for key, names in vec.items():
        f[FEATURE[key]] = {'dtype': 'float32', 'shape': (len(names),), 'names': list(names)}
    return f


def write(staging: Path, root: Path, repo_id: str) -> None:
    """Write a staging directory as a LeRobotDataset at ``root`` (LeRobot encodes videos)."""
    # optional heavy dependency: lerobot
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    meta = StagingMeta.read(staging)
    feats = _features(meta)
    ds = LeRobotDataset.create(repo_id, fps=meta.fps, root=root, features=feats,
                               robot_type=meta.robot_type, use_videos=True)
    for i in range(meta.episodes):
        ep = read_episode(staging, i)
        for t in range(len(ep['action'])):
            frame = {CAMERA_FEATURE + c: ep[IMAGE_PREFIX + c][t] for c in meta.cameras}
            for key, name in FEATURE.items():
                if name in feats:
                    frame[name] = ep[key][t].astype(np.float32)
            frame['task'] = str(ep['task'][t])
            ds.add_frame(frame)
        ds.save_episode()
        print(f'[lerobot] episode {i + 1}/{meta.episodes}: {len(ep["action"])} frames',
              flush=True)
    ds.finalize()
    side = {'format': 'vla_ros/1', 'audio_rate': meta.audio_rate,
            'audio_samples': meta.audio_samples, 'tactile_pads': meta.tactile_pads,
            'modality_keys': meta.modality_keys, 'source': meta.source,
            'recorded_with': meta.recorded_with}
    (Path(root) / 'meta' / SIDECAR).write_text(json.dumps(side, indent=1))


def read(root: Path, staging: Path, repo_id: str) -> None:
    """Read a LeRobotDataset (ours or any v3.0) into staging, through LeRobot's class."""
    # optional heavy dependency: lerobot
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset(repo_id, root=root)
    feats = ds.meta.features
    cams = [k[len(CAMERA_FEATURE):] for k in feats if k.startswith(CAMERA_FEATURE)]
    side_path = Path(root) / 'meta' / SIDECAR
    side = json.loads(side_path.read_text()) if side_path.exists() else {}

    def names(key: str, n: int, prefix: str) -> list[str]:
        got = feats.get(key, {}).get('names')
        got = list(got.get('motors', got)) if isinstance(got, dict) else got
        if got and len(got) == n:
            return [str(x) for x in got]
        return [f'{prefix}{i}' for i in range(n)]

    state_n = feats['observation.state']['shape'][0]
    act_n = feats['action']['shape'][0]
    tac = feats.get(FEATURE['tactile'])
    meta = StagingMeta(
        fps=int(ds.fps), cameras=cams, robot_type=ds.meta.robot_type or 'unknown',
        image_shape={c: _hwc(feats[CAMERA_FEATURE + c]) for c in cams},
        joint_names=names('observation.state', state_n, 'joint_'),
        action_names=names('action', act_n, 'action_'),
        audio_rate=int(side.get('audio_rate', 0)),
        audio_samples=int(feats.get(FEATURE['audio'], {}).get('shape', [0])[0]),
        tactile_pads=side.get('tactile_pads') or (pads_from_names(tac['names']) if tac else []),
        modality_keys=side.get('modality_keys') or [*(f'image/{c}' for c in cams), 'joints',
                                                    'language'],
        episodes=ds.meta.total_episodes, source=[str(root)],
        recorded_with=side.get('recorded_with') or {})
    staging.mkdir(parents=True, exist_ok=True)
    for e in range(meta.episodes):
        lo = int(ds.meta.episodes['dataset_from_index'][e])
        hi = int(ds.meta.episodes['dataset_to_index'][e])
        items = [ds[i] for i in range(lo, hi)]
        ep = {IMAGE_PREFIX + c: np.stack([_uint8_hwc(x[CAMERA_FEATURE + c]) for x in items])
              for c in cams}
        for key, name in FEATURE.items():
            if name in feats:
                ep[key] = np.stack([x[name].numpy() for x in items]).astype(np.float32)
        ep['task'] = np.asarray([x['task'] for x in items], dtype=str)
        ep['stamp_ns'] = np.asarray([int(round(float(x['timestamp']) * 1e9)) for x in items],
                                    np.int64)
        write_episode(staging, e, ep)
        print(f'[lerobot] read episode {e + 1}/{meta.episodes}: {hi - lo} frames', flush=True)
    meta.write(staging)


def _hwc(ft: dict) -> list[int]:
    shape = list(ft['shape'])
    return shape if ft['names'][2] in ('channel', 'channels') else [*shape[1:], shape[0]]


def _uint8_hwc(img) -> np.ndarray:
    """Convert LeRobot's float [3, H, W] in [0, 1] to uint8 [H, W, 3]."""
    a = img.numpy().transpose(1, 2, 0)
    return np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    compat.apply()
    if argv and argv[0] == 'train':
        # optional heavy dependency: lerobot
        from lerobot.scripts import lerobot_train

        sys.argv = ['lerobot-train', *argv[1:]]
        lerobot_train.main()
        return 0
    p = argparse.ArgumentParser(prog='vla_ros.lerobot_io.worker')
    sub = p.add_subparsers(dest='cmd', required=True)
    for name in ('write', 'read'):
        s = sub.add_parser(name)
        s.add_argument('src', type=Path)
        s.add_argument('dst', type=Path)
        s.add_argument('--repo-id', default='local/vla_ros')
    s = sub.add_parser('export')
    s.add_argument('checkpoint', type=Path)
    s.add_argument('out', type=Path)
    s.add_argument('--rtc', action='store_true', help='SmolVLA: RTC guidance in the graph')
    for name in ('smolvla-checkpoint', 'diffusion-checkpoint'):
        s = sub.add_parser(name)
        s.add_argument('out', type=Path)
        s.add_argument('--reduced', action='store_true', help='the test size')
        s.add_argument('--camera', action='append', default=[], metavar='NAME=HxW')
        s.add_argument('--threads', type=int, default=1)
    s = sub.add_parser('time')
    s.add_argument('checkpoint', type=Path)
    s.add_argument('--runs', type=int, default=5)
    s.add_argument('--threads', type=int, default=1)
    a = p.parse_args(argv)
    if a.cmd == 'time':
        print(json.dumps(time_chunks(a.checkpoint, runs=a.runs, threads=a.threads)), flush=True)
    elif a.cmd.endswith('-checkpoint'):
        # optional heavy dependency: torch
        import torch

        torch.set_num_threads(a.threads)
        cams = {c.split('=')[0]: tuple(int(x) for x in c.split('=')[1].split('x'))
                for c in a.camera}
        make = make_checkpoint if a.cmd == 'smolvla-checkpoint' else \
            diffusion_export.make_checkpoint
        make(a.out, reduced=a.reduced, cameras=cams or None)
    elif a.cmd == 'write':
        write(a.src, a.dst, a.repo_id)
    elif a.cmd == 'read':
        read(a.src, a.dst, a.repo_id)
    else:
        export_checkpoint(a.checkpoint, a.out, rtc=a.rtc)
    return 0


if __name__ == '__main__':
    sys.exit(main())
