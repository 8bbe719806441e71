"""
Bags -> (observation, action chunk) samples through the SAME sync core the node runs.

Each bag is replayed through the sync core (:func:`vla_ros.data.bag_replay.replay`); each
resulting :class:`Frame` is preprocessed with the runtime's own functions (``image_to_tensor``,
``log_mel``). Actions come from the recorded controller commands: the arm joint_trajectory
target and the gripper forward command in force at ``t + k * dt`` for k < H; a model with the
gripper effort action (``extra_actions``, :func:`has_effort`) gets the max effort command in
force too (the joint's effort limit before the first one, as after a reset).

Samples are cached per bag as ``.npz`` (float16 images and mels) under ``cache_dir``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path

import numpy as np
from vla_ros import constants as C
from vla_ros.core.control.from_params import policy_config_from_file
from vla_ros.core.features.audio import log_mel
from vla_ros.core.features.image import image_to_tensor, IMAGENET_MEAN, IMAGENET_STD
from vla_ros.core.sync import SyncConfig
from vla_ros.data import bagio
from vla_ros.data.bag_replay import bag_topics, replay, Timeline
from vla_ros.errors import ConfigError, VlaRosError
from vla_ros.harness.locate import config_file
from vla_ros.model.config import ModelConfig

LABELS_VERSION = 2  # bump when the action labelling changes (invalidates sample caches)
ONSET_TOL = 1e-3   # [rad] a command this far from the start pose is the first motion
EPISODE_INDEX = 'episodes.jsonl'   # the recorder's per-directory episode index
TASK_KINDS_KEY = 'task_kinds'     # bundle provenance: the task kinds of the training bags
# gripper max effort in force before a recording's first effort command [N] (reset's value)
DEFAULT_GRIPPER_EFFORT = C.DEFAULT_GRIPPER_MAX_EFFORT


def has_effort(bags: list[Path]) -> bool:
    """Tell whether any bag recorded gripper max effort commands (from bag metadata)."""
    return any(bagio.GRIPPER_EFFORT_COMMANDS_TOPIC in bag_topics(b) for b in bags)


def sync_config_for(cfg: ModelConfig, params_file: str | Path | None = None) -> SyncConfig:
    """
    Return the ``vla_policy`` sync settings of ``params_file``, narrowed to what the model reads.

    ``params_file`` defaults to config/sim.yaml, what the node runs with. Narrowed to the
    model's cameras (in the file's order and ``required`` flags; ConfigError for a camera the
    file does not configure), its joints and its audio window.
    """
    _, sync = policy_config_from_file(params_file or config_file(), overrides={'bundle': '-'})
    known = {c.name: c for c in sync.cameras}
    missing = [c for c in cfg.cameras if c not in known]
    if missing:
        raise ConfigError(f'model cameras {missing} are not configured in '
                          f'{params_file or "config/sim.yaml"} (cameras {sorted(known)})')
    cams = tuple(known[c] for c in known if c in cfg.cameras)
    return dataclasses.replace(sync, cameras=cams, primary_camera='',
                               audio_window_s=cfg.mel.window_s,
                               audio_rate=cfg.mel.sample_rate, joint_names=cfg.joint_names)


@dataclass
class Samples:
    """Stacked samples of one or more bags (N = samples)."""

    images: np.ndarray      # N x cams x 3 x h x w float16 (image_to_tensor output)
    mel: np.ndarray         # N x n_mels x frames float16
    tactile: np.ndarray     # N x taxels float32 [N]
    positions: np.ndarray   # N x J float32 (raw, rad / m)
    velocities: np.ndarray  # N x J float32
    presence: np.ndarray    # N x M float32 (cfg.modality_keys order)
    actions: np.ndarray     # N x H x A float32 (raw)
    commands: list[str]
    episode: np.ndarray     # N int32

    def __len__(self) -> int:
        return len(self.actions)

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        cmds: list[str] = []
        eps = []
        for i, p in enumerate(parts):
            cmds += p.commands
            eps.append(np.full(len(p), i, np.int32))
        cat = lambda k: np.concatenate([getattr(p, k) for p in parts])  # noqa: E731
        return Samples(cat('images'), cat('mel'), cat('tactile'), cat('positions'),
                       cat('velocities'), cat('presence'), cat('actions'), cmds,
                       np.concatenate(eps))


def bag_samples(bag: str | Path, cfg: ModelConfig) -> Samples:
    """Replay one bag through the sync core; one sample per assembled frame."""
    r = replay(bag, sync_config_for(cfg), cfg.cameras[0])
    return _to_samples(r.frames, r.arm, r.gripper, cfg, r.effort)


def _to_samples(frames, arm: Timeline, grip: Timeline, cfg: ModelConfig,
                effort: Timeline | None = None) -> Samples:
    frames = [f for f in frames if f.command and f.joint_positions is not None]
    h, w = cfg.image_size
    n, j = len(frames), len(cfg.joint_names)
    keys = cfg.modality_keys
    images = np.zeros((n, len(cfg.cameras), 3, h, w), np.float16)
    mel = np.zeros((n, cfg.mel.n_mels, cfg.mel.n_frames), np.float16)
    tactile = np.zeros((n, cfg.tactile_dim), np.float32)
    pos = np.zeros((n, j), np.float32)
    vel = np.zeros((n, j), np.float32)
    presence = np.zeros((n, len(keys)), np.float32)
    actions = np.zeros((n, cfg.horizon, cfg.action_dim), np.float32)
    step = int(round(cfg.dt * 1e9))
    onset = arm.onset(np.asarray(frames[0].joint_positions)[:6], ONSET_TOL) if frames else None
    for i, f in enumerate(frames):
        for c, cam in enumerate(cfg.cameras):
            img = f.image(cam)
            if img is not None:
                images[i, c] = image_to_tensor(img, size=(h, w), mean=IMAGENET_MEAN,
                                               std=IMAGENET_STD)
        if cfg.use_audio and f.audio is not None and f.present.get('audio'):
            mel[i] = log_mel(np.asarray(f.audio, np.float32), cfg.mel)
        if f.tactile is not None and f.present.get('tactile'):
            tactile[i] = f.tactile
        pos[i], vel[i] = f.joint_positions, f.joint_velocities
        presence[i] = [float(f.present.get(k, False)) for k in keys]
        # Frames at rest before the demonstrator's first motion (its reaction time) are
        # labelled with the chunk that starts the motion: a policy that has been told what to
        # do should start now, not learn to wait an unobservable delay.
        t0 = onset if onset is not None and f.stamp_ns < onset else f.stamp_ns
        ts = t0 + step * np.arange(cfg.horizon)
        q = np.asarray(f.joint_positions)
        actions[i, :, :6] = arm.at(ts, q[:6])
        actions[i, :, 6] = grip.at(ts, q[6:7])[:, 0]
        if cfg.extra_actions:  # only the gripper effort: ModelConfig checks
            actions[i, :, 7] = (effort or Timeline()).at(
                ts, np.array([DEFAULT_GRIPPER_EFFORT]))[:, 0]
    return Samples(images, mel, tactile, pos, vel, presence, actions,
                   [f.command for f in frames], np.zeros(n, np.int32))


def config_key(cfg: ModelConfig) -> str:
    """Cache key of everything that shapes the samples."""
    d = {k: v for k, v in cfg.to_dict().items()
         if k in ('cameras', 'image_size', 'mel', 'use_audio', 'tactile_pads', 'joint_names',
                  'horizon', 'dt')}
    d['labels'] = LABELS_VERSION
    if cfg.extra_actions:  # keys of configs without them stay what they were
        d['extra_actions'] = list(cfg.extra_actions)
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:10]


def load_bags(bags: list[Path], cfg: ModelConfig, cache_dir: str | Path | None = None,
              progress=None) -> Samples:
    """Sample of many bags, cached per bag as npz (keyed by bag name and config)."""
    parts = []
    key = config_key(cfg)
    cache = Path(cache_dir) if cache_dir else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    for bag in bags:
        f = cache / f'{bag.name}.{key}.npz' if cache else None
        if f is not None and f.exists():
            z = np.load(f, allow_pickle=False)
            s = Samples(z['images'], z['mel'], z['tactile'], z['positions'], z['velocities'],
                        z['presence'], z['actions'], list(z['commands']),
                        np.zeros(len(z['actions']), np.int32))
        else:
            s = bag_samples(bag, cfg)
            if f is not None:
                np.savez(f, images=s.images, mel=s.mel, tactile=s.tactile,
                         positions=s.positions, velocities=s.velocities, presence=s.presence,
                         actions=s.actions, commands=np.asarray(s.commands, dtype=str))
        if len(s):
            parts.append(s)
        if progress:
            progress(bag, len(s))
    if not parts:
        raise VlaRosError(f'no samples in {len(bags)} bags (need images, joints and a '
                          '/vla/command)')
    return Samples.concat(parts)


def find_bags(paths: list[str | Path]) -> list[Path]:
    """Bag directories (with metadata.yaml) at or directly under each path."""
    out: list[Path] = []
    for p in map(Path, paths):
        if (p / 'metadata.yaml').exists():
            out.append(p)
        elif p.is_dir():
            out += sorted(q for q in p.iterdir() if (q / 'metadata.yaml').exists())
    return out


def recorded_kinds(bags: list[Path]) -> list[str]:
    """
    Task kinds of ``bags`` per the ``episodes.jsonl`` index beside them (``vla-ros record``).

    Sorted; empty when no bag's directory has an index (bags from elsewhere).
    """
    kinds: set[str] = set()
    for index in {b.parent / EPISODE_INDEX for b in bags}:
        if index.exists():
            names = {b.name for b in bags if b.parent == index.parent}
            for line in index.read_text().splitlines():
                row = json.loads(line) if line.strip() else {}
                if row.get('bag') in names and row.get('kind'):
                    kinds.add(str(row['kind']))
    return sorted(kinds)
