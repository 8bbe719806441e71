"""
Realistic sensor faults for robustness evaluations (ROS-free, seeded).

Applied to the streams of a lockstep rollout (:func:`vla_ros.eval.sim_rollout.rollout`)
before the sync core sees them, so the node's own handling (max-age expiry -> presence 0,
required-modality holds) decides what the policy gets:

- ``drop_frames``: each camera image is lost with probability ``p`` (a flaky USB link);
- ``image_noise``: Gaussian pixel noise of ``sigma`` grey levels (a dark, high-gain sensor);
- ``audio_clip``: the waveform hard-clipped at ``level`` (a microphone with too much gain:
  the sim's background is ~0.01, a beep peaks at ~0.4);
- ``taxels_zero``: every taxel reads 0 (a dead tactile board still publishing);
- ``stall_<stream>``: the ``audio`` / ``tactile`` stream stops at ``at_s`` sim seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import enum

import numpy as np

from vla_ros.errors import ConfigError


class CorruptionKind(str, enum.Enum):
    """The fault types of :class:`Corruption`."""

    DROP_FRAMES = 'drop_frames'
    IMAGE_NOISE = 'image_noise'
    AUDIO_CLIP = 'audio_clip'
    TAXELS_ZERO = 'taxels_zero'
    STALL_AUDIO = 'stall_audio'
    STALL_TACTILE = 'stall_tactile'


DEFAULTS: dict[CorruptionKind, dict[str, float]] = {
    CorruptionKind.DROP_FRAMES: {'p': 0.5},
    CorruptionKind.IMAGE_NOISE: {'sigma': 25.0},
    CorruptionKind.AUDIO_CLIP: {'level': 0.1},
    CorruptionKind.TAXELS_ZERO: {},
    CorruptionKind.STALL_AUDIO: {'at_s': 1.5},
    CorruptionKind.STALL_TACTILE: {'at_s': 1.5},
}


@dataclass
class Corruption:
    """One fault, seeded per episode; ``None`` from a method means the message is lost."""

    kind: CorruptionKind
    seed: int = 0
    params: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            self.kind = CorruptionKind(self.kind)
        except ValueError:
            raise ConfigError(f'corruption must be one of {[k.value for k in CorruptionKind]},'
                              f' got {self.kind!r}') from None
        unknown = set(self.params) - set(DEFAULTS[self.kind])
        if unknown:
            raise ConfigError(f'{self.kind.value}: unknown parameters {sorted(unknown)}')
        self.params = {**DEFAULTS[self.kind], **self.params}
        self._rng = np.random.default_rng(self.seed)

    def image(self, image: np.ndarray, t: float) -> np.ndarray | None:
        """Return the HxWx3 uint8 image as received, or None when it is lost."""
        k = self.kind
        if k is CorruptionKind.DROP_FRAMES:
            return None if self._rng.random() < self.params['p'] else image
        if k is CorruptionKind.IMAGE_NOISE:
            noisy = image + self._rng.normal(0.0, self.params['sigma'], image.shape)
            return np.clip(noisy, 0, 255).astype(np.uint8)
        return image

    def audio(self, samples: np.ndarray, t: float) -> np.ndarray | None:
        """Return the float32 waveform as received, or None when the stream has stalled."""
        k = self.kind
        if k is CorruptionKind.AUDIO_CLIP:
            lvl = self.params['level']
            return np.clip(samples, -lvl, lvl).astype(np.float32)
        if k is CorruptionKind.STALL_AUDIO and t >= self.params['at_s']:
            return None
        return samples

    def tactile(self, values: np.ndarray, t: float) -> np.ndarray | None:
        """Return the taxel values as received, or None when the stream has stalled."""
        k = self.kind
        if k is CorruptionKind.TAXELS_ZERO:
            return np.zeros_like(values)
        if k is CorruptionKind.STALL_TACTILE and t >= self.params['at_s']:
            return None
        return values
