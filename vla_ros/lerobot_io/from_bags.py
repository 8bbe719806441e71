"""
Recorded bags -> staged LeRobot episodes (robot side; no torch, no lerobot).

Frames come from the sync core exactly as ``vla-ros train`` sees them
(:func:`vla_ros.data.bag_replay.replay`), one per primary-camera image, from the first frame
that has joints and a command. Per frame: each camera's image at its recorded size (the last
good image where a camera missed the frame, with presence 0), joint positions / velocities,
the controller targets in force at the frame stamp (arm 6 + gripper 1, absolute; + the gripper
max effort [N] when any bag commands it, the joint's full effort before a bag's first
command), the PCM of the frame period, the flat taxels, the presence mask and the command as
the task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import dataclasses
from pathlib import Path

import numpy as np
from vla_ros import constants as C
from vla_ros.core.control.from_params import policy_config_from_file
from vla_ros.core.sync import SyncConfig
from vla_ros.core.sync.config import CameraConfig
from vla_ros.data import bagio
from vla_ros.data.bag_replay import bag_topics, Replay, replay
from vla_ros.errors import ConfigError, DatasetError
from vla_ros.harness.locate import config_file
from vla_ros.harness.sim_config import read_recorded_with
from vla_ros.lerobot_io.staging import IMAGE_PREFIX, StagingMeta, write_episode

ARM, GRIPPER = C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT
ACTION_NAMES = [*ARM, GRIPPER]
EFFORT_ACTION_NAMES = [*ACTION_NAMES, C.GRIPPER_EFFORT_ACTION]
MODALITY_KEYS = ('joints', 'audio', 'tactile', 'language')


def _sync_config(cameras: Sequence[str], fps: int, rate: int) -> SyncConfig:

    _, sync = policy_config_from_file(config_file(), overrides={'bundle': '-'})
    known = {c.name: c for c in sync.cameras}
    cams = tuple(dataclasses.replace(known[c], required=(i == 0)) if c in known
                 else CameraConfig(c, required=(i == 0))
                 for i, c in enumerate(cameras))
    return dataclasses.replace(sync, cameras=cams, primary_camera=cameras[0],
                               audio_window_s=1.0 / fps, audio_rate=rate)


def check_bag(bag: Path) -> list[str]:
    """Return the cameras of a bag (front first); DatasetError naming what a bag lacks."""
    topics = bag_topics(bag)
    cams = [c for c in (*C.DEFAULT_CAMERAS, *sorted(
        t.split('/')[2] for t in topics if t.startswith('/camera/') and t.endswith(
            '/image_raw'))) if bagio.bag_topic(C.camera_topic(c)) in topics]
    cams = list(dict.fromkeys(cams))
    missing = [] if cams else ['a camera (/camera/<name>/image_raw)']
    for t in (bagio.bag_topic(C.JOINT_STATES_TOPIC), bagio.bag_topic(C.COMMAND_TOPIC)):
        if t not in topics:
            missing.append(t)
    if not ({bagio.ARM_TRAJECTORY_TOPIC, bagio.ARM_COMMANDS_TOPIC} & set(topics)):
        missing.append(f'{bagio.ARM_TRAJECTORY_TOPIC} or {bagio.ARM_COMMANDS_TOPIC}')
    if missing:
        raise DatasetError(f'bag {bag} lacks {", ".join(missing)} (has {sorted(topics)})')
    return cams


def _camera_timing(bag: Path, cams: list[str]) -> tuple[float, dict[str, list[int]]]:
    """Return (primary camera rate [Hz], [H, W, 3] per camera) in one pass over the images."""
    stamps: list[int] = []
    shapes: dict[str, list[int]] = {}
    for topic, _, t, msg in bagio.read_messages(bag, [C.camera_topic(c) for c in cams]):
        cam = topic.split('/')[2]
        shapes.setdefault(cam, [int(msg.height), int(msg.width), 3])
        if cam == cams[0]:
            stamps.append(t)
    if len(stamps) < 3:
        raise DatasetError(f'bag {bag}: fewer than 3 {cams[0]} images')
    return 1e9 / float(np.median(np.diff(stamps))), shapes


def _episode(r: Replay, cams: list[str], meta: StagingMeta) -> dict[str, np.ndarray]:
    frames = [f for f in r.frames if f.command and f.joint_positions is not None]
    if not frames:
        raise DatasetError('no frame with joints and a command')
    joints = list(frames[0].joint_names)
    idx = [joints.index(j) for j in meta.joint_names]
    stamps = np.asarray([f.stamp_ns for f in frames], np.int64)
    q0 = np.asarray(frames[0].joint_positions)[idx]
    cols = [r.arm.at(stamps, q0[:6]), r.gripper.at(stamps, q0[6:7])]
    if C.GRIPPER_EFFORT_ACTION in meta.action_names:
        cols.append(r.effort.at(stamps, np.array([C.DEFAULT_GRIPPER_MAX_EFFORT])))
    action = np.concatenate(cols, 1)
    out: dict[str, np.ndarray] = {'stamp_ns': stamps, 'action': action.astype(np.float32)}
    last: dict[str, np.ndarray] = {}
    for c in cams:
        h, w, _ = meta.image_shape[c]
        imgs = np.zeros((len(frames), h, w, 3), np.uint8)
        for i, f in enumerate(frames):
            img = f.image(c)
            if img is not None and img.shape == (h, w, 3):
                last[c] = img
            if c in last:
                imgs[i] = last[c]
        out[IMAGE_PREFIX + c] = imgs
    out['state'] = np.stack([np.asarray(f.joint_positions)[idx] for f in frames]).astype(
        np.float32)
    out['velocity'] = np.stack([np.asarray(f.joint_velocities)[idx] for f in frames]).astype(
        np.float32)
    s, k = meta.audio_samples, meta.tactile_size
    audio = np.zeros((len(frames), s), np.float32)
    tactile = np.zeros((len(frames), k), np.float32)
    for i, f in enumerate(frames):
        if f.present.get('audio') and f.audio is not None and len(f.audio) >= s:
            audio[i] = f.audio[-s:]
        if f.present.get('tactile') and f.tactile is not None and f.tactile.size == k:
            tactile[i] = f.tactile
    out['audio'], out['tactile'] = audio, tactile
    out['presence'] = np.asarray([[float(f.present.get(m, False)) for m in meta.modality_keys]
                                  for f in frames], np.float32)
    out['task'] = np.asarray([f.command for f in frames], dtype=str)
    return out


def _first_tactile_layout(bag: Path) -> list[list]:
    for _, _, _, msg in bagio.read_messages(bag, [C.TACTILE_TOPIC]):
        return [[p.name, int(p.rows), int(p.cols) * int(p.channels)] for p in msg.pads]
    return []


def stage_bags(bags: Sequence[Path], out: Path, *, fps: int | None = None,
               audio_rate: int = C.DEFAULT_SAMPLE_RATE_HZ,
               progress: Callable[[int, Path, int], None] | None = None) -> StagingMeta:
    """
    Stage ``bags`` (one episode each) into ``out``; return the meta (also in out/meta.json).

    ``fps`` defaults to the first bag's primary-camera rate, rounded. Every bag must have the
    first bag's cameras and image sizes (ConfigError otherwise).
    """
    if not bags:
        raise DatasetError('no bags given')
    out.mkdir(parents=True, exist_ok=True)
    cams = check_bag(bags[0])
    rate, shapes = _camera_timing(bags[0], cams)
    fps = fps or max(1, int(round(rate)))
    effort = any(bagio.GRIPPER_EFFORT_COMMANDS_TOPIC in bag_topics(b) for b in bags)
    meta = StagingMeta(fps=fps, cameras=cams, image_shape=shapes, joint_names=list(ACTION_NAMES),
                       action_names=list(EFFORT_ACTION_NAMES if effort else ACTION_NAMES),
                       audio_rate=audio_rate, audio_samples=int(round(audio_rate / fps)),
                       tactile_pads=_first_tactile_layout(bags[0]),
                       modality_keys=[*(f'image/{c}' for c in cams), *MODALITY_KEYS])
    sync = _sync_config(cams, fps, audio_rate)
    for i, bag in enumerate(bags):
        got = cams if i == 0 else check_bag(bag)
        if got[:len(cams)] != cams:
            raise ConfigError(f'bag {bag} has cameras {got}, the first bag {cams}')
        ep = _episode(replay(bag, sync, cams[0]), cams, meta)
        write_episode(out, i, ep)
        meta.source.append(str(bag))
        if progress:
            progress(i, bag, len(ep['action']))
    meta.episodes = len(bags)
    meta.recorded_with = read_recorded_with(sorted({str(b.parent) for b in bags}))
    meta.write(out)
    return meta
