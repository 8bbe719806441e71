"""
The synchronized multimodal observation handed from the sync core to the policy runtime.

ROS-free: built by :mod:`vla_ros.core.sync` from converted messages (or from a recorded bag
offline), consumed by :mod:`vla_ros.core.runtime`. Times are integer nanoseconds on the
node's clock (sim time or wall time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from vla_ros.constants import image_key, Modality


@dataclass
class TactileLayout:
    """Pads of a tactile reading: names and (rows, cols, channels) each, in value order."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, int, int], ...]
    unit: str = 'N'

    @property
    def size(self) -> int:
        """Total number of values (sum of rows * cols * channels)."""
        return int(sum(r * c * ch for r, c, ch in self.shapes))


@dataclass
class Frame:
    """
    One time-aligned observation. Absent modalities have ``present[key] == False``.

    :ivar stamp_ns: frame time [ns] (the trigger instant).
    :ivar images: camera name -> HxWx3 uint8 RGB array (a view where the encoding allowed).
    :ivar audio: mono float32 window ending at ``stamp_ns``, at ``audio_rate`` [Hz], in [-1, 1].
    :ivar audio_gap_fraction: share of the audio window that was zero-filled, [0, 1].
    :ivar tactile: float32 values in layout order (see ``tactile_layout``).
    :ivar joint_names: joint order of ``joint_positions`` / ``joint_velocities``.
    :ivar joint_positions: [J] float64, interpolated to ``stamp_ns`` [rad or m].
    :ivar joint_velocities: [J] float64 [rad/s or m/s] (zeros when the driver sends none).
    :ivar command: current language command ("" = none).
    :ivar present: modality key (``image/<cam>``, ``audio``, ...) -> present and fresh.
    :ivar source_stamps: modality key -> stamp [ns] of the sample used (0 when absent).
    :ivar history: past frames for bundles with a ``history`` section, oldest first, at
        ``stamp_ns - i * spacing_s`` (assembled by the sync core from its buffers; each has
        its own ``present``); empty when none were asked for.
    """

    stamp_ns: int
    images: dict[str, np.ndarray] = field(default_factory=dict)
    audio: np.ndarray | None = None
    audio_rate: int = 16000
    audio_gap_fraction: float = 0.0
    tactile: np.ndarray | None = None
    tactile_layout: TactileLayout | None = None
    joint_names: tuple[str, ...] = ()
    joint_positions: np.ndarray | None = None
    joint_velocities: np.ndarray | None = None
    command: str = ''
    command_stamp_ns: int = 0
    present: dict[str, bool] = field(default_factory=dict)
    source_stamps: dict[str, int] = field(default_factory=dict)
    history: tuple[Frame, ...] = ()

    def is_present(self, modality: str | Modality) -> bool:
        """Presence of a modality key; ``Modality.IMAGE`` means every camera present."""
        key = modality.value if isinstance(modality, Modality) else modality
        if key == Modality.IMAGE.value:
            cams = [k for k in self.present if k.startswith(key + '/')]
            return bool(cams) and all(self.present[k] for k in cams)
        return self.present.get(key, False)

    def image(self, camera: str) -> np.ndarray | None:
        """Return the image of one camera, or None when absent."""
        return self.images.get(camera) if self.present.get(image_key(camera)) else None
