"""Counters and per-stream hot-path state of the multimodal synchronizer (ROS-free)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

NO_STAMP = -(1 << 62)  # "no stamp yet" for the newest-stamp bookkeeping [ns]
# Bounds of plausible sensor values: past them a finite value would overflow float32 in the
# policy (1e39 -> inf) or its first layers (x**2 of 1e20 overflows float32).
JOINT_MAX_ABS = 1e9       # rad, m, rad/s, m/s
TACTILE_MAX_ABS = 1e6     # N, kPa or raw counts
AUDIO_MAX_ABS = 8.0       # full scale is 1.0
AUDIO_MIN_RATE_HZ = 1000  # below this a chunk is not audio (and resampling it explodes)
# A stream stamped back in time by more than clock_jump_s is believed only when the node's
# clock went back too, or (no clock yet) after this many such messages in a row.
JUMP_CONFIRM = 3


@dataclass(slots=True)
class ModalityStats:
    """
    Counters of one modality key.

    ``rejected``: invalid input; ``dropped``: duplicate or too old; ``missing``: frames where it
    was absent.
    """

    received: int = 0
    accepted: int = 0
    rejected: int = 0
    dropped: int = 0
    out_of_order: int = 0
    present: int = 0
    missing: int = 0
    last_stamp_ns: int = 0


@dataclass
class SyncStats:
    """Synchronizer counters: per modality key, frames made / not made, reasons, clock jumps."""

    modalities: dict[str, ModalityStats] = field(default_factory=dict)
    frames: int = 0
    frames_dropped: int = 0
    clock_jumps: int = 0
    reasons: Counter = field(default_factory=Counter)


class StreamState:
    """
    One modality key on the hot path.

    Its buffer, newest stamp [ns] (for clock-jump detection), its counters (None when the key is
    not configured) and max age [ns].
    """

    __slots__ = ('key', 'buf', 'st', 'newest', 'max_age', 'behind')

    def __init__(self, key: str, buf, st: ModalityStats | None, max_age: int) -> None:
        self.key, self.buf, self.st, self.max_age = key, buf, st, max_age
        self.newest = NO_STAMP
        self.behind = 0  # messages in a row stamped far behind ``newest``


def within(x: np.ndarray, bound: float) -> bool:
    """
    Tell whether every value is finite and |value| <= bound (exact; NaN compares false).

    Fast path, one small BLAS call: ``x . x <= bound**2`` implies every |value| <= bound
    (and is false for NaN/Inf, without floating-point warnings). Otherwise max/min decide.
    """
    if x.size == 0:
        return True
    flat = x if x.ndim == 1 else x.reshape(-1)
    if flat.dot(flat) <= bound * bound:
        return True
    return bool(flat.max() <= bound and flat.min() >= -bound)
