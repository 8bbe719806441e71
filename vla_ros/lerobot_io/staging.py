"""
The staging directory both Python environments of the bridge read and write (numpy + json).

``meta.json`` describes the dataset; ``episode_NNNNNN.npz`` holds one episode, T frames:

========================  ==========================  ==========================================
key                       array                       LeRobot feature
========================  ==========================  ==========================================
``image.<cam>``           uint8 [T, H, W, 3] RGB      ``observation.images.<cam>`` (video)
``state``                 float32 [T, J] rad / m      ``observation.state``
``velocity``              float32 [T, J]              ``observation.velocity``
``action``                float32 [T, A]              ``action`` (controller targets at t)
``audio``                 float32 [T, S] in [-1, 1]   ``observation.audio``: the S = rate / fps
                                                      PCM samples of the frame period
``tactile``               float32 [T, K]              ``observation.tactile`` (flat taxels)
``presence``              float32 [T, M] 0 / 1        ``observation.presence`` (modality keys)
``task``                  str [T]                     the frame's task (language command)
``stamp_ns``              int64 [T]                   source stamp (kept in staging only)
========================  ==========================  ==========================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
import json
from pathlib import Path

import numpy as np

META = 'meta.json'
SIDECAR = 'vla_ros.json'  # written into the LeRobotDataset's meta/: what LeRobot cannot say
IMAGE_PREFIX = 'image.'
FEATURE = {
    'state': 'observation.state', 'velocity': 'observation.velocity', 'action': 'action',
    'audio': 'observation.audio', 'tactile': 'observation.tactile',
    'presence': 'observation.presence',
}
CAMERA_FEATURE = 'observation.images.'


@dataclass
class StagingMeta:
    """
    What a staged dataset holds.

    :ivar fps: frame rate [Hz] (LeRobot's one rate; frame i is at i / fps).
    :ivar tactile_pads: (name, rows, cols) per pad, in taxel order.
    :ivar audio_rate: microphone sample rate [Hz]; audio_samples per frame = rate / fps.
    """

    fps: int
    cameras: list[str]
    image_shape: dict[str, list[int]]
    joint_names: list[str]
    action_names: list[str]
    robot_type: str = 'vla_ros_sim'
    audio_rate: int = 0
    audio_samples: int = 0
    tactile_pads: list[list] = field(default_factory=list)
    modality_keys: list[str] = field(default_factory=list)
    episodes: int = 0
    source: list[str] = field(default_factory=list)
    recorded_with: dict = field(default_factory=dict)  # mujoco_sim sensor params, if known

    @property
    def tactile_size(self) -> int:
        return int(sum(r * c for _, r, c in self.tactile_pads))

    def write(self, root: Path) -> None:
        (root / META).write_text(json.dumps(asdict(self), indent=1))

    @staticmethod
    def read(root: Path) -> StagingMeta:
        return StagingMeta(**json.loads((Path(root) / META).read_text()))


def episode_path(root: Path, index: int) -> Path:
    return Path(root) / f'episode_{index:06d}.npz'


def write_episode(root: Path, index: int, arrays: dict[str, np.ndarray]) -> Path:
    """Write one episode (keys of the module table)."""
    path = episode_path(root, index)
    np.savez(path, **arrays)
    return path


def read_episode(root: Path, index: int) -> dict[str, np.ndarray]:
    with np.load(episode_path(root, index), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def taxel_names(pads: list) -> list[str]:
    """``pad/r<row>c<col>`` per taxel, in layout order (the layout round-trips in the names)."""
    return [f'{n}/r{r}c{c}' for n, rows, cols in pads for r in range(rows) for c in range(cols)]


def pads_from_names(names: list[str]) -> list[list]:
    """Inverse of :func:`taxel_names`."""
    pads: dict[str, list[int]] = {}
    for n in names:
        pad, rc = n.rsplit('/', 1)
        r, c = (int(x) for x in rc[1:].split('c'))
        rows_cols = pads.setdefault(pad, [0, 0])
        rows_cols[0], rows_cols[1] = max(rows_cols[0], r + 1), max(rows_cols[1], c + 1)
    return [[p, rc[0], rc[1]] for p, rc in pads.items()]
