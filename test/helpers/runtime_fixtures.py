"""Frames for runtime tests (shared by test_runtime.py and test_bundle.py)."""

from __future__ import annotations

import numpy as np
from vla_ros.constants import DEFAULT_ARM_JOINTS, DEFAULT_GRIPPER_JOINT
from vla_ros.core.frame import Frame, TactileLayout

JOINTS = DEFAULT_ARM_JOINTS + (DEFAULT_GRIPPER_JOINT,)


def full_frame(seed: int = 0, *, command: str = 'pick up the red cube', **present) -> Frame:
    """Every modality present (override with e.g. ``audio=False``)."""
    rng = np.random.default_rng(seed)
    pres = {'image/front': True, 'audio': True, 'tactile': True, 'joints': True}
    pres.update({k.replace('image_', 'image/'): v for k, v in present.items()})
    return Frame(
        stamp_ns=1_000_000_000 + seed,
        images={'front': rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)},
        audio=rng.uniform(-0.3, 0.3, 16000).astype(np.float32), audio_rate=16000,
        tactile=rng.uniform(0, 2, 32).astype(np.float32),
        tactile_layout=TactileLayout(('left_finger', 'right_finger'), ((4, 4, 1), (4, 4, 1))),
        joint_names=JOINTS, joint_positions=rng.uniform(-1, 1, 7),
        joint_velocities=rng.uniform(-0.1, 0.1, 7), command=command, present=pres)
